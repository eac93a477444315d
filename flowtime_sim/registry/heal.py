"""Keeping the listing index true to the files without anyone running ``reindex``.

The index is a cache of the catalogs. Whenever a registry opens it, and before every listing,
it is checked; when it is missing, empty, corrupt or out of date with the files it is rebuilt
from them, and one line on stderr says so (``rebuilt the listing index of ROOT: it was corrupt
(N artifacts)``). A brand-new root is set up silently.

"Out of date" must be cheap to rule out with 100,000 artifacts, since it is asked on every
listing. A storage may offer ``listing_fingerprint() -> str | None``: a digest that changes
whenever a model or run folder appears or disappears at the top of ``models/`` and ``runs/``
(the folder backend uses the identity and modification time of four folders: a few ``stat``
calls). An unchanged fingerprint means nothing to do. A registry that changes the files and
its index together moves the recorded fingerprint along (:func:`own_change`). A fingerprint
changed otherwise — several writers at once, or a person — makes the names in ``models/`` and
``runs/`` be compared with the ids in the index (two folder listings and one index scan, 0.7 s
at 100,000 artifacts) before anything is rebuilt. Folders copied by hand next to an existing
model's versions do not change the fingerprint; ``reindex`` picks those up.

Storages with a change feed (``changes_since``, e.g. S3) keep a per-machine cache that the
feed fills: there a missing or damaged cache is only emptied, and the feed replays into it.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from flowtime_sim.registry import integrity
from flowtime_sim.registry.index import Index, is_corrupt

if TYPE_CHECKING:
    from flowtime_sim.registry.store import Registry

REASONS = {"missing": "missing", "empty": "empty", "corrupt": "corrupt"}
STALE = "out of date with the files"


def notice(message: str) -> None:
    """One line on stderr, for the person running the command or the service's log."""
    sys.stderr.write(message + "\n")
    sys.stderr.flush()


def open_index(registry: Registry) -> Index:
    """The registry's index, rebuilt first when it was missing, empty or corrupt."""
    index = Index(registry.storage.index_path(), on_reset=lambda fresh: _rebuilt(registry, fresh))
    reason = REASONS.get(index.found)
    if reason is not None:
        rebuild(registry, index, reason, only_if_unbuilt=True)
    else:
        check(registry, index)
    return index


def rebuild_patiently(
    index: Index,
    catalogs: Callable[[], Iterable[Mapping[str, Any]]],
    *,
    fingerprint: str | None,
    left_out: Mapping[str, str],
) -> int:
    """:meth:`Index.rebuild`, once more on a fresh file when the old one turns out damaged
    while being rebuilt."""
    try:
        return index.rebuild(catalogs, fingerprint=fingerprint, left_out=left_out) or 0
    except Exception as exc:
        if not is_corrupt(exc):
            raise
    index.reset()
    return index.rebuild(catalogs, fingerprint=fingerprint, left_out=left_out) or 0


def _rebuilt(registry: Registry, index: Index) -> None:
    rebuild(registry, index, "corrupt")


def check(registry: Registry, index: Index) -> None:
    """Rebuild ``index`` when the storage's fingerprint says the files changed behind its
    back (see the module's docstring)."""
    fingerprint = fingerprint_of(registry)
    if fingerprint is None or index.meta("fingerprint") == fingerprint:
        return
    if _matches_files(registry, index):
        index.set_meta("fingerprint", fingerprint)
        return
    rebuild(
        registry,
        index,
        STALE,
        fingerprint=fingerprint,
        only_if=lambda ix: ix.meta("fingerprint") != fingerprint,
    )


def rebuild(
    registry: Registry,
    index: Index,
    reason: str,
    *,
    only_if_unbuilt: bool = False,
    fingerprint: str | None = None,
    only_if: Callable[[Index], bool] | None = None,
) -> int | None:
    """Fill ``index`` from the files (or, for a storage with a change feed, empty it for the
    feed to replay) and say so. With ``only_if_unbuilt``, nothing happens when another process
    has built it meanwhile. Returns the number of artifacts indexed, or ``None`` when skipped."""
    feed = hasattr(registry.storage, "changes_since")
    fingerprint = fingerprint or fingerprint_of(registry)
    refused: dict[str, str] = {}

    def unless(ix: Index) -> bool:
        if only_if_unbuilt:
            return ix.meta("built") is not None
        return only_if is not None and not only_if(ix)

    def catalogs() -> list[dict[str, object]]:
        if feed:
            return []
        deleted = set(registry._tombstones())
        keys = [k for k in integrity.folders(registry.storage) if k not in deleted]
        stored = integrity.stored_catalogs(registry.storage, keys)
        return list(integrity.indexable(registry.storage, stored, refused))

    try:
        count = index.rebuild(
            catalogs, fingerprint=fingerprint, unless=unless, left_out=refused, forget_feeds=feed
        )
    except Exception as exc:
        if not is_corrupt(exc):
            raise
        index.reset()  # damaged while being rebuilt: start over on a fresh file
        return None
    if count is None:
        return None
    if feed:
        if reason == "corrupt":
            notice(
                f"rebuilt the listing index of {registry.storage.url}: it was corrupt "
                "(it fills again from the storage's change feed)"
            )
        return count
    # a new file that other processes wrote to before it was filled lost nothing: say nothing
    if count > index.replaced or refused or reason in {"corrupt", STALE}:
        noun = "artifact" if count == 1 else "artifacts"
        left_out = f"; {len(refused)} left out, see 'flowtime-sim verify'" if refused else ""
        notice(
            f"rebuilt the listing index of {registry.storage.url}: it was {reason} "
            f"({count} {noun}{left_out})"
        )
    return count


@contextmanager
def own_change(registry: Registry) -> Iterator[None]:
    """Around a change this registry makes to the files and to its index alike: when the index
    matched the files before, it matches them after, so the recorded fingerprint moves along
    and the next process need not compare names. (Should anything else change the same folders
    in those few milliseconds, it is noticed only at the next change by someone else, or by
    ``reindex``.)"""
    before = fingerprint_of(registry)
    yield
    if before is not None:
        after = fingerprint_of(registry)
        if after is not None and after != before:
            registry.index.advance_meta("fingerprint", before, after)


def fingerprint_of(registry: Registry) -> str | None:
    """The storage's listing fingerprint, when it offers one and the index is a cache of the
    storage (an authoritative index, such as PostgreSQL's, is never healed from the files)."""
    if getattr(registry.index if "index" in registry.__dict__ else None, "authoritative", False):
        return None
    if registry._open_index is not None:  # an index a plugin opened: not this module's cache
        return None
    method = getattr(registry.storage, "listing_fingerprint", None)
    if method is None:
        return None
    value = method()
    return value if isinstance(value, str) else None


def _matches_files(registry: Registry, index: Index) -> bool:
    """Whether every model and run folder at the top of the root is accounted for by the index
    (listed, pending, deleted or left out by the last rebuild) and every indexed one exists."""
    storage = registry.storage
    pending = {key for key, _ in index.pending()}
    left_out = set(json.loads(index.meta("left_out") or "[]"))
    for kind, top in (("model", "models"), ("run", "runs")):
        on_disk = set(storage.children(top))
        indexed = index.ids(kind)
        if indexed - on_disk:
            return False
        for ident in sorted(on_disk - indexed):
            keys = (
                [f"runs/{ident}"]
                if kind == "run"
                else [
                    f"models/{ident}/{v}"
                    for v in storage.children(f"models/{ident}")
                    if integrity.VERSION_RE.match(v)
                ]
            )
            for key in keys:
                if key not in pending and key not in left_out and not registry._deleted(key):
                    return False
    return True
