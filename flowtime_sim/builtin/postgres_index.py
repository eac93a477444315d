"""The ``postgresql`` index: listing, version allocation and visibility in a PostgreSQL
database shared by every machine (``--index postgresql://…``; needs the ``postgresql`` extra).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from flowtime_sim.errors import UserError
from flowtime_sim.markers import hookimpl
from flowtime_sim.types import IndexBackend

if TYPE_CHECKING:
    from flowtime_sim.registry.contracts import Index
    from flowtime_sim.storage import Storage

FLOWTIME_SIM_PLUGIN_API = ">=1,<2"


def open_postgres_index(url: str | None, storage: Storage) -> Index:
    from flowtime_sim.registry.postgres import PostgresIndex

    if url is None:  # pragma: no cover - never the default
        raise UserError("the PostgreSQL index needs a postgresql:// URL", field="index")
    return PostgresIndex(url, storage.url)


@hookimpl
def flowtime_index_backends() -> list[IndexBackend]:
    return [
        IndexBackend(
            schemes=("postgresql", "postgres"),
            open=open_postgres_index,
            description="a PostgreSQL database shared by every machine",
        )
    ]
