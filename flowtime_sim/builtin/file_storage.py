"""The ``file`` storage backend: a folder on a local (POSIX) file system.

Publication stages every file in ``.staging/<name>/``, fsyncs files and the folder, then
renames the staging folder to its final name. ``rename(2)`` of a directory onto an existing
non-empty directory fails, so the step that makes a version visible can never replace another
writer's version; a crash before it leaves only staging, which ``gc`` removes.

A staging name says who owns it: ``{time}-{random}@{pid}.{start}@{host}``, where ``start`` is
when that process started (so a reused pid is not mistaken for it). ``gc`` leaves staging of a
process that is still running on this host alone whatever its age; staging of other hosts
(a shared file system) is judged by age only. A writer whose staging disappears all the same
starts its publication again, once.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import re
import secrets
import shutil
import socket
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, cast

from flowtime_sim.errors import UserError
from flowtime_sim.filesystem import file_in_the_way, reason
from flowtime_sim.markers import hookimpl
from flowtime_sim.types import StorageBackend

if TYPE_CHECKING:
    from flowtime_sim.storage import FileWriter, Finish

FLOWTIME_SIM_PLUGIN_API = ">=1,<2"
STAGING = ".staging"
INDEX_DIR = ".index"
#: folders whose appearing or disappearing entries the listing fingerprint follows
FINGERPRINTED = ("models", "runs", "tombstones/models", "tombstones/runs")
#: staging of a live process older than this is removed anyway (its owner is stuck)
LIVE_STAGING_LIMIT_S = 7 * 24 * 3600.0
_OWNER_RE = re.compile(r"@(\d+)\.(\d+)@([A-Za-z0-9.-]*)$")


def _host() -> str:
    return re.sub(r"[^A-Za-z0-9.-]", "-", socket.gethostname())[:64]


def _process_start(pid: int) -> int | None:
    """When process ``pid`` started (clock ticks since boot, Linux), or ``None`` when it is
    not running or this system does not say."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            stat = fh.read().decode("ascii", "replace")
    except OSError:
        return None
    try:
        return int(stat.rsplit(")", 1)[1].split()[19])
    except (IndexError, ValueError):
        return None


def _alive(pid: int, start: int) -> bool:
    """Whether the process that owned a staging folder is still running here."""
    if os.path.isdir("/proc"):
        return _process_start(pid) == start
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def staging_name() -> str:
    """A new staging name carrying this process's identity (see the module's docstring)."""
    pid = os.getpid()
    return f"{int(time.time())}-{secrets.token_hex(8)}@{pid}.{_process_start(pid) or 0}@{_host()}"


class _Hashing:
    """A binary file that hashes what is written through it."""

    def __init__(self, fh: BinaryIO) -> None:
        self.fh = fh
        self.digest = hashlib.sha256()

    def write(self, data: bytes) -> int:
        self.digest.update(data)
        return self.fh.write(data)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class FileStorage:
    """A root folder. Keys are checked to stay inside it."""

    def __init__(self, url: str, options: Mapping[str, str] | None = None) -> None:
        path = url[len("file://") :] if url.startswith("file://") else url
        self.base = Path(path).expanduser().absolute()
        self.url = str(self.base)
        self._base = str(self.base).rstrip("/")  # a root of "/" joins as "" + "/key"
        self.durable = (options or {}).get("durable", "true").lower() not in {"0", "false", "no"}
        if self.base.exists() and not self.base.is_dir():
            raise UserError(f"artifacts root {self.url!r} exists and is not a folder", field="root")
        blocker = file_in_the_way(self.base)
        if blocker is not None:
            raise UserError(
                f"artifacts root {self.url!r} cannot be created: {str(blocker)!r} "
                "is a file, not a folder",
                field="root",
            )

    @contextlib.contextmanager
    def _writing(self) -> Iterator[None]:
        """A failed write (a read-only or full file system) as one line naming the root."""
        try:
            yield
        except OSError as exc:
            raise UserError(
                f"cannot write to the artifacts root {self.url!r}: {reason(exc)}", field="root"
            ) from None

    def _file(self, key: str) -> str:
        """The path of ``key`` inside the root. Every part must be a plain name (no empty,
        ``.`` or ``..`` part, no backslash, no NUL), so the joined path cannot leave the root.
        Plain strings: this runs several times for every read the service answers."""
        parts = key.split("/")
        if not key or any(p in {"", ".", ".."} or "\\" in p or "\x00" in p for p in parts):
            raise UserError(f"refusing the storage key {key!r}: it would leave the root")
        return f"{self._base}/{key}"

    def _path(self, key: str) -> Path:
        return Path(self._file(key))

    def read(self, key: str) -> bytes:
        try:
            with open(self._file(key), "rb") as fh:
                return fh.read()
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            raise KeyError(key) from None

    def exists(self, key: str) -> bool:
        return os.path.exists(self._file(key))

    def children(self, prefix: str) -> list[str]:
        try:
            return sorted(
                e.name for e in os.scandir(self._file(prefix)) if not e.name.startswith(".")
            )
        except (FileNotFoundError, NotADirectoryError):
            return []

    def publish(self, key: str, files: Mapping[str, bytes]) -> bool:
        return self.publish_streamed(key, {}, lambda _: files)

    def publish_streamed(self, key: str, streams: Mapping[str, FileWriter], finish: Finish) -> bool:
        """:meth:`publish`, the files in ``streams`` written straight into staging (see
        :func:`flowtime_sim.storage.publish_streamed`)."""
        target = self._path(key)
        if target.exists():
            return False
        with self._writing():
            try:
                return self._publish(target, streams, finish)
            except FileNotFoundError:
                # our staging was removed under us (a gc on another host, or by hand): once more
                try:
                    return self._publish(target, streams, finish)
                except FileNotFoundError as exc:
                    raise UserError(
                        f"could not publish {key} in {self.url}: its staging "
                        f"folder was removed while being written ({exc.filename}); "
                        "is something deleting .staging/?"
                    ) from None

    def _publish(self, target: Path, streams: Mapping[str, FileWriter], finish: Finish) -> bool:
        staging = self.base / STAGING / staging_name()
        staging.mkdir(parents=True)
        try:
            hashes = {
                name: self._write_stream(staging / name, write) for name, write in streams.items()
            }
            for name, data in finish(hashes).items():
                self._write(staging / name, data)
            if self.durable:
                _fsync_dir(staging)
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.rename(staging, target)
            except OSError as exc:
                if exc.errno in (errno.ENOTEMPTY, errno.EEXIST):
                    return False
                raise
            if self.durable:
                _fsync_dir(target.parent)
            return True
        finally:
            if staging.exists():
                shutil.rmtree(staging, ignore_errors=True)

    def _write(self, path: Path, data: bytes) -> None:
        def write(out: BinaryIO) -> None:
            out.write(data)

        self._write_stream(path, write)

    def _write_stream(self, path: Path, write: FileWriter) -> str:
        """Create ``path`` with what ``write`` writes; returns its ``sha256:`` hash."""
        with open(path, "xb") as fh:
            hashing = _Hashing(fh)
            write(cast(BinaryIO, hashing))
            if self.durable:
                fh.flush()
                os.fsync(fh.fileno())
        return "sha256:" + hashing.digest.hexdigest()

    def put_if_absent(self, key: str, data: bytes) -> bool:
        path = self._path(key)
        with self._writing():
            return self._put_if_absent(path, data)

    def _put_if_absent(self, path: Path, data: bytes) -> bool:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{secrets.token_hex(6)}")
        self._write(tmp, data)
        try:
            os.link(tmp, path)  # link(2) fails when the name exists: create-only
            return True
        except FileExistsError:
            return False
        finally:
            tmp.unlink(missing_ok=True)

    def remove(self, key: str) -> None:
        path = self._path(key)
        with self._writing():
            if path.is_dir():
                # rename first so a half-finished removal is never mistaken for a version
                trash = self.base / STAGING / f"rm-{secrets.token_hex(8)}"
                trash.parent.mkdir(parents=True, exist_ok=True)
                os.rename(path, trash)
                shutil.rmtree(trash, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)

    def abandoned_staging(self, older_than_s: float) -> list[str]:
        """Staging older than ``older_than_s`` whose writer is not running on this host."""
        folder = self.base / STAGING
        now = time.time()
        host = _host()
        out = []
        with contextlib.suppress(FileNotFoundError):
            for entry in os.scandir(folder):
                try:
                    age = now - entry.stat(follow_symlinks=False).st_mtime
                except FileNotFoundError:
                    continue  # finished (renamed into place) meanwhile
                if age <= older_than_s:
                    continue
                owner = _OWNER_RE.search(entry.name)
                if (
                    owner
                    and owner.group(3) == host
                    and age < LIVE_STAGING_LIMIT_S
                    and _alive(int(owner.group(1)), int(owner.group(2)))
                ):
                    continue
                out.append(entry.name)
        return sorted(out)

    def remove_staging(self, name: str) -> None:
        if "/" in name or name in {"", ".", ".."}:
            raise UserError(f"invalid staging name {name!r}")
        path = self.base / STAGING / name
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)

    def walk_catalogs(self) -> Iterator[tuple[str, bytes]]:
        for kind in ("models", "runs", "sweeps"):
            top = self.base / kind
            if not top.is_dir():
                continue
            for first in sorted(os.scandir(top), key=lambda e: e.name):
                if first.name.startswith(".") or not first.is_dir():
                    continue
                if kind != "models":  # runs and sweeps are one folder each
                    yield from self._catalog_at(f"{kind}/{first.name}")
                    continue
                for version in sorted(os.scandir(first.path), key=lambda e: e.name):
                    if version.is_dir() and not version.name.startswith("."):
                        yield from self._catalog_at(f"models/{first.name}/{version.name}")

    def _catalog_at(self, key: str) -> Iterator[tuple[str, bytes]]:
        with contextlib.suppress(KeyError):
            yield f"{key}/catalog.json", self.read(f"{key}/catalog.json")

    def index_path(self) -> Path:
        return self.base / INDEX_DIR / "registry.sqlite"

    def listing_fingerprint(self) -> str:
        """Changes whenever an entry appears in or disappears from ``models/``, ``runs/`` or
        their tombstone folders (identity and modification time of each: four ``stat``
        calls), for the listing index to notice folders added or removed behind its back."""
        marks = []
        for name in FINGERPRINTED:
            try:
                st = os.stat(f"{self._base}/{name}")
                marks.append([name, st.st_ino, st.st_mtime_ns])
            except (FileNotFoundError, NotADirectoryError):
                marks.append([name, None, None])
        return json.dumps(marks, separators=(",", ":"))


@hookimpl
def flowtime_storage_backends() -> list[StorageBackend]:
    return [
        StorageBackend(
            scheme="file", open=FileStorage, description="a folder on this machine (the default)"
        )
    ]
