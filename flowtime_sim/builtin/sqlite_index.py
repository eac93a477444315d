"""The ``sqlite`` index: the embedded default, a file beside the root (or in the storage's
cache folder), rebuildable from the stored catalogs at any time."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flowtime_sim.markers import hookimpl
from flowtime_sim.types import IndexBackend

if TYPE_CHECKING:
    from flowtime_sim.registry.contracts import Index
    from flowtime_sim.storage import Storage

FLOWTIME_SIM_PLUGIN_API = ">=1,<2"


def open_sqlite_index(url: str | None, storage: Storage) -> Index:
    from pathlib import Path

    from flowtime_sim.registry.index import Index

    path = Path(url.removeprefix("sqlite://")) if url else storage.index_path()
    return Index(path)


@hookimpl
def flowtime_index_backends() -> list[IndexBackend]:
    return [
        IndexBackend(
            schemes=("sqlite",),
            open=open_sqlite_index,
            default=True,
            description="an SQLite file beside the root (the default)",
        )
    ]
