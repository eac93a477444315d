"""flowtime-sim: template packs to versioned FlowTime models and runs.

The public API. Heavy parts (Jinja2, jsonschema, NumPy) load only when used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flowtime_sim.markers import PLUGIN_API_VERSION, hookimpl, hookspec

__version__ = "0.1.0"

__all__ = [
    "PLUGIN_API_VERSION",
    "ConflictError",
    "DamagedArtifactError",
    "FlowtimeError",
    "IntegrityError",
    "InvalidModelError",
    "ModelError",
    "NotFoundError",
    "PackInfo",
    "ParameterError",
    "ParameterSources",
    "PluginError",
    "Preview",
    "ResolvedParameters",
    "StorageBackend",
    "Template",
    "TemplateError",
    "TemplateManifest",
    "UnavailableError",
    "UserError",
    "__version__",
    "hookimpl",
    "hookspec",
    "templates_from_package",
]

_LAZY = {
    **{
        name: "flowtime_sim.errors"
        for name in (
            "ConflictError",
            "DamagedArtifactError",
            "FlowtimeError",
            "IntegrityError",
            "InvalidModelError",
            "ModelError",
            "NotFoundError",
            "ParameterError",
            "PluginError",
            "TemplateError",
            "UnavailableError",
            "UserError",
        )
    },
    "ParameterSources": "flowtime_sim.types",
    "PackInfo": "flowtime_sim.types",
    "Preview": "flowtime_sim.types",
    "ResolvedParameters": "flowtime_sim.types",
    "StorageBackend": "flowtime_sim.types",
    "Template": "flowtime_sim.types",
    "TemplateManifest": "flowtime_sim.types",
    "templates_from_package": "flowtime_sim.manifests",
}

if TYPE_CHECKING:
    from flowtime_sim.errors import (
        ConflictError,
        DamagedArtifactError,
        FlowtimeError,
        IntegrityError,
        InvalidModelError,
        ModelError,
        NotFoundError,
        ParameterError,
        PluginError,
        TemplateError,
        UnavailableError,
        UserError,
    )
    from flowtime_sim.manifests import templates_from_package
    from flowtime_sim.types import (
        PackInfo,
        ParameterSources,
        Preview,
        ResolvedParameters,
        StorageBackend,
        Template,
        TemplateManifest,
    )


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'flowtime_sim' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)
