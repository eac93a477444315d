"""The storage contract every backend implements, and root resolution.

Keys are ``/``-separated paths relative to the root, built only from checked ids. A backend
guarantees:

* **atomic, no-clobber publication** — :meth:`Storage.publish` makes a whole folder of files
  visible in one step, or reports that the folder already exists; it never replaces or merges
  into another writer's folder, and never shows a partial one, whatever crashes;
* **read-after-write** — once ``publish`` returned ``True``, every reader sees the folder.

A backend shared by several machines may also offer ``changes_since(cursor: str | None) ->
tuple[list[tuple[str, bytes]], str]``: the ``(key, bytes)`` of every ``…/catalog.json``
published and every file created with ``put_if_absent`` since ``cursor`` (``None``: all of
them), oldest first, with the cursor to pass next time. The registry folds these into its
listing index before each listing, so other machines' artifacts appear without a ``reindex``
(:meth:`flowtime_sim.registry.Registry.refresh`).

A backend may also offer ``publish_streamed(key, streams, finish) -> bool``, which
:func:`publish_streamed` uses when present: the files in ``streams`` are written as they are
produced (a run's CSV need never be held in memory), then ``finish`` gets their hashes and
returns the remaining small files (the catalog, which records those hashes), and the folder is
published as by ``publish``. Backends without it are given the streams' bytes in memory.

A backend may also offer ``upload(key, files) -> bool`` for roots whose index decides
visibility (PostgreSQL, :mod:`flowtime_sim.registry.publication`): create each file at its
final key without overwriting anything, ``catalog.json`` last, ``False`` when one exists. Its
values may be ``bytes``, a binary file object or an iterable of ``bytes`` chunks, which the
backend streams (the s3 backend as a multipart upload). Without it, ``publish`` is used.
"""

from __future__ import annotations

import io
import os
import re
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, Protocol, runtime_checkable

from flowtime_sim.errors import FlowtimeError, NotFoundError, PluginError, UserError

if TYPE_CHECKING:
    from flowtime_sim.plugins import PluginHost
    from flowtime_sim.types import StorageBackend

DEFAULT_ROOT = "./artifacts"
#: Writes one file's bytes, as they are produced, to the binary stream it is given.
FileWriter = Callable[[BinaryIO], None]
#: Given the ``sha256:`` hash of every streamed file by name, the folder's other files.
Finish = Callable[[Mapping[str, str]], Mapping[str, bytes]]
_SCHEME = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]*)://")


@runtime_checkable
class Storage(Protocol):
    """A root: a folder tree of immutable, atomically published folders."""

    url: str

    def read(self, key: str) -> bytes:
        """The bytes at ``key``; raises :class:`KeyError` when absent."""

    def exists(self, key: str) -> bool:
        """Whether a file or a published folder exists at ``key``."""

    def children(self, prefix: str) -> list[str]:
        """Names directly below ``prefix`` (published folders and files), sorted."""

    def publish(self, key: str, files: Mapping[str, bytes]) -> bool:
        """Make ``files`` visible as the folder ``key`` atomically; ``False`` when it exists."""

    def put_if_absent(self, key: str, data: bytes) -> bool:
        """Create one small file unless it exists (tombstones, markers)."""

    def remove(self, key: str) -> None:
        """Remove a file or a folder and everything below it (gc only)."""

    def abandoned_staging(self, older_than_s: float) -> list[str]:
        """Staging left by crashed writers, older than ``older_than_s`` seconds."""

    def remove_staging(self, name: str) -> None:
        """Remove one abandoned staging entry returned by :meth:`abandoned_staging`."""

    def walk_catalogs(self) -> Iterator[tuple[str, bytes]]:
        """Every published ``catalog.json`` as ``(key, bytes)``, for rebuilding the index."""

    def index_path(self) -> Path:
        """A local file path where the listing index for this root may live."""


def publish_streamed(
    storage: Storage, key: str, streams: Mapping[str, FileWriter], finish: Finish
) -> bool:
    """Publish the folder ``key`` made of ``streams`` (written as they are produced) and the
    files ``finish`` returns given the streams' hashes; ``False`` when the folder exists."""
    from flowtime_sim.canonical import file_hash

    method = getattr(storage, "publish_streamed", None)
    if method is not None:
        return bool(method(key, streams, finish))
    if storage.exists(key):
        return False
    buffered: dict[str, bytes] = {}
    for name, write in streams.items():
        buffer = io.BytesIO()
        write(buffer)
        buffered[name] = buffer.getvalue()
    rest = finish({name: file_hash(data) for name, data in buffered.items()})
    return storage.publish(key, {**buffered, **rest})


def resolve_root(root: str | os.PathLike[str] | None) -> str:
    """``--root``/``--out``, else ``FLOWTIME_ARTIFACTS_ROOT``, else ``./artifacts``."""
    if root is None or str(root) == "":
        root = os.environ.get("FLOWTIME_ARTIFACTS_ROOT") or DEFAULT_ROOT
    text = str(root)
    if "\x00" in text:
        raise UserError("the artifacts root contains a NUL character", field="root")
    return text


def scheme_of(root: str) -> str:
    m = _SCHEME.match(root)
    return m.group(1).lower() if m else "file"


def open_storage(
    host: PluginHost, root: str | None, options: Mapping[str, str] | None = None
) -> Storage:
    """Pick the backend whose scheme matches ``root`` and open it.

    A plugin whose storage hook fails costs only the schemes it would have offered: the
    others still open, and asking for a missing scheme names the plugins that failed.
    """
    from flowtime_sim.dispatch import describe

    url = resolve_root(root)
    scheme = scheme_of(url)
    collected = host.collect("flowtime_storage_backends")
    offers: dict[str, list[tuple[str, StorageBackend]]] = {}
    failures = list(collected.failures)
    for result in collected.results:
        try:
            backends = _backends(result.plugin, result.value)
        except PluginError as exc:  # only this plugin's schemes become unavailable
            failures.append(exc)
            continue
        for backend in backends:
            offers.setdefault(backend.scheme, []).append((result.plugin, backend))
    found = offers.get(scheme, [])
    if not found:
        known = ", ".join(sorted(offers)) or "none"
        hint = " (install flowtime-sim-s3 for s3:// roots)" if scheme == "s3" else ""
        failed = "".join(f"; {failure}" for failure in failures)
        raise NotFoundError(
            f"no storage backend for {scheme}:// roots{hint}; available schemes: {known}{failed}",
            field="root",
        )
    if len(found) > 1:
        names = ", ".join(name for name, _ in found)
        raise PluginError(
            f"several plugins offer storage for {scheme}:// ({names}); "
            "disable all but one with FLOWTIME_SIM_DISABLE_PLUGINS",
            pack=found[1][0],
            hook="flowtime_storage_backends",
        )
    plugin, backend = found[0]
    try:
        return backend.open(url, dict(options or {}))
    except FlowtimeError:
        raise
    except Exception as exc:
        raise PluginError(
            f"plugin {plugin!r}: opening {url} failed: {describe(exc)}",
            pack=plugin,
            hook="flowtime_storage_backends",
        ) from exc


def _backends(plugin: str, offered: object) -> list[StorageBackend]:
    from flowtime_sim.types import StorageBackend

    items: list[object] = list(offered) if isinstance(offered, list | tuple) else [offered]
    backends = [item for item in items if isinstance(item, StorageBackend)]
    if len(backends) != len(items):
        bad = next(item for item in items if not isinstance(item, StorageBackend))
        raise PluginError(
            f"plugin {plugin!r}: flowtime_storage_backends returned a "
            f"{type(bad).__name__}, not a StorageBackend",
            pack=plugin,
            hook="flowtime_storage_backends",
        )
    return backends
