"""The bucket's journal: one create-only object per change, named to sort by time.

Every published ``catalog.json`` and every ``put_if_absent`` file (tombstones) is also written
as ``_journal/{seconds:011d}.{microseconds}-{random}.json`` holding ``{"key", "data"}``, where
``seconds`` is the service's clock. A reader lists the journal after its cursor
(``StartAfter``) and fetches only the entries it has not seen, so another machine's artifacts
reach its listing without a rebuild, for the price of one list request in the usual case.

Writers on different machines do not finish in name order, so a reader re-lists names it has
already passed and remembers which of those it has applied: the last ``NARROW_S`` seconds on
every look, and every ``WIDE_EVERY_S`` seconds the last ``lag`` seconds. An entry written more
than ``lag - WIDE_EVERY_S`` seconds after its name was chosen could be missed (``reindex``
repairs that); in practice the gap is one request.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from flowtime_sim_s3.objects import Bucket

PREFIX = "_journal"
CURSOR_FORMAT = 1
NARROW_S = 10
WIDE_EVERY_S = 30


class Journal:
    def __init__(self, bucket: Bucket, object_key: Callable[[str], str], *,
                 lag_s: float, refresh_interval_s: float, pool: ThreadPoolExecutor) -> None:
        self.bucket = bucket
        self.object_key = object_key
        self.lag_s = lag_s
        self.refresh_interval_s = refresh_interval_s
        self.pool = pool
        self._own: set[str] = set()  # entries this process wrote: already in its index
        self._lock = threading.Lock()
        self._last: tuple[float, str] | None = None

    @property
    def _dir(self) -> str:
        return self.object_key(PREFIX) + "/"

    def record(self, key: str, data: bytes, when: float) -> str:
        """Append one change; returns the entry's name."""
        # the service's second, then this machine's microsecond: entries from one machine sort
        # in the order they were made even within a second
        name = f"{int(when):011d}.{int(time.time() * 1e6) % 1_000_000:06d}-" \
               f"{secrets.token_hex(6)}.json"
        try:
            entry = {"key": key, "data": data.decode("utf-8")}
        except UnicodeDecodeError:
            import base64

            entry = {"key": key, "base64": base64.b64encode(data).decode()}
        with self._lock:
            self._own.add(name)
        self.bucket.put(self._dir + name, json.dumps(entry, ensure_ascii=False).encode())
        return name

    def changes_since(self, cursor: str | None) -> tuple[list[tuple[str, bytes]], str]:
        """``(key, data)`` of every change not yet seen through ``cursor``, oldest first, and
        the cursor to pass next time. ``None`` starts from the beginning."""
        now = time.monotonic()
        if cursor is not None and self._last is not None and self._last[1] == cursor \
                and now - self._last[0] < self.refresh_interval_s:
            return [], cursor
        after, seen, wide, last = _parse(cursor)
        narrow = last - wide < WIDE_EVERY_S
        start = max(after, _name(last - NARROW_S)) if narrow else after
        listing = self.bucket.list_objects(self._dir,
                                           start_after=self._dir + start if start else None)
        names = [o.key[len(self._dir):] for o in listing.objects]
        with self._lock:
            own = set(self._own)
        wanted = [n for n in names if n not in seen and n not in own]
        entries = list(self.pool.map(lambda n: self.bucket.get(self._dir + n), wanted))
        changes = [c for data in entries if data is not None and (c := _change(data)) is not None]
        if not narrow:
            # names older than the lag are final: stop listing them, forget they were seen
            wide = listing.server_time
            after = max(after, _name(wide - self.lag_s))
        seen = {n for n in {*seen, *names} if n > after}
        out = json.dumps({"v": CURSOR_FORMAT, "after": after, "seen": sorted(seen),
                          "wide": wide, "last": listing.server_time}, separators=(",", ":"))
        self._last = (time.monotonic(), out)
        return changes, out


def _name(seconds: float) -> str:
    return f"{max(0, int(seconds)):011d}"


def _parse(cursor: str | None) -> tuple[str, set[str], float, float]:
    """``(after, seen, time of the last wide look, time of the last look)``."""
    if cursor:
        try:
            value: Any = json.loads(cursor)
            if value.get("v") == CURSOR_FORMAT:
                return (str(value["after"]), {str(n) for n in value["seen"]},
                        float(value["wide"]), float(value["last"]))
        except (ValueError, AttributeError, KeyError, TypeError):
            pass  # a cursor of another format: read the journal again from the start
    return "", set(), 0.0, float("inf")


def _change(data: bytes) -> tuple[str, bytes] | None:
    try:
        entry = json.loads(data)
        key = str(entry["key"])
        if "base64" in entry:
            import base64

            return key, base64.b64decode(entry["base64"])
        return key, str(entry["data"]).encode("utf-8")
    except (ValueError, KeyError, TypeError):
        return None  # not a journal entry this version understands
