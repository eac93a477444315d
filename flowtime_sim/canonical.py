"""Canonical JSON (RFC 8785) and the ``sha256:`` hashes built on it (SPEC §6)."""

from __future__ import annotations

import hashlib
import math
import unicodedata
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

from flowtime_sim.errors import UserError


def normalise(value: Any) -> Any:
    """The JSON value hashed for ``value``: NFC strings (keys too), no NaN or infinity,
    tuples as lists, datetimes as ISO-8601 UTC text (YAML reads timestamps as datetimes)."""
    if isinstance(value, str):
        return unicodedata.normalize("NFC", value)
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise UserError(f"{value!r} cannot be hashed: NaN and infinity are not allowed")
        return value
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for k, v in value.items():
            key = normalise(str(k))
            if key in out:
                raise UserError(f"key {key!r} appears twice after Unicode normalisation")
            out[key] = normalise(v)
        return out
    if isinstance(value, list | tuple):
        return [normalise(v) for v in value]
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return value.isoformat(timespec="seconds") + "Z"
    if isinstance(value, date):
        return value.isoformat()
    raise UserError(f"a {type(value).__name__} value cannot be hashed")


def canonical_json(value: Any) -> bytes:
    import rfc8785

    normalised = normalise(value)
    try:
        return rfc8785.dumps(normalised)
    except rfc8785.IntegerDomainError:
        # integers beyond 2**53 have no exact JSON number; hash them as the double they become
        return rfc8785.dumps(_ints_to_float(normalised))


def _ints_to_float(value: Any) -> Any:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and abs(value) >= 2**53:
        return float(value)
    if isinstance(value, dict):
        return {k: _ints_to_float(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_ints_to_float(v) for v in value]
    return value


def canonical_hash(value: Any) -> str:
    """``sha256:`` + 64 lower-case hex digits of the canonical JSON of ``value``."""
    return "sha256:" + hashlib.sha256(canonical_json(value)).hexdigest()


def file_hash(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()
