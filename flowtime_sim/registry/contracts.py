"""The index contract: what the registry asks of a listing index, whatever engine keeps it.

Two kinds of index implement it:

* a **cache** (the embedded SQLite index beside the root): the storage's no-clobber publication
  decides versions and visibility, and the index can always be rebuilt from the files;
* an **authoritative** index (PostgreSQL): version numbers, visibility, deletions and gc state
  live in the database, shared by every machine and every service instance. Publication goes
  reserve → upload → visible (:mod:`flowtime_sim.registry.publication`).

:func:`flowtime_sim.indexes.open_index` picks one through the ``flowtime_index_backends``
hook.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from flowtime_sim.errors import UserError

if TYPE_CHECKING:
    from flowtime_sim.registry.index import Page, Query

INDEX_ENV = "FLOWTIME_SIM_INDEX"

#: states of a version row in an authoritative index
PENDING, VISIBLE, FAILED, DELETED, PURGED = "pending", "visible", "failed", "deleted", "purged"


@runtime_checkable
class Index(Protocol):
    """Listing rows of one root. Every index answers these."""

    #: whether the index allocates versions and decides visibility (True) or caches them
    authoritative: bool

    def add(self, catalog: Mapping[str, Any]) -> None:
        """Index a published catalog (idempotent)."""

    def remove(self, kind: str, artifact_id: str, version: int) -> None:
        """Hide one row (soft delete); the newest remaining version becomes the latest."""

    def query(self, q: Query) -> Page:
        """One page of the listing, newest first."""

    def get(self, kind: str, artifact_id: str, version: int | None = None) -> dict[str, Any] | None:
        """A visible row's catalog, or ``None``."""

    def listing_snapshot(self) -> list[tuple[Any, ...]]:
        """Every visible row's identity and catalog, for comparing an index with a rebuild."""

    def close(self) -> None:
        """Release connections and files."""


@dataclass(frozen=True, slots=True)
class VersionRow:
    """One row of an authoritative index: a version number and what became of it."""

    kind: str
    id: str
    version: int
    state: str
    inputs_hash: str | None
    catalog: dict[str, Any] | None
    catalog_text: str | None = None

    @property
    def key(self) -> str:
        if self.kind == "model":
            return f"models/{self.id}/v{self.version}"
        return f"{self.kind}s/{self.id}"  # runs/{id}, sweeps/{id}


@runtime_checkable
class AuthoritativeIndex(Index, Protocol):
    """An index that allocates versions (a unique row per version, taken in a transaction)
    and decides visibility, for roots shared by many machines."""

    def rows(self, kind: str, artifact_id: str) -> list[VersionRow]:
        """Every row of one model (or the one row of a run), oldest version first."""

    def reserve(
        self, kind: str, artifact_id: str, version: int, *, writer: str, inputs_hash: str
    ) -> bool:
        """Take ``version`` as ``pending`` for ``writer``; ``False`` when the row exists (a
        failed run row is taken over, a failed model version never is)."""

    def mark_visible(
        self, kind: str, artifact_id: str, version: int, *, writer: str, catalog_text: str
    ) -> bool:
        """Make ``writer``'s pending row visible with its catalog; ``False`` when the row is
        no longer that writer's pending row (gc swept it): a late writer never revives it."""

    def mark_failed(self, kind: str, artifact_id: str, version: int, *, writer: str) -> None:
        """Give up ``writer``'s pending row (its upload failed)."""

    def sweep(self, grace_s: float) -> list[str]:
        """Turn pending rows older than ``grace_s`` (database clock) into failures; return the
        keys of every failed row, whose bytes the caller removes."""

    def mark_swept(self, key: str) -> None:
        """Record that a failed row's bytes were removed (it is looked at less from then)."""

    def purgeable(self, grace_s: float) -> list[str]:
        """Keys of rows deleted more than ``grace_s`` seconds ago and not yet purged."""

    def mark_purged(self, key: str) -> None:
        """Record that a deleted row's bytes are gone (its number stays taken)."""

    def rebuild_from(
        self, catalogs: Iterable[Mapping[str, Any]], deleted: Iterable[tuple[str, str, int]]
    ) -> int:
        """Replace every settled row with ``catalogs`` (visible) and ``deleted`` keys; rows
        of writers still publishing are kept. Returns how many became visible."""


def resolve_index(index: str | None) -> str | None:
    """``--index``, else ``FLOWTIME_SIM_INDEX``, else ``None`` (the embedded default)."""
    text = index if index else os.environ.get(INDEX_ENV) or None
    if text is not None and "\x00" in text:
        raise UserError("the index URL contains a NUL character", field="index")
    return text


def _redacted(url: str) -> str:
    """``url`` without a password: index URLs end up in error messages."""
    return re.sub(r"(://[^:/@]*):[^@]*@", r"\1:***@", url)
