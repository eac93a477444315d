"""Another machine's changes reach this one through the journal."""

from __future__ import annotations

import json
from pathlib import Path

from flowtime_sim_s3 import S3Storage
from flowtime_sim_s3.journal import NARROW_S, WIDE_EVERY_S


def _machine(url: str, cache: Path, **options: str) -> S3Storage:
    return S3Storage(url, {"cache_dir": str(cache), "refresh_interval": "0", **options})


def test_what_one_machine_publishes_the_other_reads_once(storage: S3Storage,
                                                         tmp_path: Path) -> None:
    other = _machine(storage.url, tmp_path / "b")
    changes, cursor = other.changes_since(None)
    assert changes == []
    assert storage.publish("models/m/v1", {"catalog.json": b'{"id": "m"}'})
    assert storage.publish("runs/r", {"data.csv": b"x"})  # no catalog: nothing to journal
    assert storage.put_if_absent("tombstones/models/m/v1", b'{"by": "x"}')
    changes, cursor = other.changes_since(cursor)
    assert changes == [("models/m/v1/catalog.json", b'{"id": "m"}'),
                       ("tombstones/models/m/v1", b'{"by": "x"}')]
    assert other.changes_since(cursor)[0] == []
    # the writer already indexed its own changes: it fetches none of them again
    assert storage.changes_since(None)[0] == []


def _late_entry(storage: S3Storage, seconds: int, key: str) -> None:
    """An entry whose writer chose its name at ``seconds`` and finishes only now."""
    storage.bucket.put(storage._obj(f"_journal/{seconds:011d}.000000-{key[-4:]}.json"),
                       json.dumps({"key": key, "data": key}).encode())


def test_late_entries_inside_the_lag_are_picked_up(storage: S3Storage, tmp_path: Path) -> None:
    other = _machine(storage.url, tmp_path / "b", journal_lag="120")
    assert storage.put_if_absent("tombstones/a", b"a")
    changes, cursor = other.changes_since(None)
    assert [k for k, _ in changes] == ["tombstones/a"]
    now = int(json.loads(cursor)["last"])
    # every look re-lists the last NARROW_S seconds
    _late_entry(storage, now - NARROW_S + 2, "tombstones/late-1")
    changes, cursor = other.changes_since(cursor)
    assert changes == [("tombstones/late-1", b"tombstones/late-1")]
    # older stragglers wait for the next wide look, which re-lists the whole lag
    _late_entry(storage, now - 60, "tombstones/late-2")
    assert other.changes_since(cursor)[0] == []
    state = json.loads(cursor)
    state["wide"] -= WIDE_EVERY_S
    changes, cursor = other.changes_since(json.dumps(state))
    assert changes == [("tombstones/late-2", b"tombstones/late-2")]
    # names older than the lag are no longer listed, nor remembered
    state = json.loads(cursor)
    assert state["after"] >= f"{now - 120:011d}"
    assert state["seen"] and all(name > state["after"] for name in state["seen"])
    _late_entry(storage, now - 1000, "tombstones/ancient")
    state["wide"] -= WIDE_EVERY_S
    assert other.changes_since(json.dumps(state))[0] == []


def test_looks_are_throttled_by_the_refresh_interval(storage: S3Storage, tmp_path: Path) -> None:
    slow = _machine(storage.url, tmp_path / "b", refresh_interval="3600")
    _, cursor = slow.changes_since(None)
    assert storage.put_if_absent("tombstones/a", b"a")
    assert slow.changes_since(cursor) == ([], cursor)
    assert _machine(storage.url, tmp_path / "c").changes_since(cursor)[0] == [
        ("tombstones/a", b"a")]


def test_an_unreadable_cursor_starts_from_the_beginning(storage: S3Storage,
                                                        tmp_path: Path) -> None:
    assert storage.put_if_absent("tombstones/a", b"\xff\xfe")  # not UTF-8: kept as base64
    other = _machine(storage.url, tmp_path / "b")
    assert other.changes_since("not a cursor")[0] == [("tombstones/a", b"\xff\xfe")]
    assert other.changes_since('{"v": 99}')[0] == [("tombstones/a", b"\xff\xfe")]
