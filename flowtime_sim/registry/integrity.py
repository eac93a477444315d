"""Reading stored catalogs defensively, and ``verify``: does every published folder still hold
exactly what was published?

A folder is accounted for byte by byte: its ``catalog.json`` must match the hash recorded in
the ledger at publication (:mod:`flowtime_sim.registry.ledger`), every other file the hash its
catalog lists, and nothing else may be in it; every folder the ledger records must still exist
unless it was deleted.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from flowtime_sim.canonical import file_hash
from flowtime_sim.errors import DamagedArtifactError
from flowtime_sim.registry import ledger

if TYPE_CHECKING:
    from flowtime_sim.storage import Storage

VERSION_RE = re.compile(r"^v([1-9][0-9]*)$")
#: what a model version's catalog must hold for the registry to use it (SPEC §7 has more)
MODEL_FIELDS: Mapping[str, type | tuple[type, ...]] = {
    "id": str,
    "version": int,
    "created_utc": str,
    "template_id": str,
    "template_version": str,
    "parameters": dict,
    "inputs_hash": str,
    "files": dict,
}
#: ledger records read at once while rebuilding an index
LEDGER_READERS = 8
RUN_FIELDS: Mapping[str, type | tuple[type, ...]] = {"id": str, "created_utc": str, "files": dict}


def ref_of(key: str) -> str:
    """How a user names the folder ``key``: ``ID@vN`` or a run id."""
    parts = key.split("/")
    return f"{parts[1]}@{parts[2]}" if parts[0] == "models" else parts[-1]


def damaged(key: str, why: str) -> DamagedArtifactError:
    ref = ref_of(key)
    return DamagedArtifactError(
        f"{key}/catalog.json is {why}; run 'flowtime-sim verify', then restore the folder from "
        f"a backup or delete it with 'flowtime-sim delete {ref} --force'",
        key=key,
        why=why,
    )


def parse_catalog(key: str, raw: bytes) -> dict[str, Any]:
    """The catalog stored at ``key``, or :class:`DamagedArtifactError` naming the file."""
    try:
        catalog = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise damaged(key, "not valid JSON") from None
    if not isinstance(catalog, dict):
        raise damaged(key, "not a JSON object")
    parts = key.split("/")
    kind = "model" if parts[0] == "models" else "run"
    fields = MODEL_FIELDS if kind == "model" else RUN_FIELDS
    if catalog.get("kind") != kind:
        raise damaged(key, f"not a {kind} catalog (kind {catalog.get('kind')!r})")
    for name, wanted in fields.items():
        value = catalog.get(name)
        if not isinstance(value, wanted) or isinstance(value, bool):
            raise damaged(key, f"missing a valid {name!r}")
    if catalog["id"] != parts[1] or (kind == "model" and f"v{catalog['version']}" != parts[2]):
        raise damaged(key, "the catalog of another artifact")
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in catalog["files"].items()):
        raise damaged(key, "missing a valid 'files'")
    return catalog


def read_catalog(storage: Storage, key: str) -> dict[str, Any] | None:
    """The catalog of the folder ``key``; ``None`` when there is no such folder, and
    :class:`DamagedArtifactError` when the folder is there but its catalog is not usable."""
    try:
        raw = storage.read(f"{key}/catalog.json")
    except KeyError:
        if storage.exists(key):
            raise damaged(key, "missing") from None
        return None
    return parse_catalog(key, raw)


def folders(storage: Storage) -> Iterator[str]:
    """Every published folder: ``models/{id}/v{n}`` and ``runs/{id}``."""
    for model_id in storage.children("models"):
        for version in storage.children(f"models/{model_id}"):
            if VERSION_RE.match(version):
                yield f"models/{model_id}/{version}"
    for run_id in storage.children("runs"):
        yield f"runs/{run_id}"


def stored_catalogs(storage: Storage, keys: Iterable[str]) -> Iterator[tuple[str, bytes | None]]:
    """``(folder key, catalog bytes or None when absent)`` for each of ``keys``."""
    for key in keys:
        try:
            yield key, storage.read(f"{key}/catalog.json")
        except KeyError:
            yield key, None


def indexable(
    storage: Storage, catalogs: Iterable[tuple[str, bytes | None]], refused: dict[str, str]
) -> Iterator[dict[str, Any]]:
    """Those of the ``(folder key, catalog bytes)`` that may be listed: readable and matching
    their ledger records. What is left out goes into ``refused``: folder key -> what is wrong,
    in one line. Ledger records are read a batch at a time, in parallel (one request each on
    an object store)."""
    from concurrent.futures import ThreadPoolExecutor
    from itertools import islice

    usable: list[tuple[str, bytes, dict[str, Any]]] = []
    items = iter(catalogs)
    with ThreadPoolExecutor(max_workers=LEDGER_READERS) as pool:
        while batch := list(islice(items, 512)):
            usable.clear()
            for key, raw in batch:
                if raw is None:
                    refused[key] = f"{key}/catalog.json: missing"
                    continue
                try:
                    usable.append((key, raw, parse_catalog(key, raw)))
                except DamagedArtifactError as exc:
                    refused[key] = f"{key}/catalog.json: {exc.why}"
            checks = pool.map(lambda item: ledger.check(storage, item[0], item[1]), usable)
            for (key, _, catalog), problem in zip(usable, list(checks), strict=True):
                if problem is None:
                    yield catalog
                else:
                    refused[key] = problem


def verify(storage: Storage, deleted: set[str]) -> tuple[int, list[str]]:
    """Check every folder and every ledger record. Returns (folders checked, problems);
    ``deleted`` are the tombstoned folder keys (whose files ``gc`` may have purged)."""
    problems: list[str] = []
    present = list(folders(storage))
    for key in present:
        problems += _check_folder(storage, key)
    seen = set(present)
    for key in ledger.recorded(storage):
        if key not in seen and key not in deleted:
            problems.append(
                f"{key}: missing (published, recorded in {ledger.record_key(key)}, never deleted)"
            )
    return len(present), problems


def _check_folder(storage: Storage, key: str) -> list[str]:
    try:
        raw = storage.read(f"{key}/catalog.json")
    except KeyError:
        return [f"{key}/catalog.json: missing"]
    try:
        files = dict(parse_catalog(key, raw)["files"])
    except DamagedArtifactError as exc:
        return [f"{key}/catalog.json: unreadable ({exc.why})"]
    problem = ledger.check(storage, key, raw)
    problems = [] if problem is None else [problem]
    for name, expected in sorted(files.items()):
        try:
            actual = file_hash(storage.read(f"{key}/{name}"))
        except KeyError:
            problems.append(f"{key}/{name}: missing")
            continue
        if actual != expected:
            problems.append(f"{key}/{name}: hash {actual} does not match the catalog's {expected}")
    for name in storage.children(key):
        if name not in files and name != "catalog.json":
            problems.append(f"{key}/{name}: not listed in its catalog")
    return problems
