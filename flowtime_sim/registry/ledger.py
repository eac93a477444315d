"""The publication ledger: each catalog's hash, recorded when it is published.

``ledger/models/{id}/v{n}`` and ``ledger/runs/{id}`` hold ``{"catalog": "sha256:…",
"recorded_utc": …}``, created once with the storage's create-only write right after the
folder became visible. A catalog names the hashes of its folder's other files, so with the
ledger every byte of a published folder is accounted for: ``verify`` compares each catalog
with its record, and ``reindex`` (or a listing index rebuilding itself) leaves out a catalog
that differs from its record instead of listing whatever the file now says.

A writer that dies between publication and its record leaves a pending key in the listing
index; the next process that opens the index records the catalog it finds there (see
:meth:`flowtime_sim.registry.store.Registry._settle`). Records are never removed: like a
tombstone, a record outlives the files that ``gc`` purges.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

from flowtime_sim.canonical import file_hash
from flowtime_sim.registry.catalog import utc_now

if TYPE_CHECKING:
    from flowtime_sim.storage import Storage

LEDGER = "ledger"


def record_key(key: str) -> str:
    """Where the record of the folder ``key`` (``models/{id}/v{n}``, ``runs/{id}``) lives."""
    return f"{LEDGER}/{key}"


def entry(catalog: bytes) -> bytes:
    """The record of a folder whose ``catalog.json`` holds ``catalog``."""
    return (
        json.dumps(
            {"catalog": file_hash(catalog), "recorded_utc": utc_now()}, separators=(",", ":")
        ).encode()
        + b"\n"
    )


def record(storage: Storage, key: str, catalog: bytes) -> None:
    """Record the catalog of a folder just published (a second call changes nothing)."""
    storage.put_if_absent(record_key(key), entry(catalog))


def check(storage: Storage, key: str, catalog: bytes) -> str | None:
    """``None`` when ``catalog`` is the one recorded for ``key``, else what is wrong."""
    where = record_key(key)
    try:
        raw = storage.read(where)
    except KeyError:
        return f"{key}/catalog.json: not recorded at publication ({where} is missing)"
    try:
        expected = json.loads(raw)["catalog"]
        if not isinstance(expected, str) or not expected.startswith("sha256:"):
            raise TypeError(expected)
    except (ValueError, KeyError, TypeError):
        return f"{where}: unreadable"
    actual = file_hash(catalog)
    if actual != expected:
        return (
            f"{key}/catalog.json: hash {actual} does not match the one recorded at "
            f"publication ({expected} in {where})"
        )
    return None


def recorded(storage: Storage) -> Iterator[str]:
    """The folder key of every record."""
    for model_id in storage.children(f"{LEDGER}/models"):
        for version in storage.children(f"{LEDGER}/models/{model_id}"):
            yield f"models/{model_id}/{version}"
    for run_id in storage.children(f"{LEDGER}/runs"):
        yield f"runs/{run_id}"


def adopting(
    storage: Storage, stored: Iterable[tuple[str, bytes | None]]
) -> Iterator[tuple[str, bytes | None]]:
    """``stored`` as it is, except in a root written before catalogs were recorded (no
    ``ledger/`` at all, e.g. one from an older flowtime-sim or a bucket of the journal
    design): there each catalog is recorded as found, once, so that ``reindex`` adopts the
    root instead of refusing everything in it. A root that has a ledger never adopts: a
    catalog without its record there is refused."""
    if storage.children(LEDGER):
        yield from stored
        return
    for key, raw in stored:
        if raw is not None:
            record(storage, key, raw)
        yield key, raw
