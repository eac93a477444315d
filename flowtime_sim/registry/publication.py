"""Publication through an authoritative index: reserve → upload → visible (SPEC §6, §12).

1. **reserve**: the next version number is taken as a ``pending`` row in the index (a unique
   row per version: two machines never get the same number);
2. **upload**: the files go to the blob store with create-only writes, ``catalog.json`` last,
   so a stored catalog always means complete bytes;
3. **visible**: the writer flips its own pending row to ``visible`` with the catalog, in one
   transaction; from then on every machine lists it and serves its catalog from the index.

A crash before step 3 leaves a pending row that nobody lists; ``gc`` turns pending rows older
than its grace period into failures and removes their bytes. The flip in step 3 only succeeds
on the writer's own *pending* row, so a writer that wakes up after the sweep gets an error and
its version stays failed. Version numbers of failed, deleted and purged rows are never reused.

:class:`TeamRegistry` is the registry of a root with such an index; reads of a version ask the
blob store only for the file itself.
"""

from __future__ import annotations

import builtins
import contextlib
import os
import secrets
import socket
import time
from collections.abc import Callable, Iterable, Mapping
from typing import IO, TYPE_CHECKING, Any, BinaryIO, Union, cast

from flowtime_sim.errors import ConflictError, NotFoundError
from flowtime_sim.ids import ArtifactRef, check_id
from flowtime_sim.registry import integrity, ledger
from flowtime_sim.registry.catalog import (
    Created,
    ModelArtifact,
    RunArtifact,
    dump_catalog,
    utc_now,
    validate_catalog,
)
from flowtime_sim.registry.contracts import (
    DELETED,
    PENDING,
    PURGED,
    VISIBLE,
    AuthoritativeIndex,
    VersionRow,
)
from flowtime_sim.registry.index import Index, Page, Query
from flowtime_sim.registry.store import Registry, _identity, _same_model

if TYPE_CHECKING:
    from flowtime_sim.catalogs import ModelDraft
    from flowtime_sim.storage import Storage

#: a file's bytes: in memory, or streamed from a binary file or an iterable of chunks
Blob = Union[bytes, IO[bytes], Iterable[bytes]]  # noqa: UP007 - a runtime alias

#: how long a creator waits for another writer publishing the same inputs
WAIT_FOR_PEER_S = 120.0
MAX_RESERVE_ATTEMPTS = 1000


def writer_token() -> str:
    """Who is publishing: this machine, this process and a random part (unguessable)."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{secrets.token_hex(6)}"


class TeamRegistry(Registry):
    """The registry of a root whose index is authoritative (PostgreSQL)."""

    def __init__(self, storage: Storage, index: AuthoritativeIndex) -> None:
        # the listing calls the registry inherits (delete, verify) are part of both contracts
        super().__init__(storage, open_index=lambda: cast("Index", index))
        self.team_index = index

    def _settle(self, index: object) -> None:
        """Nothing to settle: pending rows are the sweeper's (:meth:`gc`)."""

    # -- creating -------------------------------------------------------------------------

    def create_model(self, draft: ModelDraft) -> Created:
        mid = draft.model_id
        waited = _Backoff()
        for _ in range(MAX_RESERVE_ATTEMPTS):
            rows = self.team_index.rows("model", mid)
            for row in reversed([r for r in rows if r.state == VISIBLE]):
                assert row.catalog is not None
                if not _same_model(row.catalog, draft):
                    raise ConflictError(
                        f"model id {mid} is already taken by a different model (a hash-prefix "
                        f"collision with {mid}@v{row.version}); choose another --name"
                    )
                if row.catalog["inputs_hash"] == draft.inputs_hash:
                    return Created(
                        ModelArtifact(row.catalog, row.key), unchanged=True, root=self.storage.url
                    )
            if any(r.state == PENDING and r.inputs_hash == draft.inputs_hash for r in rows):
                waited.sleep(f"model {mid}")  # another writer is publishing these inputs
                continue
            n = max((r.version for r in rows), default=0) + 1
            catalog = {**draft.catalog, "version": n, "created_utc": utc_now()}
            validate_catalog(catalog)
            writer = writer_token()
            if not self.team_index.reserve(
                "model", mid, n, writer=writer, inputs_hash=draft.inputs_hash
            ):
                continue  # another machine took n first: look again
            key = f"models/{mid}/v{n}"
            self.publish_reserved("model", mid, n, writer, catalog, draft.files)
            return Created(ModelArtifact(catalog, key), unchanged=False, root=self.storage.url)
        raise ConflictError(
            f"could not reserve a version of {mid} after "
            f"{MAX_RESERVE_ATTEMPTS} attempts; too many concurrent writers"
        )

    def publish_run(
        self, catalog: dict[str, Any], files: Mapping[str, Blob | Callable[[BinaryIO], None]]
    ) -> Created:
        """Publish a run; the same run published by another writer is returned unchanged.
        File values may be streams, or writers (as :func:`flowtime_sim.runs.execute` gives
        them) that are spooled to a temporary file while their hash is taken: large run files
        are uploaded without being held in memory."""
        spooled = _spooled(catalog, files)
        try:
            return self._publish_run(catalog, spooled)
        finally:
            for value in spooled.values():
                if hasattr(value, "close"):
                    value.close()  # the temporary files of writers, once uploaded

    def _publish_run(self, catalog: dict[str, Any], files: Mapping[str, Blob]) -> Created:
        run_id = str(catalog["id"])
        key = f"runs/{run_id}"
        validate_catalog(catalog)
        waited = _Backoff()
        while True:
            writer = writer_token()
            if self.team_index.reserve(
                "run", run_id, 0, writer=writer, inputs_hash=str(catalog["inputs_hash"])
            ):
                self.publish_reserved("run", run_id, 0, writer, catalog, files)
                return Created(RunArtifact(catalog, key), unchanged=False, root=self.storage.url)
            rows = self.team_index.rows("run", run_id)
            row = rows[0] if rows else None
            if row is not None and row.state == VISIBLE and row.catalog is not None:
                if row.catalog.get("inputs_hash") != catalog["inputs_hash"]:
                    raise ConflictError(
                        f"run id {run_id} is already taken by a different run "
                        "(a hash-prefix collision)"
                    )
                return Created(RunArtifact(row.catalog, key), unchanged=True, root=self.storage.url)
            if row is not None and row.state != PENDING:
                raise ConflictError(
                    f"run {run_id} was deleted; it cannot be published again under the same id"
                )
            waited.sleep(f"run {run_id}")

    def publish_reserved(
        self,
        kind: str,
        artifact_id: str,
        version: int,
        writer: str,
        catalog: Mapping[str, Any],
        files: Mapping[str, Blob],
    ) -> None:
        """Steps 2 and 3 for a reserved row: upload create-only, then make it visible."""
        row = VersionRow(kind, artifact_id, version, PENDING, None, None)
        text = dump_catalog(catalog)
        try:
            uploaded = upload(self.storage, row.key, {**files, "catalog.json": text})
        except BaseException:
            self._give_up(row, writer)
            raise
        if not uploaded:
            self._give_up(row, writer)
            raise ConflictError(
                f"{row.key} already has files in {self.storage.url}, left by "
                "a writer that gc swept; run 'flowtime-sim gc' and try again"
            )
        ledger.record(self.storage, row.key, text)  # what verify and reindex trust
        if not self.team_index.mark_visible(
            kind, artifact_id, version, writer=writer, catalog_text=text.decode("utf-8")
        ):
            self.storage.remove(row.key)  # the number is failed for good: nobody else uses it
            raise ConflictError(
                f"publishing {row.key} took longer than gc's grace period and "
                "gc gave it up; try again"
            )

    def _publish(self, key: str, files: Mapping[str, bytes], catalog: dict[str, Any]) -> bool:
        """A sweep (the one artifact with neither versions nor a run's inputs): the blob
        store's create-only publication decides who made it, then it is recorded and listed.
        A writer that dies in between leaves a stored sweep that reads find and the next
        ``reindex`` lists."""
        if not self.storage.publish(key, files):
            return False
        ledger.record(self.storage, key, files["catalog.json"])
        self.team_index.add(catalog)
        return True

    def _give_up(self, row: VersionRow, writer: str) -> None:
        # if this fails too the sweeper fails the row later; the upload's error is the one to show
        with contextlib.suppress(Exception):
            self.team_index.mark_failed(row.kind, row.id, row.version, writer=writer)

    # -- reading --------------------------------------------------------------------------

    def _visible(self, kind: str, artifact_id: str) -> list[VersionRow]:
        return [r for r in self.team_index.rows(kind, artifact_id) if r.state == VISIBLE]

    def versions(self, model_id: str) -> builtins.list[ModelArtifact]:
        rows = self._visible("model", check_id(model_id, what="model id"))
        if not rows:
            raise NotFoundError(
                f"no model {model_id!r} in {self.storage.url}; see 'flowtime-sim list'", field="id"
            )
        return [ModelArtifact(r.catalog or {}, r.key) for r in rows]

    def _stored_versions(self, model_id: str) -> builtins.list[ModelArtifact]:
        return [ModelArtifact(r.catalog or {}, r.key) for r in self._visible("model", model_id)]

    def model(self, ref: ArtifactRef) -> ModelArtifact:
        versions = self.versions(ref.id)
        if ref.version is None:
            return versions[-1]
        for version in versions:
            if version.version == ref.version:
                return version
        have = ", ".join(f"v{v.version}" for v in versions)
        raise NotFoundError(
            f"model {ref.id} has no version {ref.version} (versions: {have})", field="id"
        )

    def run(self, run_id: str) -> RunArtifact:
        rows = self._visible("run", check_id(run_id, what="run id"))
        if not rows:
            raise NotFoundError(f"no run {run_id!r} in {self.storage.url}", field="id")
        return RunArtifact(rows[0].catalog or {}, rows[0].key)

    def artifact(self, ref: ArtifactRef) -> ModelArtifact | RunArtifact:
        if ref.version is None and self._visible("run", ref.id):
            return self.run(ref.id)
        return self.model(ref)

    def read_file(self, artifact: ModelArtifact | RunArtifact, name: str) -> bytes:
        if name == "catalog.json":  # served from the index: no object-store request
            return dump_catalog(artifact.catalog)
        return super().read_file(artifact, name)

    def runs_of(self, model_id: str) -> builtins.list[dict[str, Any]]:
        return self.index.query(Query(kind="run", model_id=model_id, limit=1000)).items

    def list(self, query: Query) -> Page:
        return self.index.query(query)

    def refresh(self) -> None:
        """Nothing to fold in: every machine writes to the same index."""

    # -- maintenance ----------------------------------------------------------------------

    def gc(self, grace_s: float) -> builtins.list[str]:
        """Sweep crashed writers' reservations (their bytes removed, their numbers failed for
        good), remove abandoned staging, and purge versions deleted more than ``grace_s``
        seconds ago. Returns what was removed."""
        removed: list[str] = []
        for key in self.team_index.sweep(grace_s):
            if self.storage.exists(key) or self.storage.children(key):
                self.storage.remove(key)
                removed.append(key)
            self.team_index.mark_swept(key)
        for name in self.storage.abandoned_staging(grace_s):
            self.storage.remove_staging(name)
            removed.append(name)
        for key in self.team_index.purgeable(grace_s):
            self.storage.remove(key)
            self.team_index.mark_purged(key)
            removed.append(key)
        return removed

    def reindex(self, *, refused: builtins.list[str] | None = None) -> int:
        """Rebuild the index from the blob store: every stored catalog not tombstoned and
        matching its ledger record becomes visible; tombstoned keys stay taken. What is left
        out is appended to ``refused``, one line each."""
        tombstoned = set(self._tombstones())
        deleted = [ident for key in tombstoned if (ident := _identity(key))]
        left_out: dict[str, str] = {}
        every = (
            (key.removesuffix("/catalog.json"), raw) for key, raw in self.storage.walk_catalogs()
        )
        stored = (
            (key, raw) for key, raw in ledger.adopting(self.storage, every) if key not in tombstoned
        )
        count = self.team_index.rebuild_from(
            integrity.indexable(self.storage, stored, left_out), deleted
        )
        if refused is not None:
            refused += sorted(left_out.values())
        return count

    def _unpublished(self, keys: Iterable[str]) -> set[str]:
        """Those of ``keys`` whose row is pending or failed (never visible)."""
        out: set[str] = set()
        for key in keys:
            ident = _identity(key)
            if ident is None:
                continue
            kind, artifact_id, version = ident
            for row in self.team_index.rows(kind, artifact_id):
                if row.version == version and row.state not in (VISIBLE, DELETED, PURGED):
                    out.add(key)
        return out

    def verify(self) -> tuple[int, builtins.list[str]]:
        """The stored files against their catalogs, and every listed version against the
        blob store: nothing visible may have missing bytes."""
        checked, problems = super().verify()
        # a folder of a writer still publishing, or of one that failed (gc removes its bytes),
        # was never published: what the files and the ledger say of it is no problem
        unpublished = self._unpublished({_folder_of(p) for p in problems})
        problems = [p for p in problems if _folder_of(p) not in unpublished]
        stored = {key.removesuffix("/catalog.json") for key, _ in self.storage.walk_catalogs()}
        for kind, artifact_id, version, *_ in self.index.listing_snapshot():
            key = VersionRow(kind, artifact_id, version, VISIBLE, None, None).key
            if key not in stored:
                problems.append(
                    f"{key}: listed in the index but its catalog.json is missing "
                    f"from {self.storage.url}"
                )
        return checked, problems


def _folder_of(problem: str) -> str:
    """The folder key a problem line of ``verify`` is about (``models/ID/vN`` or ``runs/ID``)."""
    parts = problem.split(":", 1)[0].removeprefix("ledger/").split("/")
    return "/".join(parts[:3] if parts[0] == "models" else parts[:2])


def _spooled(
    catalog: dict[str, Any], files: Mapping[str, Blob | Callable[[BinaryIO], None]]
) -> dict[str, Blob]:
    """Writers run into temporary files (hashed as they are written, their hashes recorded in
    ``catalog``'s ``files``); other values are passed on as they are."""
    out: dict[str, Blob] = {}
    hashes = dict(catalog.get("files") or {})
    for name, value in files.items():
        if not callable(value):
            out[name] = value
            continue
        hashing = _HashingSpool()
        value(cast(BinaryIO, hashing))
        hashing.spool.seek(0)
        out[name] = cast(IO[bytes], hashing.spool)
        hashes[name] = "sha256:" + hashing.digest.hexdigest()
    catalog["files"] = dict(sorted(hashes.items()))
    return out


class _HashingSpool:
    """A temporary file that hashes what is written to it."""

    def __init__(self) -> None:
        import hashlib
        import tempfile

        self.spool = tempfile.TemporaryFile()  # noqa: SIM115 - closed once uploaded
        self.digest = hashlib.sha256()

    def write(self, data: bytes) -> int:
        self.digest.update(data)
        return self.spool.write(data)


def upload(storage: Storage, key: str, files: Mapping[str, Blob]) -> bool:
    """Store ``files`` under ``key`` create-only, ``catalog.json`` last; ``False`` when
    ``key`` already has files. Blob stores with ``upload`` write each file to its final key
    (streams without holding them in memory); others publish the folder in one step."""
    own = getattr(storage, "upload", None)
    if own is not None:
        return bool(own(key, files))
    return storage.publish(key, {name: _bytes(data) for name, data in files.items()})


def _bytes(data: Blob) -> bytes:
    if isinstance(data, bytes | bytearray | memoryview):
        return bytes(data)
    if hasattr(data, "read"):
        return bytes(data.read())
    return b"".join(data)


class _Backoff:
    """Polls while another writer finishes publishing the same inputs."""

    def __init__(self) -> None:
        self.start = time.monotonic()
        self.delay = 0.005

    def sleep(self, what: str) -> None:
        if time.monotonic() - self.start > WAIT_FOR_PEER_S:
            raise ConflictError(
                f"{what} is still being published by another writer after "
                f"{WAIT_FOR_PEER_S:g} s; try again (gc gives up on writers "
                "that crashed)"
            )
        time.sleep(self.delay)
        self.delay = min(self.delay * 2, 0.2)
