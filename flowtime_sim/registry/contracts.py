"""The index contract: what the registry asks of a listing index, whatever engine keeps it.

Two kinds of index implement it:

* a **cache** (the embedded SQLite index beside the root): the storage's no-clobber publication
  decides versions and visibility, and the index can always be rebuilt from the files;
* an **authoritative** index (PostgreSQL): version numbers, visibility, deletions and gc state
  live in the database, shared by every machine and every service instance. Publication goes
  reserve → upload → visible (:mod:`flowtime_sim.registry.publication`).

:func:`open_index` picks one through the ``flowtime_index_backends`` hook.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from flowtime_sim.errors import FlowtimeError, NotFoundError, PluginError, UserError

if TYPE_CHECKING:
    from flowtime_sim.plugins import PluginHost
    from flowtime_sim.registry.index import Page, Query
    from flowtime_sim.storage import Storage
    from flowtime_sim.types import IndexBackend

INDEX_ENV = "FLOWTIME_SIM_INDEX"
_SCHEME = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]*)://")

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

    def rebuild(self, catalogs: Iterable[Mapping[str, Any]]) -> int:
        """Replace every row with ``catalogs``; returns how many."""

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
        return f"runs/{self.id}" if self.kind == "run" else f"models/{self.id}/v{self.version}"


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


def open_index(host: PluginHost, url: str | None, storage: Storage) -> Index:
    """Open the index ``url`` (``None``: the default) for ``storage``'s root."""
    from flowtime_sim.dispatch import describe
    from flowtime_sim.types import IndexBackend

    collected = host.collect("flowtime_index_backends")
    offers: list[tuple[str, IndexBackend]] = []
    failures: list[Exception] = list(collected.failures)
    for result in collected.results:
        items = list(result.value) if isinstance(result.value, list | tuple) else [result.value]
        bad = [item for item in items if not isinstance(item, IndexBackend)]
        if bad:
            failures.append(
                PluginError(
                    f"plugin {result.plugin!r}: flowtime_index_backends returned a "
                    f"{type(bad[0]).__name__}, not an IndexBackend",
                    pack=result.plugin,
                    hook="flowtime_index_backends",
                )
            )
            continue
        offers += [(result.plugin, item) for item in items if isinstance(item, IndexBackend)]
    if url is None:
        found = [(p, b) for p, b in offers if b.default]
        wanted = "the default index"
    else:
        m = _SCHEME.match(url)
        scheme = m.group(1).lower() if m else ""
        found = [(p, b) for p, b in offers if scheme in b.schemes]
        wanted = f"{scheme}:// indexes" if scheme else f"the index {_redacted(url)!r}"
    if not found:
        known = ", ".join(sorted({f"{s}://" for _, b in offers for s in b.schemes})) or "none"
        hint = (
            " (install flowtime-sim[postgresql] for postgresql:// indexes)"
            if url and url.startswith(("postgres://", "postgresql://"))
            else ""
        )
        failed = "".join(f"; {failure}" for failure in failures)
        raise NotFoundError(
            f"no index backend for {wanted}{hint}; available: {known}{failed}", field="index"
        )
    if len(found) > 1:
        names = ", ".join(sorted(name for name, _ in found))
        raise PluginError(
            f"several plugins offer {wanted} ({names}); disable all but one "
            "with FLOWTIME_SIM_DISABLE_PLUGINS",
            pack=found[1][0],
            hook="flowtime_index_backends",
        )
    plugin, backend = found[0]
    try:
        return backend.open(url, storage)
    except FlowtimeError:
        raise
    except Exception as exc:
        raise PluginError(
            f"plugin {plugin!r}: opening the index {_redacted(url or '')} failed: {describe(exc)}",
            pack=plugin,
            hook="flowtime_index_backends",
        ) from exc


def _redacted(url: str) -> str:
    """``url`` without a password: index URLs end up in error messages."""
    return re.sub(r"(://[^:/@]*):[^@]*@", r"\1:***@", url)
