"""Why a local path cannot be written, in words a user can act on."""

from __future__ import annotations

import os
from pathlib import Path


def file_in_the_way(path: Path) -> Path | None:
    """The nearest existing ancestor of ``path`` when it is a file, not a folder: nothing can
    ever be created below it (``--root out.yaml/root``, ``--out model.yaml/inner.yaml``)."""
    for parent in Path(os.path.abspath(path)).parents:
        if parent.exists():
            return None if parent.is_dir() else parent
        if parent.is_symlink():
            return None  # a dangling link: let the write report it
    return None


def reason(exc: OSError) -> str:
    """``Read-only file system``, ``Permission denied: '/srv/x/.staging'``: what the system
    said, and the path it said it about."""
    text = exc.strerror or type(exc).__name__
    return f"{text}: {str(exc.filename)!r}" if exc.filename is not None else text
