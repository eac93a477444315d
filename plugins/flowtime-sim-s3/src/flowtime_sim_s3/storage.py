"""The ``s3`` storage backend: artifact roots in an S3-compatible bucket.

S3 has no rename, so publication is built on create-only writes (``If-None-Match: *``):

1. every file of the folder goes, as one bundle, to ``_staging/{time}-{random}``;
2. the folder is **committed** by creating ``{key}/.flowtime-commit.json`` (naming the bundle)
   only if it does not exist. This single conditional write is the step that makes the folder
   visible and that no other writer can overwrite: a second writer gets 412 and returns
   ``False``. A request whose response was lost and that is retried also gets 412, reads the
   marker back and recognises its own bundle: no duplicate version;
3. the files are written to their final keys and the bundle is deleted.

Until step 3 finishes, reads of a committed folder are served from the bundle, so readers never
see a partial folder. A writer that dies before step 2 leaves only a bundle; one that dies after
it leaves a committed folder whose bundle ``gc`` uses to finish the job.

With an authoritative index (``--index postgresql://…``) the database allocates versions and
decides visibility, so :meth:`S3Storage.upload` skips the bundle and the marker: each file is
*created* at its final key (``If-None-Match: *``; large ones as a multipart upload whose
completion carries the condition), ``catalog.json`` last.

Listings are the index's job: earlier versions kept a journal of changes in ``_journal/``;
nothing reads it any more (``reindex`` walks the objects themselves) and it may be deleted.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Iterable, Iterator, Mapping
from concurrent import futures
from concurrent.futures import ThreadPoolExecutor
from functools import cached_property
from pathlib import Path
from typing import IO, Any, Union

from flowtime_sim.errors import UserError

from flowtime_sim_s3.bundle import decode_bundle, encode_bundle
from flowtime_sim_s3.location import parse_root, settings_from
from flowtime_sim_s3.objects import Bucket

#: a file's bytes: in memory, a binary stream, or an iterable of chunks
Blob = Union[bytes, IO[bytes], Iterable[bytes]]  # noqa: UP007 - a runtime alias
READ_SIZE = 1024 * 1024
MARKER = ".flowtime-commit.json"
STAGING = "_staging"
PROBE = "_probe"
#: folders whose committed catalogs make up the registry
CATALOG_TOPS = ("models", "runs", "sweeps")


class S3Storage:
    """A root ``s3://bucket/prefix``. Keys are checked like the file backend's."""

    def __init__(self, url: str, options: Mapping[str, str] | None = None) -> None:
        self.root = parse_root(url)
        self.url = self.root.url
        self.settings = settings_from(options or {})
        self.bucket = Bucket(self.root, self.settings)
        self._conditional_checked = False

    @cached_property
    def pool(self) -> ThreadPoolExecutor:
        return ThreadPoolExecutor(max_workers=16, thread_name_prefix="flowtime-s3")

    def close(self) -> None:
        if "pool" in self.__dict__:
            self.pool.shutdown(wait=True)

    def _obj(self, key: str) -> str:
        parts = key.split("/")
        if not key or any(p in {"", ".", ".."} or "\\" in p or "\x00" in p for p in parts):
            raise UserError(f"refusing the storage key {key!r}: it would leave the root")
        return self.root.object_key(key)

    # -- reading ----------------------------------------------------------------------------

    def read(self, key: str) -> bytes:
        data = self.bucket.get(self._obj(key))
        if data is not None:
            return data
        folder, _, name = key.rpartition("/")
        if folder and name != MARKER:
            data = self._from_staging(folder, name)
            if data is not None:
                return data
        raise KeyError(key)

    def _from_staging(self, folder: str, name: str) -> bytes | None:
        """A file of a committed folder whose files are still being written."""
        marker = self._marker(folder)
        if marker is None or name not in marker.get("files", []):
            return None
        raw = self.bucket.get(self._obj(f"{STAGING}/{marker.get('staging')}"))
        if raw is not None:
            try:
                return decode_bundle(raw).files.get(name)
            except (ValueError, KeyError, TypeError):
                return None  # a damaged bundle: verify reports the folder's missing files
        # the bundle is deleted only after the files were written: they are there now
        return self.bucket.get(self._obj(f"{folder}/{name}"))

    def _marker(self, folder: str) -> dict[str, Any] | None:
        raw = self.bucket.get(self._obj(f"{folder}/{MARKER}"))
        if raw is None:
            return None
        try:
            marker = json.loads(raw)
        except ValueError:
            return None
        return marker if isinstance(marker, dict) else None

    def exists(self, key: str) -> bool:
        obj = self._obj(key)
        if self.bucket.head(obj) or self.bucket.list_objects(obj + "/", max_keys=1).objects:
            return True
        folder, _, name = key.rpartition("/")
        marker = self._marker(folder) if folder else None
        return marker is not None and name in marker.get("files", [])

    def children(self, prefix: str) -> list[str]:
        base = self._obj(prefix) + "/"
        listing = self.bucket.list_objects(base, delimiter="/")
        names = {f[len(base) :].rstrip("/") for f in listing.folders}
        names |= {o.key[len(base) :] for o in listing.objects}
        return sorted(n for n in names if n and not n.startswith("."))

    def walk_catalogs(self) -> Iterator[tuple[str, bytes]]:
        """Committed folders (a marker) and folders uploaded for an authoritative index (a
        ``catalog.json``, written last)."""
        folders: set[str] = set()
        for top in CATALOG_TOPS:
            base = self._obj(top) + "/"
            for obj in self.bucket.list_objects(base).objects:
                for name in (MARKER, "catalog.json"):
                    if obj.key.endswith("/" + name):
                        folders.add(self.root.storage_key(obj.key)[: -len(name) - 1])
        keys = [f"{folder}/catalog.json" for folder in sorted(folders)]
        for key, data in zip(keys, self.pool.map(self._read_or_none, keys), strict=True):
            if data is not None:
                yield key, data

    def _read_or_none(self, key: str) -> bytes | None:
        try:
            return self.read(key)
        except KeyError:
            return None

    # -- publishing -------------------------------------------------------------------------

    def publish(self, key: str, files: Mapping[str, bytes]) -> bool:
        self._obj(key)
        for name in files:
            if "/" in name or name in {"", ".", "..", MARKER}:
                raise UserError(f"refusing the file name {name!r} in {key!r}")
        self._check_conditional_writes()
        if self.bucket.head(self._obj(f"{key}/catalog.json")):
            return False  # uploaded without a marker (for an index that decides visibility)
        staging = f"{int(time.time()):011d}-{secrets.token_hex(8)}"
        self.bucket.put(self._obj(f"{STAGING}/{staging}"), encode_bundle(key, files))
        if not self._commit(key, staging, sorted(files)):
            self.bucket.delete(self._obj(f"{STAGING}/{staging}"))
            return False
        self._finish(key, files, staging)
        return True

    def _commit(self, key: str, staging: str, names: list[str]) -> bool:
        """Create the commit marker; ``False`` when another writer committed ``key`` first.
        Called again after a commit whose response was lost (as a retry does), it recognises
        the marker as its own."""
        marker = json.dumps({"staging": staging, "files": names}).encode()
        if self.bucket.create(self._obj(f"{key}/{MARKER}"), marker):
            return True
        existing = self._marker(key)
        return existing is not None and existing.get("staging") == staging

    def _finish(self, key: str, files: Mapping[str, bytes], staging: str) -> None:
        """Write a committed folder's files and drop its bundle (idempotent: a writer and
        ``gc`` may both do it)."""
        writes = [
            self.pool.submit(self.bucket.put, self._obj(f"{key}/{name}"), data)
            for name, data in files.items()
        ]
        futures.wait(writes)
        for write in writes:
            write.result()
        self.bucket.delete(self._obj(f"{STAGING}/{staging}"))

    def upload(self, key: str, files: Mapping[str, Blob]) -> bool:
        """Create every file at its final key, ``catalog.json`` last; ``False`` (nothing
        overwritten) when one exists. For an index that decides visibility itself: the folder
        is not a version until the index says so. Streams are uploaded part by part."""
        self._obj(key)
        for name in files:
            if "/" in name or name in {"", ".", "..", MARKER}:
                raise UserError(f"refusing the file name {name!r} in {key!r}")
        self._check_conditional_writes()
        first = [n for n in files if n != "catalog.json"]
        writes = [
            self.pool.submit(
                self.bucket.create_stream, self._obj(f"{key}/{name}"), _chunks(files[name])
            )
            for name in first
        ]
        # every upload settles before this returns or raises: one still retrying in the pool
        # could otherwise create its file after the version has failed
        futures.wait(writes)
        created = [w.result() for w in writes]  # each one's error, not just the first "exists"
        if not all(created):
            return False
        if "catalog.json" in files:
            return self.bucket.create_stream(
                self._obj(f"{key}/catalog.json"), _chunks(files["catalog.json"])
            )
        return True

    def put_if_absent(self, key: str, data: bytes) -> bool:
        obj = self._obj(key)
        self._check_conditional_writes()
        return self.bucket.create(obj, data)

    def _check_conditional_writes(self) -> None:
        """Refuse to write through a service that ignores ``If-None-Match`` (it would let two
        writers overwrite each other's versions). Checked once per root on this machine."""
        if self._conditional_checked:
            return
        flag = self.settings.cache_folder(self.root) / "conditional-writes-ok"
        if not flag.exists():
            probe = self._obj(f"{PROBE}/{secrets.token_hex(8)}")
            self.bucket.create(probe, b"1")
            honoured = not self.bucket.create(probe, b"2")
            self.bucket.delete(probe)
            if not honoured:
                raise UserError(
                    f"the S3 service at {self.settings.endpoint_url or 'AWS'} "
                    "ignored a conditional write (If-None-Match: *); flowtime-sim "
                    f"cannot publish safely to {self.url} without it",
                    field="root",
                )
            flag.parent.mkdir(parents=True, exist_ok=True)
            flag.write_text("If-None-Match: * honoured\n")
        self._conditional_checked = True

    # -- maintenance ------------------------------------------------------------------------

    def remove(self, key: str) -> None:
        obj = self._obj(key)
        inside = [o.key for o in self.bucket.list_objects(obj + "/").objects]
        marker = f"{obj}/{MARKER}"
        if marker in inside:
            # uncommit first: a half-finished removal is then never mistaken for a version
            self.bucket.delete(marker)
            inside.remove(marker)
        self.bucket.delete_many([*inside, obj])

    def abandoned_staging(self, older_than_s: float) -> list[str]:
        base = self._obj(STAGING) + "/"
        listing = self.bucket.list_objects(base)
        cutoff = listing.server_time - older_than_s
        return sorted(o.key[len(base) :] for o in listing.objects if o.modified <= cutoff)

    def remove_staging(self, name: str) -> None:
        """Finish the publication a bundle belongs to if it was committed (a writer died between
        commit and the last file), then delete the bundle."""
        if "/" in name or name in {"", ".", ".."}:
            raise UserError(f"invalid staging name {name!r}")
        obj = self._obj(f"{STAGING}/{name}")
        raw = self.bucket.get(obj)
        if raw is None:
            return
        try:
            bundle = decode_bundle(raw)
        except (ValueError, KeyError, TypeError):
            self.bucket.delete(obj)  # not ours to finish; staging is only ever garbage
            return
        marker = self._marker(bundle.key)
        if marker is not None and marker.get("staging") == name:
            self._finish(bundle.key, bundle.files, name)
        else:
            self.bucket.delete(obj)

    def index_path(self) -> Path:
        return self.settings.cache_folder(self.root) / "registry.sqlite"


def _chunks(data: Blob) -> Iterable[bytes]:
    """A file's bytes as chunks, read lazily from a stream."""
    if isinstance(data, bytes | bytearray | memoryview):
        return [bytes(data)]
    read = getattr(data, "read", None)
    if read is not None:
        return iter(lambda: bytes(read(READ_SIZE)), b"")
    return data


__all__ = ["MARKER", "STAGING", "S3Storage"]
