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

from flowtime_sim.errors import ConflictError, DamagedArtifactError, IntegrityError, NotFoundError
from flowtime_sim.ids import ArtifactRef, check_id
from flowtime_sim.registry import heal, integrity, ledger
from flowtime_sim.registry import visibility as visibility_rule
from flowtime_sim.registry.catalog import (
    Created,
    ModelArtifact,
    RunArtifact,
    dump_catalog,
    utc_now,
    validate_catalog,
)
from flowtime_sim.registry.index import Index, Page, Query, artifact_key
from flowtime_sim.storage import publish_streamed

if TYPE_CHECKING:
    from flowtime_sim.catalogs import ModelDraft
    from flowtime_sim.storage import FileWriter, Storage

VERSION_RE = re.compile(r"^v([1-9][0-9]*)$")
TOMBSTONES = "tombstones"  # tombstones/{models/{id}/v{n} | runs/{id} | sweeps/{id}}: deleted
PENDING_GRACE_S = 3600.0
MAX_PUBLISH_ATTEMPTS = 1000
VERSION_CACHE_SIZE = 4096  # model-version catalogs kept in memory (about 2.5 KB each)


class Registry:
    """Everything stored under one root. Correctness comes from the storage's atomic,
    no-clobber publication — never from locks; the index is a rebuildable cache."""

    def __init__(self, storage: Storage, open_index: Callable[[], Index] | None = None) -> None:
        self.storage = storage
        self._versions_seen: dict[str, dict[str, Any]] = {}
        # teams: the index comes from its plugin (registry.contracts.open_index)
        self._open_index = open_index  # None: the embedded index, healed as it opens

    @cached_property
    def index(self) -> Index:
        """The listing index, rebuilt first when it is missing, empty, corrupt or out of date
        (:mod:`flowtime_sim.registry.heal`); an index a plugin opened (``open_index``) is used
        as it comes. A root where it cannot be written is a user
        error naming it."""
        import sqlite3

        try:
            index = self._open_index() if self._open_index else heal.open_index(self)
        except (OSError, sqlite3.Error) as exc:
            from flowtime_sim.errors import UserError
            from flowtime_sim.filesystem import reason

            path = self.storage.index_path()
            why = reason(exc) if isinstance(exc, OSError) else str(exc)
            raise UserError(
                f"cannot open the listing index {str(path)!r} of "
                f"{self.storage.url}: {why}; the root must be writable",
                field="root",
            ) from None
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
                        f"collision with {existing.ref}); choose another --name"
                    )
                if existing.catalog["inputs_hash"] == draft.inputs_hash:
                    return Created(existing, unchanged=True, root=self.storage.url)
            # deleted and purged versions keep their numbers: a tombstone outlives its files
            n = max([*numbers, *deleted], default=0) + 1
            seen_by = visibility_rule.for_new_version(
                draft.visibility, str(draft.catalog["owner"]), [v.catalog for v in versions]
            )
            catalog = {
                **draft.catalog,
                "version": n,
                "created_utc": utc_now(),
                "visibility": seen_by,
            }
            validate_catalog(catalog)
            key = f"models/{mid}/v{n}"
            if self._publish(key, {**draft.files, "catalog.json": dump_catalog(catalog)}, catalog):
                return Created(ModelArtifact(catalog, key), unchanged=False, root=self.storage.url)
        raise ConflictError(
            f"could not publish a version of {mid} after "
            f"{MAX_PUBLISH_ATTEMPTS} attempts; too many concurrent writers"
        )

    def publish_run(self, catalog: dict[str, Any], files: Mapping[str, FileWriter]) -> Created:
        """Publish a run folder, its files written as they are produced and their hashes
        recorded in ``catalog``; an existing run with the same id is returned unchanged (the
        caller has looked for it already, so the happy path asks the storage nothing more)."""
        key = f"runs/{catalog['id']}"

        written: dict[str, bytes] = {}

        def finish(hashes: Mapping[str, str]) -> dict[str, bytes]:
            catalog["files"] = dict(sorted(hashes.items()))
            validate_catalog(catalog)
            written["catalog.json"] = dump_catalog(catalog)
            return dict(written)

        self.index.begin(key, time.time())
        with heal.own_change(self):
            try:
                published = publish_streamed(self.storage, key, files, finish)
            except BaseException:  # the CSV is written here now: a failure publishes nothing
                self.index.end(key)
                raise
            if published:
                ledger.record(self.storage, key, written["catalog.json"])
                self.index.add(catalog)
        if published:
            return Created(RunArtifact(catalog, key), unchanged=False, root=self.storage.url)
        self.index.end(key)
        existing = self._catalog_at(key)  # another writer published it first
        if existing is None:
            raise ConflictError(f"run {catalog['id']} could not be published")
        if existing.get("inputs_hash") != catalog["inputs_hash"]:
            raise ConflictError(
                f"run id {catalog['id']} is already taken by a different run "
                "(a hash-prefix collision)"
            )
        return Created(RunArtifact(existing, key), unchanged=True, root=self.storage.url)

    def _publish(self, key: str, files: Mapping[str, bytes], catalog: dict[str, Any]) -> bool:
        """Publish the folder ``key``, record its catalog in the ledger and index it; ``False``
        when another writer published ``key`` first."""
        self.index.begin(key, time.time())
        with heal.own_change(self):
            ok = self.storage.publish(key, files)
            if ok:
                ledger.record(self.storage, key, files["catalog.json"])
                self.index.add(catalog)
        if not ok:
            self.index.end(key)
        return ok

    # -- reading --------------------------------------------------------------------------

    def _catalog_at(self, key: str) -> dict[str, Any] | None:
        """The catalog of the folder ``key``: ``None`` when there is no such folder,
        :class:`DamagedArtifactError` naming the file when it cannot be used."""
        return integrity.read_catalog(self.storage, key)

    def _version_numbers(self, model_id: str) -> tuple[list[int], set[int]]:
        """Every stored version number of ``model_id`` and the soft-deleted ones among them."""

        def numbers(prefix: str) -> list[int]:
            return sorted(
                int(m.group(1))
                for name in self.storage.children(prefix)
                if (m := VERSION_RE.match(name))
            )

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
            raise NotFoundError(
                f"no model {model_id!r} in {self.storage.url}; see 'flowtime-sim list'", field="id"
            )
        return versions

    def model(self, ref: ArtifactRef) -> ModelArtifact:
        if ref.version is None:
            return self.versions(ref.id)[-1]
        key = f"models/{ref.id}/v{ref.version}"
        catalog = None if self._deleted(key) else self._version_catalog(key)
        if catalog is None:
            have = ", ".join(f"v{v.version}" for v in self.versions(ref.id))
            raise NotFoundError(
                f"model {ref.id} has no version {ref.version} (versions: {have})", field="id"
            )
        return ModelArtifact(catalog, f"models/{ref.id}/v{ref.version}")

    def run(self, run_id: str) -> RunArtifact:
        key = f"runs/{check_id(run_id, what='run id')}"
        catalog = None if self._deleted(key) else self._catalog_at(key)
        if catalog is None:
            raise NotFoundError(f"no run {run_id!r} in {self.storage.url}", field="id")
        return RunArtifact(catalog, key)

    def artifact(self, ref: ArtifactRef) -> ModelArtifact | RunArtifact:
        """A model (``ID[@vN]``) or a run (``ID``) by id."""
        if (
            ref.version is None
            and self.storage.exists(f"runs/{ref.id}")
            and not self._deleted(f"runs/{ref.id}")
        ):
            return self.run(ref.id)
        return self.model(ref)

    def read_file(self, artifact: ModelArtifact | RunArtifact, name: str) -> bytes:
        if name not in artifact.catalog["files"] and name != "catalog.json":
            raise NotFoundError(
                f"{artifact.id} has no file {name!r}; files: "
                f"{', '.join(sorted(artifact.catalog['files']))}, catalog.json",
                field="name",
            )
        return self.storage.read(f"{artifact.key}/{name}")

    def runs_of(self, model_id: str) -> list[dict[str, Any]]:
        self.refresh()
        return self.index.query(Query(kind="run", model_id=model_id, limit=1000)).items

    def list(self, query: Query) -> Page:
        """A page of the listing. Items whose stored catalog has become unreadable since they
        were indexed are left out, each with a warning on stderr."""
        heal.check(self, self.index)
        self.refresh()
        page = self.index.query(query)
        usable = [item for item in page.items if self._still_readable(item)]
        if len(usable) == len(page.items):
            return page
        return Page(usable, page.total, page.next_cursor)

    def _still_readable(self, item: dict[str, Any]) -> bool:
        key = artifact_key(item)
        try:
            self._version_catalog(key)
        except DamagedArtifactError as exc:
            heal.notice(
                f"warning: skipped {key}: its catalog.json is {exc.why} (see 'flowtime-sim verify')"
            )
            return False
        return True

    def refresh(self) -> None:
        """Fold what other machines published or deleted into the index, for storages that
        keep a change feed: an optional ``changes_since(cursor) -> (changes, next_cursor)``
        returning ``(key, bytes)`` of each ``…/catalog.json`` published and each file put with
        ``put_if_absent`` since ``cursor`` (``None``: from the beginning). Storages without one
        (a local folder) are only written through this index or rebuilt by ``reindex``."""
        feed = getattr(self.storage, "changes_since", None)
        if feed is None:
            return
        index = self.index
        changes, cursor = feed(index.feed_cursor("storage"))
        stones = {
            key.removeprefix(f"{TOMBSTONES}/")
            for key, _ in changes
            if key.startswith(f"{TOMBSTONES}/")
        }
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
        index.merge(catalogs, removed, feed="storage", cursor=cursor)

    # -- maintenance ----------------------------------------------------------------------

    def _settle(self, index: Index) -> None:
        """Finish what writers that died mid-publication left pending: a folder that became
        visible is recorded in the ledger and indexed; one that never did is forgotten."""
        now = time.time()
        for key, started in index.pending():
            try:
                raw = self.storage.read(f"{key}/catalog.json")
                catalog = integrity.parse_catalog(key, raw)
            except KeyError:
                if now - started > PENDING_GRACE_S:
                    index.end(key)
                continue
            except DamagedArtifactError:
                index.end(key)  # verify names it; the listing leaves it out
                continue
            ledger.record(self.storage, key, raw)
            if ledger.check(self.storage, key, raw) is None:
                index.add(catalog)
            else:
                index.end(key)

    def reindex(self, *, refused: builtins.list[str] | None = None) -> int:
        """Rebuild the listing index from the stored catalogs; returns how many were indexed.
        A catalog that is unreadable or differs from its ledger record is not indexed: what
        is wrong with it is appended to ``refused``, one line each."""
        left_out: dict[str, str] = {}
        deleted = set(self._tombstones())

        def catalogs() -> Iterator[dict[str, Any]]:
            left_out.clear()
            every = (
                (key.removesuffix("/catalog.json"), raw)
                for key, raw in self.storage.walk_catalogs()
            )
            stored = (
                (key, raw)
                for key, raw in ledger.adopting(self.storage, every)
                if key not in deleted
            )
            return integrity.indexable(self.storage, stored, left_out)

        count = heal.rebuild_patiently(
            self.index, catalogs, fingerprint=heal.fingerprint_of(self), left_out=left_out
        )
        if refused is not None:
            refused += [left_out[k] for k in sorted(left_out)]
        return count

    def verify(self) -> tuple[int, builtins.list[str]]:
        """Check every published folder byte by byte against its catalog and the ledger, and
        every ledger record against the folders. Returns (folders checked, problems)."""
        return integrity.verify(self.storage, set(self._tombstones()))

    def verify_or_raise(self) -> int:
        checked, problems = self.verify()
        if problems:
            raise IntegrityError(
                f"{len(problems)} problem(s) in {self.storage.url}: " + "; ".join(problems),
                bad_files=problems,
            )
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

    def _is_sweep(self, ref: ArtifactRef) -> bool:
        """Whether ``ref`` names a stored sweep (never with ``@vN``) that is not deleted."""
        key = f"sweeps/{ref.id}"
        return ref.version is None and self.storage.exists(key) and not self._deleted(key)

    def _deleted(self, key: str) -> bool:
        return self.storage.exists(f"{TOMBSTONES}/{key}")

    def _tombstones(self) -> Iterator[str]:
        """Keys (``models/{id}/v{n}``, ``runs/{id}``, ``sweeps/{id}``) that carry a tombstone."""
        for model_id in self.storage.children(f"{TOMBSTONES}/models"):
            for version in self.storage.children(f"{TOMBSTONES}/models/{model_id}"):
                yield f"models/{model_id}/{version}"
        for top in ("runs", "sweeps"):
            for artifact_id in self.storage.children(f"{TOMBSTONES}/{top}"):
                yield f"{top}/{artifact_id}"

    def delete(self, ref: ArtifactRef, *, force: bool = False, by: str) -> builtins.list[str]:
        """Hide a run, a sweep, a model version or (without ``@vN``) every version of a model at
        once; ``gc`` purges the files after its grace period. Refused while runs reference a model
        unless ``force``. Returns the keys hidden."""
        sweep = False
        try:
            target = self.artifact(ref)
        except DamagedArtifactError:
            target = None  # delete by folder: a damaged catalog must not keep its artifact
        except NotFoundError:
            if not self._is_sweep(ref):
                raise
            target, sweep = None, True
        if sweep:
            keys = [(f"sweeps/{ref.id}", "sweep", ref.id, 0)]  # its models and runs stay
        elif isinstance(target, RunArtifact) or (
            target is None and ref.version is None and self.storage.exists(f"runs/{ref.id}")
        ):
            keys = [(f"runs/{ref.id}", "run", ref.id, 0)]
        else:
            if ref.version is not None:
                chosen = [ref.version]
            else:
                numbers, deleted = self._version_numbers(ref.id)
                chosen = [n for n in numbers if n not in deleted]
            runs = [
                r["id"]
                for r in self.runs_of(ref.id)
                if ref.version is None or r.get("model_version") == ref.version
            ]
            if runs and not force:
                shown = ", ".join(runs[:5]) + (" ..." if len(runs) > 5 else "")
                raise ConflictError(
                    f"{ref} is referenced by {len(runs)} run(s) ({shown}); "
                    "delete those first or pass --force"
                )
            keys = [(f"models/{ref.id}/v{n}", "model", ref.id, n) for n in chosen]
        stone = json.dumps({"deleted_utc": utc_now(), "by": by}).encode()
        with heal.own_change(self):
            for key, kind, artifact_id, version in keys:
                self.storage.put_if_absent(f"{TOMBSTONES}/{key}", stone)
                self.index.remove(kind, artifact_id, version)
        return [k for k, *_ in keys]


def _identity(key: str) -> tuple[str, str, int] | None:
    """``(kind, id, version)`` of a folder key ``models/{id}/v{n}``, ``runs/{id}`` or
    ``sweeps/{id}``."""
    parts = key.split("/")
    if len(parts) == 3 and parts[0] == "models" and (m := VERSION_RE.match(parts[2])):
        return "model", parts[1], int(m.group(1))
    if len(parts) == 2 and parts[0] in ("runs", "sweeps"):
        return parts[0].removesuffix("s"), parts[1], 0
    return None


def _same_model(catalog: Mapping[str, Any], draft: ModelDraft) -> bool:
    """Whether a stored version belongs to the model ``draft`` is a version of. Catalogs
    written before identities were recorded count by their template id."""
    identity = catalog.get("identity")
    if identity is not None:
        return bool(identity == draft.identity)
    return bool(catalog.get("template_id") == draft.catalog["template_id"])
