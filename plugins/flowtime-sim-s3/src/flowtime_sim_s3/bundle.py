"""The staging bundle: every file of one publication in a single object.

One object (not one per file) keeps staging to a single request, and lets whoever finishes an
interrupted publication get all of its bytes at once. Layout: a magic line, a JSON header line
``{"key": ..., "files": [[name, size], ...]}``, then the files' bytes back to back.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

MAGIC = b"flowtime-bundle/1\n"


@dataclass(frozen=True, slots=True)
class Bundle:
    key: str
    files: dict[str, bytes]


def encode_bundle(key: str, files: Mapping[str, bytes]) -> bytes:
    header = {"key": key, "files": [[name, len(data)] for name, data in files.items()]}
    return b"".join([MAGIC, json.dumps(header).encode(), b"\n", *files.values()])


def decode_bundle(data: bytes) -> Bundle:
    """Raises :class:`ValueError` for anything that is not a whole bundle."""
    if not data.startswith(MAGIC):
        raise ValueError("not a flowtime staging bundle")
    end = data.index(b"\n", len(MAGIC))
    header = json.loads(data[len(MAGIC) : end])
    files: dict[str, bytes] = {}
    at = end + 1
    for name, size in header["files"]:
        files[str(name)] = data[at : at + int(size)]
        at += int(size)
    if at != len(data):
        raise ValueError("truncated or padded flowtime staging bundle")
    return Bundle(str(header["key"]), files)
