"""S3-compatible object storage for flowtime-sim artifact roots: ``s3://bucket/prefix``.

Installed, it adds the ``s3`` scheme to every command and endpoint that takes a root::

    flowtime-sim new --template checkout --out s3://team-bucket/flowtime
    flowtime-sim --storage-option endpoint_url=http://127.0.0.1:9000 list --root s3://b/p
"""

from __future__ import annotations

from flowtime_sim.markers import hookimpl
from flowtime_sim.types import StorageBackend

from flowtime_sim_s3.location import OPTIONS, S3Root, parse_root
from flowtime_sim_s3.storage import S3Storage

__version__ = "0.1.0"
FLOWTIME_SIM_PLUGIN_API = ">=1,<2"

__all__ = ["FLOWTIME_SIM_PLUGIN_API", "OPTIONS", "S3Root", "S3Storage", "parse_root"]


@hookimpl
def flowtime_storage_backends() -> list[StorageBackend]:
    return [StorageBackend(scheme="s3", open=S3Storage,
                           description="an S3-compatible bucket (s3://bucket/prefix)")]
