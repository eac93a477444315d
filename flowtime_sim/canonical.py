"""Canonical JSON (RFC 8785) and the ``sha256:`` hashes built on it (SPEC §6)."""

from __future__ import annotations

import hashlib
import json
import math
import re
import secrets
import unicodedata
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

from flowtime_sim.errors import UserError

#: Lists of at least this many numbers are written by the fast path (see canonical_json).
FAST_LIST = 64
_TRAILING_POINT_ZERO = re.compile(rb"\.0(?=[,\]])")


def normalise(value: Any, _lists: dict[str, bytes] | None = None, _nonce: str = "") -> Any:
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
            out[key] = normalise(v, _lists, _nonce)
        return out
    if isinstance(value, list | tuple):
        if _lists is not None and len(value) >= FAST_LIST:
            text = _number_list_json(value)
            if text is not None:  # stands in for the list until the document is written
                placeholder = f"\x00{_nonce}:{len(_lists)}"
                _lists[placeholder] = text
                return placeholder
        return [normalise(v, _lists, _nonce) for v in value]
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return value.isoformat(timespec="seconds") + "Z"
    if isinstance(value, date):
        return value.isoformat()
    raise UserError(f"a {type(value).__name__} value cannot be hashed")


def canonical_json(value: Any) -> bytes:
    """RFC 8785 bytes of ``value`` (after :func:`normalise`).

    Long lists of plain numbers — a model's series values — are the bulk of a big model and
    are written by a fast path whose output is byte-for-byte what RFC 8785 writes, used only
    where that is certain (see :func:`_number_list_json`); the rest goes through ``rfc8785``.
    """
    import rfc8785

    lists: dict[str, bytes] = {}
    nonce = secrets.token_hex(8)  # unguessable: no string in a document can pose as a list
    normalised = normalise(value, lists, nonce)
    try:
        text = rfc8785.dumps(normalised)
    except rfc8785.IntegerDomainError:
        # integers beyond 2**53 have no exact JSON number; hash them as the double they become
        text = rfc8785.dumps(_ints_to_float(normalised))
    if not lists:
        return text
    found = re.compile(rb'"\\u0000' + nonce.encode() + rb':([0-9]+)"')
    return found.sub(lambda m: lists[f"\x00{nonce}:{int(m.group(1))}"], text)


def _number_list_json(values: list[Any] | tuple[Any, ...]) -> bytes | None:
    """RFC 8785 text of a list of ints and floats, or ``None`` when not certain to match.

    For a finite double with 1e-4 <= |x| < 2**53, Python's ``repr`` and ECMAScript's
    Number-to-String print the same shortest round-trip digits in positional notation, except
    that ``repr`` ends integral values with ``.0``; ints below 2**53 print alike. Zero (not
    negative zero) is ``0`` in both once ``.0`` is dropped. Anything else takes the general
    path.
    """
    if not set(map(type, values)) <= {int, float}:
        return None
    import numpy as np

    try:
        array = np.asarray(values, dtype=np.float64)
    except OverflowError:
        return None
    magnitude = np.abs(array)
    exact = (magnitude < 2.0**53) & ((magnitude >= 1e-4) | (array == 0))
    if not bool(exact.all()) or bool((np.signbit(array) & (array == 0)).any()):
        return None
    text = json.dumps(values if isinstance(values, list) else list(values), separators=(",", ":"))
    return _TRAILING_POINT_ZERO.sub(b"", text.encode("ascii"))


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
