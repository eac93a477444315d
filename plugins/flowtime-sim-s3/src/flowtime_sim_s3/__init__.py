"""S3-compatible object storage for flowtime-sim artifact roots: ``s3://bucket/prefix``.

Installed, it adds the ``s3`` scheme to every command and endpoint that takes a root::

    flowtime-sim new --template checkout --out s3://team-bucket/flowtime
    flowtime-sim --storage-option endpoint_url=http://127.0.0.1:9000 list --root s3://b/p
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from flowtime_sim.markers import hookimpl
from flowtime_sim.types import StorageBackend

if TYPE_CHECKING:
    from flowtime_sim_s3.location import OPTIONS, S3Root, parse_root
    from flowtime_sim_s3.storage import S3Storage

__version__ = "0.1.0"
FLOWTIME_SIM_PLUGIN_API = ">=1,<2"

__all__ = ["FLOWTIME_SIM_PLUGIN_API", "OPTIONS", "S3Root", "S3Storage", "parse_root"]


_LAZY = {
    "OPTIONS": "location",
    "S3Root": "location",
    "parse_root": "location",
    "S3Storage": "storage",
}


def __getattr__(name: str) -> Any:
    # boto3 and the backend load only when an s3:// root is opened: every command starts the
    # host, and most never touch S3
    if name not in _LAZY:
        raise AttributeError(f"module 'flowtime_sim_s3' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(f"flowtime_sim_s3.{_LAZY[name]}"), name)


def _open(url: str, options: Mapping[str, str]) -> Any:
    from flowtime_sim_s3.storage import S3Storage

    return S3Storage(url, options)


@hookimpl
def flowtime_storage_backends() -> list[StorageBackend]:
    return [
        StorageBackend(
            scheme="s3", open=_open, description="an S3-compatible bucket (s3://bucket/prefix)"
        )
    ]
