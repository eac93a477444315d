"""The plugin manager: finds packs through entry points, checks them, isolates the broken ones.

Built-in plugins go through exactly the same path as installed packs. A pack that fails to
import, declares an incompatible plugin-API range or implements an unknown hook is skipped and
recorded (``flowtime-sim plugins`` and ``doctor`` show why); with ``strict`` the first such
problem raises :class:`~flowtime_sim.errors.PluginError`.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import os
import sys
import tomllib
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path
from typing import Any

import pluggy

from flowtime_sim import hookspecs
from flowtime_sim.dispatch import Collected, GuardedPluginManager, HookResult, describe
from flowtime_sim.errors import PluginError
from flowtime_sim.markers import PLUGIN_API_VERSION, PROJECT
from flowtime_sim.types import PackInfo

ENTRY_POINT_GROUP = "flowtime_sim"
TEMPLATE_PATHS_PLUGIN = "templates-dir"
PACK_MANIFEST = "flowtime_pack.toml"

#: The host's own plugins, registered through the same code path as any pack.
BUILTIN_PLUGINS: tuple[tuple[str, str], ...] = (
    ("builtin-parameters", "flowtime_sim.builtin.parameters"),
    ("builtin-jinja2", "flowtime_sim.builtin.jinja"),
    ("builtin-upstream", "flowtime_sim.builtin.upstream"),
    ("builtin-preview", "flowtime_sim.builtin.preview"),
    ("builtin-file-storage", "flowtime_sim.builtin.file_storage"),
    ("builtin-sqlite-index", "flowtime_sim.builtin.sqlite_index"),
    ("builtin-postgresql-index", "flowtime_sim.builtin.postgres_index"),
)


@dataclass(frozen=True, slots=True)
class PluginRecord:
    """What happened to one plugin: ``status`` is loaded, failed, refused or disabled."""

    name: str
    dist: PackInfo | None
    status: str
    detail: str = ""
    static: bool = False  # templates read from flowtime_pack.toml without importing the pack

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "distribution": self.dist.as_dict() if self.dist else None,
            "status": self.status,
            "detail": self.detail,
            "imported": not self.static,
        }


class PluginHost:
    """A pluggy manager plus the record of every plugin it tried to load.

    Every hook is called through :meth:`collect` or :meth:`first`: each implementation runs
    guarded (see :mod:`flowtime_sim.dispatch`) and each result names its plugin.
    """

    def __init__(self, *, strict: bool = False) -> None:
        self.pm = GuardedPluginManager(PROJECT)
        self.pm.add_hookspecs(hookspecs)
        self.strict = strict
        self.records: list[PluginRecord] = []
        self.dists: dict[str, PackInfo | None] = {}
        if os.environ.get("FLOWTIME_SIM_TRACE_PLUGINS"):
            # Looked up at each write: stderr may be replaced after the host is built.
            self.pm.trace.root.setwriter(lambda text: sys.stderr.write(text))
            self.pm.enable_tracing()

    def collect(self, hook: str, **kwargs: object) -> Collected[object]:
        """Call a collect-all hook; a failing plugin is recorded in ``failures``, or raised
        in strict mode."""
        collected = self.pm.collect(hook, **kwargs)
        if self.strict and collected.failures:
            raise collected.failures[0]
        return collected

    def first(self, hook: str, **kwargs: object) -> HookResult[object] | None:
        """Call a firstresult hook: the first non-None result with its plugin, or ``None``."""
        return self.pm.first(hook, **kwargs)

    def hook_names(self) -> list[str]:
        """Every hook of the plugin contract."""
        return sorted(n for n in vars(hookspecs) if n.startswith("flowtime_"))

    def plugins_implementing(self, hook: str) -> list[str]:
        return [i.plugin_name for i in getattr(self.pm.hook, hook).get_hookimpls()]

    def add_template_paths(self, paths: Iterable[Path]) -> None:
        """Register FlowTime-Sim template files and folders (``--templates-dir`` and
        ``--template-file``) as the plugin ``templates-dir``."""
        from flowtime_sim.builtin.upstream import UpstreamTemplates

        self.register(UpstreamTemplates(list(paths)), TEMPLATE_PATHS_PLUGIN)

    def register(
        self, plugin: object, name: str, dist: PackInfo | None = None, *, static: bool = False
    ) -> None:
        """Register ``plugin`` and check its hooks; a bad plugin is unregistered and recorded."""
        if self.pm.has_plugin(name):
            other = self.dists.get(name)
            by = f"{other.name} {other.version}" if other else "a built-in plugin"
            self._fail(
                name,
                dist,
                "failed",
                f"plugin name {name!r} is already taken by {by}; "
                "uninstall one of the two distributions",
            )
            return
        try:
            # pluggy warns while registering an implementation of a deprecated hook; capture
            # it so that "-W error" cannot leave the plugin half registered
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                self.pm.register(plugin, name=name)
        except (pluggy.PluginValidationError, ValueError) as exc:
            reason = "; ".join(str(exc).splitlines())  # pluggy's message spans lines
            self._fail(name, dist, "failed", f"invalid hook implementation: {reason}")
            return
        try:
            self.pm.check_pending()
        except pluggy.PluginValidationError:
            unknown = sorted(
                c.name for c in self.pm.get_hookcallers(plugin) or [] if not c.has_spec()
            )
            self.pm.unregister(name=name)
            known = self.hook_names()
            self._fail(
                name,
                dist,
                "failed",
                f"unknown hook(s) {', '.join(unknown)}; hook "
                f"names must be one of {', '.join(known)}",
            )
            return
        self.dists[name] = dist
        notes = "; ".join(str(w.message) for w in caught)
        self._record(PluginRecord(name, dist, "loaded", notes, static=static))
        for w in caught:  # shown as usual, and recorded for 'plugins' and 'doctor' either way
            with contextlib.suppress(Warning):
                warnings.warn(w.message, w.category, stacklevel=2)

    def load_module(
        self, name: str, loader: Any, dist: PackInfo | None, api: object = None
    ) -> None:
        """Import a plugin through ``loader()`` (an entry point or a module path) and register it.

        ``api`` is the plugin-API range from the pack's ``flowtime_pack.toml``: when given, it is
        checked before the pack's code runs; otherwise the module's ``FLOWTIME_SIM_PLUGIN_API``.
        """
        if api is not None and not self._api_ok(name, dist, api):
            return
        try:
            plugin = loader()
        # Any import-time failure of a pack must not stop the host: a pack that calls
        # sys.exit() or raises KeyboardInterrupt while importing is a broken pack like any other.
        except (Exception, SystemExit, KeyboardInterrupt) as exc:
            self._fail(name, dist, "failed", f"import failed: {describe(exc)}")
            return
        if api is None and not self._api_ok(
            name, dist, getattr(plugin, "FLOWTIME_SIM_PLUGIN_API", None)
        ):
            return
        self.register(plugin, name, dist)

    def _api_ok(self, name: str, dist: PackInfo | None, api: object) -> bool:
        from packaging.specifiers import InvalidSpecifier, SpecifierSet

        what = f"pack {name!r}" + (f" ({dist.name} {dist.version})" if dist else "")
        if not isinstance(api, str):
            self._fail(
                name,
                dist,
                "refused",
                f"{what} declares no plugin-API range; add "
                'plugin_api = ">=1,<2" to flowtime_pack.toml or '
                'FLOWTIME_SIM_PLUGIN_API = ">=1,<2" to the module',
            )
            return False
        try:
            ok = SpecifierSet(api).contains(PLUGIN_API_VERSION, prereleases=True)
        except InvalidSpecifier:
            self._fail(
                name,
                dist,
                "refused",
                f"{what} declares an invalid plugin-API range "
                f'{api!r}; use a PEP 440 range such as ">=1,<2"',
            )
            return False
        if not ok:
            self._fail(
                name,
                dist,
                "refused",
                f"{what} supports plugin API {api} but this host "
                f"provides {PLUGIN_API_VERSION}; install a version of the pack that "
                "supports it, or a matching flowtime-sim",
            )
        return ok

    def _record(self, record: PluginRecord) -> None:
        self.records.append(record)
        where = f"({record.dist.name} {record.dist.version})" if record.dist else "(built in)"
        details = [record.detail] if record.detail else []
        self.pm.trace.root.get("plugin")(record.name, where, record.status, *details)

    def _fail(self, name: str, dist: PackInfo | None, status: str, detail: str) -> None:
        self._record(PluginRecord(name, dist, status, detail))
        if self.strict:
            raise PluginError(f"plugin {name!r} {status}: {detail}", pack=name)

    def load_entry_point(self, ep: EntryPoint, disabled: set[str]) -> None:
        dist = PackInfo(ep.dist.name, ep.dist.version) if ep.dist else None
        if ep.name in disabled:
            self._record(
                PluginRecord(ep.name, dist, "disabled", "listed in FLOWTIME_SIM_DISABLE_PLUGINS")
            )
            return
        try:
            manifest = _pack_manifest(ep)
        except ValueError as exc:
            self._fail(ep.name, dist, "failed", str(exc))
            return
        if manifest is None or manifest[1].get("python"):
            # The pack implements hooks in Python: import it.
            self.load_module(
                ep.name, ep.load, dist, api=manifest[1].get("plugin_api") if manifest else None
            )
            return
        path, data = manifest
        if not self._api_ok(ep.name, dist, data.get("plugin_api")):
            return
        from flowtime_sim.builtin.static_pack import StaticPack

        self.register(StaticPack(path, data, ep.module), ep.name, dist, static=True)

    def failures(self) -> list[PluginRecord]:
        return [r for r in self.records if r.status in {"failed", "refused"}]


def _pack_manifest(ep: EntryPoint) -> tuple[Path, dict[str, Any]] | None:
    """Read ``flowtime_pack.toml`` beside a pack's ``__init__`` without importing the pack.

    ``None`` when there is none; :class:`ValueError` when it cannot be read.
    """
    if ep.attr or "." in ep.module:
        return None
    try:
        spec = importlib.util.find_spec(ep.module)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations)), PACK_MANIFEST)
    if not path.is_file():
        return None
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ValueError(f"cannot read {path}: {exc}") from None
    return path.parent, data


def disabled_plugins() -> set[str]:
    raw = os.environ.get("FLOWTIME_SIM_DISABLE_PLUGINS", "")
    return {part.strip() for part in raw.split(",") if part.strip()}


def create_plugin_host(
    *,
    strict: bool | None = None,
    load_entry_points: bool = True,
    plugins: Iterable[tuple[str, object]] = (),
) -> PluginHost:
    """Build a fresh host: built-ins, then installed packs, then ``plugins`` given here."""
    if strict is None:
        strict = os.environ.get("FLOWTIME_SIM_STRICT", "") not in {"", "0", "false"}
    host = PluginHost(strict=strict)
    disabled = disabled_plugins()
    for name, module in BUILTIN_PLUGINS:
        if name in disabled:
            host._record(
                PluginRecord(name, None, "disabled", "listed in FLOWTIME_SIM_DISABLE_PLUGINS")
            )
            continue
        host.load_module(name, lambda m=module: importlib.import_module(m), None)
    if load_entry_points:
        for ep in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
            host.load_entry_point(ep, disabled)
    for name, plugin in plugins:
        host.register(plugin, name)
    return host


@cache
def get_plugin_host() -> PluginHost:
    """The process-wide host used by the CLI and the service (built on first use)."""
    return create_plugin_host()
