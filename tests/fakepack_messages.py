"""What the host records for each broken fake pack in ``tests/fixtures/fakepacks``: shared by
the plugin-manager tests and the CLI tests that show the same records."""

from __future__ import annotations

from flowtime_sim import hookspecs

KNOWN_HOOKS = ", ".join(sorted(n for n in vars(hookspecs) if n.startswith("flowtime_")))
FUTURE = (
    "supports plugin API >=2,<3 but this host provides 1.0; install a version of the "
    "pack that supports it, or a matching flowtime-sim"
)
NO_RANGE = (
    'declares no plugin-API range; add plugin_api = ">=1,<2" to flowtime_pack.toml '
    'or FLOWTIME_SIM_PLUGIN_API = ">=1,<2" to the module'
)

# package in tests/fixtures/fakepacks -> (status, detail)
BROKEN = {
    "broken_import": ("failed", "import failed: RuntimeError: broken_import needs a licence key"),
    "exit_import": ("failed", "import failed: SystemExit: 3"),
    "interrupt_import": ("failed", "import failed: KeyboardInterrupt"),
    "misspelled_hook": (
        "failed",
        f"unknown hook(s) flowtime_templatez; hook names must be one of {KNOWN_HOOKS}",
    ),
    "future_api_static": (
        "refused",
        f"pack 'future_api_static' (flowtime-pack-future-api-static 1.0) {FUTURE}",
    ),
    "future_api_module": (
        "refused",
        f"pack 'future_api_module' (flowtime-pack-future-api-module 1.0) {FUTURE}",
    ),
    "future_api_python": (
        "refused",
        f"pack 'future_api_python' (flowtime-pack-future-api-python 1.0) {FUTURE}",
    ),
    "no_api": ("refused", f"pack 'no_api' (flowtime-pack-no-api 1.0) {NO_RANGE}"),
    "no_api_static": (
        "refused",
        f"pack 'no_api_static' (flowtime-pack-no-api-static 1.0) {NO_RANGE}",
    ),
}
