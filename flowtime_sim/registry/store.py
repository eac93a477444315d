"""The registry: model versions and runs in a storage root, with the listing index."""

from __future__ import annotations

import builtins
import json
import re
import time
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from functools import cached_property
from typing import TYPE_CHECKING, Any

from flowtime_sim.canonical import file_hash
from flowtime_sim.errors import ConflictError, IntegrityError, NotFoundError
from flowtime_sim.ids import ArtifactRef, check_id
from flowtime_sim.registry.catalog import (
    Created,
    ModelArtifact,
    RunArtifact,
    dump_catalog,
    utc_now,
    validate_catalog,
)
from flowtime_sim.registry.index import Index, Page, Query

if TYPE_CHECKING:
    from flowtime_sim.catalogs import ModelDraft
    from flowtime_sim.storage import Storage

VERSION_RE = re.compile(r"^v([1-9][0-9]*)$")
TOMBSTONES = "tombstones"  # tombstones/{models/{id}/v{n} | runs/{id}}: soft-deleted
PENDING_GRACE_S = 3600.0
MAX_PUBLISH_ATTEMPTS = 1000
VERSION_CACHE_SIZE = 4096  # model-version catalogs kept in memory (about 2.5 KB each)


class Registry:
    """Everything stored under one root. Correctness comes from the storage's atomic,
    no-clobber publication — never from locks; the index is a rebuildable cache."""

    def __init__(self, storage: Storage,
                 open_index: Callable[[], Index] | None = None) -> None:
        self.storage = storage
        self._versions_seen: dict[str, dict[str, Any]] = {}
        # teams: the index comes from its plugin (registry.contracts.open_index)
        self._open_index = open_index or (lambda: Index(self.storage.index_path()))

    @cached_property
    def index(self) -> Index:
        index = self._open_index()
        self._settle(index)
        return index

    def close(self) -> None:
        if "index" in self.__dict__:
            self.index.close()

    # -- creating -------------------------------------------------------------------------

    def create_model(self, draft: ModelDraft) -> Created:
        """Publish ``draft`` as the next version of its model, or return the existing version
        with the same inputs ("unchanged"). A different model that would get the same id (a
        hash-prefix collision) is refused, never merged into it."""
        mid = draft.model_id
        for _ in range(MAX_PUBLISH_ATTEMPTS):
            numbers, deleted = self._version_numbers(mid)
            versions = self._load_versions(mid, [n for n in numbers if n not in deleted])
            for existing in reversed(versions):
                if not _same_model(existing.catalog, draft):
                    raise ConflictError(
                        f"model id {mid} is already taken by a different model (a hash-prefix "
                        f"collision with {existing.ref}); choose another --name")
                if existing.catalog["inputs_hash"] == draft.inputs_hash:
                    return Created(existing, unchanged=True, root=self.storage.url)
            # deleted and purged versions keep their numbers: a tombstone outlives its files
            n = max([*numbers, *deleted], default=0) + 1
            catalog = {**draft.catalog, "version": n, "created_utc": utc_now()}
            validate_catalog(catalog)
            key = f"models/{mid}/v{n}"
            if self._publish(key, {**draft.files, "catalog.json": dump_catalog(catalog)}):
                self.index.add(catalog)
                return Created(ModelArtifact(catalog, key), unchanged=False,
                               root=self.storage.url)
        raise ConflictError(f"could not publish a version of {mid} after "
                            f"{MAX_PUBLISH_ATTEMPTS} attempts; too many concurrent writers")

    def publish_run(self, catalog: dict[str, Any], files: Mapping[str, bytes]) -> Created:
        """Publish a run folder; an existing run with the same id is returned unchanged (the
        caller has looked for it already, so the happy path asks the storage nothing more)."""
        key = f"runs/{catalog['id']}"
        validate_catalog(catalog)
        if self._publish(key, {**files, "catalog.json": dump_catalog(catalog)}):
            self.index.add(catalog)
            return Created(RunArtifact(catalog, key), unchanged=False, root=self.storage.url)
        existing = self._catalog_at(key)  # another writer published it first
        if existing is None:
            raise ConflictError(f"run {catalog['id']} could not be published")
        if existing.get("inputs_hash") != catalog["inputs_hash"]:
            raise ConflictError(f"run id {catalog['id']} is already taken by a different run "
                                "(a hash-prefix collision)")
        return Created(RunArtifact(existing, key), unchanged=True, root=self.storage.url)

    def _publish(self, key: str, files: Mapping[str, bytes]) -> bool:
        self.index.begin(key, time.time())
        ok = self.storage.publish(key, files)
        if not ok:
            self.index.end(key)
        return ok

    # -- reading --------------------------------------------------------------------------

    def _catalog_at(self, key: str) -> dict[str, Any] | None:
        try:
            data: dict[str, Any] = json.loads(self.storage.read(f"{key}/catalog.json"))
        except KeyError:
            return None
        return data

    def _version_numbers(self, model_id: str) -> tuple[list[int], set[int]]:
        """Every stored version number of ``model_id`` and the soft-deleted ones among them."""
        def numbers(prefix: str) -> list[int]:
            return sorted(int(m.group(1)) for name in self.storage.children(prefix)
                          if (m := VERSION_RE.match(name)))

        return numbers(f"models/{model_id}"), set(numbers(f"{TOMBSTONES}/models/{model_id}"))

    def _version_catalog(self, key: str) -> dict[str, Any] | None:
        """The catalog of the model version at ``key`` (``models/{id}/v{n}``). A published
        version never changes and its number is never reused, so what was read once is
        kept; whether it was deleted since is asked of the storage every time."""
        catalog = self._versions_seen.get(key)
        if catalog is None:
            catalog = self._catalog_at(key)
            if catalog is not None:
                if len(self._versions_seen) >= VERSION_CACHE_SIZE:
                    del self._versions_seen[next(iter(self._versions_seen))]
                self._versions_seen[key] = catalog
        return catalog

    def _load_versions(self, model_id: str, numbers: list[int]) -> list[ModelArtifact]:
        out = []
        for n in numbers:
            catalog = self._version_catalog(f"models/{model_id}/v{n}")
            if catalog is not None:
                out.append(ModelArtifact(catalog, f"models/{model_id}/v{n}"))
        return out

    def _stored_versions(self, model_id: str) -> list[ModelArtifact]:
        numbers, deleted = self._version_numbers(model_id)
        return self._load_versions(model_id, [n for n in numbers if n not in deleted])

    def versions(self, model_id: str) -> list[ModelArtifact]:
        versions = self._stored_versions(check_id(model_id, what="model id"))
        if not versions:
            raise NotFoundError(f"no model {model_id!r} in {self.storage.url}; see "
                                "'flowtime-sim list'", field="id")
        return versions

    def model(self, ref: ArtifactRef) -> ModelArtifact:
        if ref.version is None:
            return self.versions(ref.id)[-1]
        key = f"models/{ref.id}/v{ref.version}"
        catalog = None if self._deleted(key) else self._version_catalog(key)
        if catalog is None:
            have = ", ".join(f"v{v.version}" for v in self.versions(ref.id))
            raise NotFoundError(f"model {ref.id} has no version {ref.version} "
                                f"(versions: {have})", field="id")
        return ModelArtifact(catalog, f"models/{ref.id}/v{ref.version}")

    def run(self, run_id: str) -> RunArtifact:
        key = f"runs/{check_id(run_id, what='run id')}"
        catalog = None if self._deleted(key) else self._catalog_at(key)
        if catalog is None:
            raise NotFoundError(f"no run {run_id!r} in {self.storage.url}", field="id")
        return RunArtifact(catalog, key)

    def artifact(self, ref: ArtifactRef) -> ModelArtifact | RunArtifact:
        """A model (``ID[@vN]``) or a run (``ID``) by id."""
        if ref.version is None and self.storage.exists(f"runs/{ref.id}/catalog.json") \
                and not self._deleted(f"runs/{ref.id}"):
            return self.run(ref.id)
        return self.model(ref)

    def read_file(self, artifact: ModelArtifact | RunArtifact, name: str) -> bytes:
        if name not in artifact.catalog["files"] and name != "catalog.json":
            raise NotFoundError(f"{artifact.id} has no file {name!r}; files: "
                                f"{', '.join(sorted(artifact.catalog['files']))}, catalog.json",
                                field="name")
        return self.storage.read(f"{artifact.key}/{name}")

    def runs_of(self, model_id: str) -> list[dict[str, Any]]:
        self.refresh()
        return self.index.query(Query(kind="run", model_id=model_id, limit=1000)).items

    def list(self, query: Query) -> Page:
        self.refresh()
        return self.index.query(query)

    def refresh(self) -> None:
        """Fold what other machines published or deleted into the index, for storages that
        keep a change feed: an optional ``changes_since(cursor) -> (changes, next_cursor)``
        returning ``(key, bytes)`` of each ``…/catalog.json`` published and each file put with
        ``put_if_absent`` since ``cursor`` (``None``: from the beginning). Storages without one
        (a local folder) are only written through this index or rebuilt by ``reindex``."""
        feed = getattr(self.storage, "changes_since", None)
        if feed is None:
            return
        changes, cursor = feed(self.index.feed_cursor("storage"))
        stones = {key.removeprefix(f"{TOMBSTONES}/") for key, _ in changes
                  if key.startswith(f"{TOMBSTONES}/")}
        catalogs = []
        for key, data in changes:
            folder = key.removesuffix("/catalog.json")
            if folder == key or folder in stones or key.startswith(f"{TOMBSTONES}/"):
                continue
            try:
                catalogs.append(json.loads(data))
            except ValueError:
                continue  # verify reports unreadable catalogs; the listing skips them
        removed = [ident for key in stones if (ident := _identity(key)) is not None]
        self.index.merge(catalogs, removed, feed="storage", cursor=cursor)

    # -- maintenance ----------------------------------------------------------------------

    def _settle(self, index: Index) -> None:
        now = time.time()
        for key, started in index.pending():
            catalog = self._catalog_at(key)
            if catalog is not None:
                index.add(catalog)
            elif now - started > PENDING_GRACE_S:
                index.end(key)

    def reindex(self) -> int:
        return self.index.rebuild(c for _, c in self._walk())

    def _walk(self) -> Iterator[tuple[str, dict[str, Any]]]:
        deleted = set(self._tombstones())
        for key, data in self.storage.walk_catalogs():
            if key.removesuffix("/catalog.json") in deleted:
                continue
            try:
                yield key, json.loads(data)
            except ValueError:
                continue  # verify reports unreadable catalogs; the listing skips them

    def verify(self) -> tuple[int, builtins.list[str]]:
        """Recompute every file hash. Returns (folders checked, problems)."""
        problems: list[str] = []
        checked = 0
        for key, raw in self.storage.walk_catalogs():
            folder = key.rsplit("/", 1)[0]
            checked += 1
            try:
                catalog = json.loads(raw)
                files = dict(catalog["files"])
            except (ValueError, KeyError, TypeError):
                problems.append(f"{key}: catalog.json is unreadable")
                continue
            for name, expected in sorted(files.items()):
                try:
                    actual = file_hash(self.storage.read(f"{folder}/{name}"))
                except KeyError:
                    problems.append(f"{folder}/{name}: missing")
                    continue
                if actual != expected:
                    problems.append(f"{folder}/{name}: hash {actual} does not match the "
                                    f"catalog's {expected}")
        return checked, problems

    def verify_or_raise(self) -> int:
        checked, problems = self.verify()
        if problems:
            raise IntegrityError(f"{len(problems)} problem(s) in {self.storage.url}: "
                                 + "; ".join(problems), bad_files=problems)
        return checked

    def gc(self, grace_s: float) -> builtins.list[str]:
        """Remove staging left by crashed writers and purge soft-deleted artifacts, both once
        older than ``grace_s`` seconds. Returns what was removed."""
        removed = self.storage.abandoned_staging(grace_s)
        for name in removed:
            self.storage.remove_staging(name)
        cutoff = time.time() - grace_s
        for key in self._tombstones():
            if not self.storage.exists(key):
                continue  # purged by an earlier gc
            try:
                stone = json.loads(self.storage.read(f"{TOMBSTONES}/{key}"))
                when = datetime.strptime(stone["deleted_utc"], "%Y-%m-%dT%H:%M:%SZ")
            except (KeyError, ValueError, TypeError):
                continue
            if when.replace(tzinfo=UTC).timestamp() <= cutoff:
                self.storage.remove(key)
                # the tombstone stays: a purged version number is never reused
                removed.append(key)
        return removed

    # -- soft delete ----------------------------------------------------------------------

    def _deleted(self, key: str) -> bool:
        return self.storage.exists(f"{TOMBSTONES}/{key}")

    def _tombstones(self) -> Iterator[str]:
        """Keys (``models/{id}/v{n}``, ``runs/{id}``) that carry a tombstone."""
        for model_id in self.storage.children(f"{TOMBSTONES}/models"):
            for version in self.storage.children(f"{TOMBSTONES}/models/{model_id}"):
                yield f"models/{model_id}/{version}"
        for run_id in self.storage.children(f"{TOMBSTONES}/runs"):
            yield f"runs/{run_id}"

    def delete(self, ref: ArtifactRef, *, force: bool = False,
               by: str) -> builtins.list[str]:
        """Hide a run, a model version or (without ``@vN``) every version of a model at once;
        ``gc`` purges the files after its grace period. Refused while runs reference a model
        unless ``force``. Returns the keys hidden."""
        target = self.artifact(ref)
        if isinstance(target, RunArtifact):
            keys = [(target.key, "run", target.id, 0)]
        else:
            chosen = [target] if ref.version is not None else self.versions(ref.id)
            runs = [r["id"] for r in self.runs_of(ref.id)
                    if ref.version is None or r.get("model_version") == ref.version]
            if runs and not force:
                shown = ", ".join(runs[:5]) + (" ..." if len(runs) > 5 else "")
                raise ConflictError(f"{ref} is referenced by {len(runs)} run(s) ({shown}); "
                                    "delete those first or pass --force")
            keys = [(v.key, "model", v.id, v.version) for v in chosen]
        stone = json.dumps({"deleted_utc": utc_now(), "by": by}).encode()
        for key, kind, artifact_id, version in keys:
            self.storage.put_if_absent(f"{TOMBSTONES}/{key}", stone)
            self.index.remove(kind, artifact_id, version)
        return [k for k, *_ in keys]


def _identity(key: str) -> tuple[str, str, int] | None:
    """``(kind, id, version)`` of a folder key ``models/{id}/v{n}`` or ``runs/{id}``."""
    parts = key.split("/")
    if len(parts) == 3 and parts[0] == "models" and (m := VERSION_RE.match(parts[2])):
        return "model", parts[1], int(m.group(1))
    if len(parts) == 2 and parts[0] == "runs":
        return "run", parts[1], 0
    return None


def _same_model(catalog: Mapping[str, Any], draft: ModelDraft) -> bool:
    """Whether a stored version belongs to the model ``draft`` is a version of. Catalogs
    written before identities were recorded count by their template id."""
    identity = catalog.get("identity")
    if identity is not None:
        return bool(identity == draft.identity)
    return bool(catalog.get("template_id") == draft.catalog["template_id"])
