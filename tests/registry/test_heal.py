"""The listing index is a cache: missing, empty, corrupt or out of date, it rebuilds itself
from the files and says so in one line on stderr."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from flowtime_sim.registry import Query
from flowtime_sim.types import ParameterSources

WORKER = Path(__file__).resolve().parent / "worker.py"


def _fill(ft, count: int = 3) -> list[str]:
    ids = [
        ft.create_model("tiny", ParameterSources(sets={"level": i})).artifact.id
        for i in range(count)
    ]
    ft.run_model(ids[0])
    return ids


def _fresh(root: Path):
    from worker import make

    return make(str(root))


def _listed(ft) -> set[str]:
    return {str(a["id"]) for a in ft.list(Query(limit=1000)).items}


def _index(root: Path) -> Path:
    return root / ".index" / "registry.sqlite"


@pytest.mark.parametrize(
    ("damage", "reason"),
    [
        ("delete folder", "missing"),
        ("delete file", "missing"),
        ("truncate", "empty"),
        ("random bytes", "corrupt"),
    ],
)
def test_a_damaged_index_rebuilds_itself_and_lists_everything(
    ft, root: Path, capsys: pytest.CaptureFixture[str], damage: str, reason: str
) -> None:
    _fill(ft)
    expected = _listed(ft)
    ft.close()
    capsys.readouterr()
    if damage == "delete folder":
        shutil.rmtree(root / ".index")
    elif damage == "delete file":
        _index(root).unlink()
    elif damage == "truncate":
        _index(root).write_bytes(b"")
    else:
        _index(root).write_bytes(os.urandom(4096))
    again = _fresh(root)
    try:
        assert _listed(again) == expected and len(expected) == 4
        assert capsys.readouterr().err == (
            f"rebuilt the listing index of {root}: it was {reason} (4 artifacts)\n"
        )
        assert _listed(again) == expected
        assert capsys.readouterr().err == ""
    finally:
        again.close()


@pytest.mark.parametrize("command", ["list", "show", "new", "reindex", "run"])
def test_every_command_survives_a_corrupt_index(cli, artifacts_root: Path, command: str) -> None:
    made = json.loads(cli("new", "--template", "checkout", "--json").stdout)
    _index(artifacts_root).write_bytes(os.urandom(3000))
    args = {
        "list": ["list", "--json"],
        "show": ["show", made["model_id"], "--json"],
        "new": ["new", "--template", "checkout", "--name", "b", "--json"],
        "reindex": ["reindex"],
        "run": ["run", "--model", made["model_id"], "--json"],
    }[command]
    result = cli(*args)
    assert result.exit_code == 0
    assert (
        f"rebuilt the listing index of {artifacts_root}: it was corrupt (1 artifact)"
        in result.stderr
    )
    assert json.loads(cli("list", "--json").stdout)["total"] == (
        2 if command in {"new", "run"} else 1
    )


def _damage_pages(registry, root: Path) -> None:
    """Overwrite every page after the first of the open index: the header still says SQLite."""
    registry.index.db.close()
    data = bytearray(_index(root).read_bytes())
    data[4096:] = os.urandom(len(data) - 4096)
    _index(root).write_bytes(bytes(data))
    for name in ("registry.sqlite-wal", "registry.sqlite-shm"):
        (root / ".index" / name).unlink(missing_ok=True)
    registry.index.db = sqlite3.connect(_index(root), isolation_level=None)


def test_an_index_damaged_while_open_is_replaced(
    ft, root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _fill(ft)
    expected = _listed(ft)
    _damage_pages(ft.registry(), root)
    capsys.readouterr()
    assert _listed(ft) == expected
    assert "it was corrupt (4 artifacts)" in capsys.readouterr().err


def test_reindex_replaces_an_index_damaged_while_open(ft, root: Path) -> None:
    _fill(ft)
    expected = _listed(ft)
    _damage_pages(ft.registry(), root)
    assert ft.registry().reindex() == 4
    assert _listed(ft) == expected


def test_artifacts_copied_in_by_hand_are_listed(
    ft, root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from worker import make

    mine = set(_fill(ft, 2))
    elsewhere = tmp_path / "elsewhere"
    other = make(str(elsewhere))
    theirs = {
        other.create_model("tiny", ParameterSources(sets={"level": 50 + i})).artifact.id
        for i in range(2)
    }
    other.close()
    capsys.readouterr()
    assert {i for i in _listed(ft) if "run" not in i} == mine
    for model_id in theirs:  # restored from a backup: the folders with their ledger records
        shutil.copytree(elsewhere / "models" / model_id, root / "models" / model_id)
        shutil.copytree(
            elsewhere / "ledger" / "models" / model_id, root / "ledger" / "models" / model_id
        )
    assert {i for i in _listed(ft) if "run" not in i} == mine | theirs
    assert capsys.readouterr().err == (
        f"rebuilt the listing index of {root}: it was out of date with the files (5 artifacts)\n"
    )


def test_a_folder_removed_by_hand_leaves_the_listing(
    ft, root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ids = _fill(ft, 2)
    shutil.rmtree(root / "models" / ids[1])
    assert ids[1] not in _listed(ft)
    assert "it was out of date with the files (2 artifacts)" in capsys.readouterr().err


def test_own_writes_and_other_processes_writes_rebuild_nothing(
    ft, root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _fill(ft)
    second = _fresh(root)
    try:
        second.create_model("tiny", ParameterSources(sets={"level": 99}))
        second.delete(second.list(Query(kind="run")).items[0]["id"])
        assert len(_listed(ft)) == 4
        assert len(_listed(second)) == 4
    finally:
        second.close()
    assert capsys.readouterr().err == ""
    assert ft.registry().index.meta("fingerprint") == ft.registry().storage.listing_fingerprint()


def test_a_tampered_catalog_is_left_out_of_a_rebuild(
    ft, root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ids = _fill(ft, 2)
    catalog = root / "models" / ids[1] / "v1" / "catalog.json"
    catalog.write_bytes(catalog.read_bytes().replace(b'"private"', b'"public"'))
    shutil.rmtree(root / ".index")
    again = _fresh(root)
    try:
        assert ids[1] not in _listed(again)
        assert capsys.readouterr().err == (
            f"rebuilt the listing index of {root}: it was missing (2 artifacts; 1 left out, "
            "see 'flowtime-sim verify')\n"
        )
        again.create_model("tiny", ParameterSources(sets={"level": 77}))
        assert len(_listed(again)) == 3  # the left-out folder does not make it "out of date"
        assert capsys.readouterr().err == ""
    finally:
        again.close()


@pytest.mark.slow
def test_twenty_processes_opening_a_new_root_at_once_all_succeed(tmp_path: Path) -> None:
    # before, about one root in ten had a process fail with "database is locked"
    opener = Path(__file__).resolve().parent / "open_index.py"
    for attempt in range(10):
        index = tmp_path / f"root{attempt}" / ".index" / "registry.sqlite"
        start = time.time() + 2.5
        procs = [
            subprocess.Popen(
                [sys.executable, str(opener), str(index)],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                env={**os.environ, "START_AT": str(start)},
            )
            for _ in range(20)
        ]
        found = []
        for proc in procs:
            out, err = proc.communicate(timeout=120)
            assert proc.returncode == 0, err
            assert err == ""
            found.append(out.strip())
        assert set(found) <= {"missing", "empty"}  # never "corrupt"
        assert sorted(p.name for p in index.parent.iterdir()) == [
            "registry.sqlite",
            "registry.sqlite.lock",
        ]


@pytest.mark.slow
def test_twenty_processes_listing_a_new_root_at_once_all_succeed(tmp_path: Path) -> None:
    root = tmp_path / "root"
    start = time.time() + 3.0 + 0.12 * 20
    procs = [
        subprocess.Popen(
            [sys.executable, str(WORKER), str(root), "list", "0"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "START_AT": str(start)},
        )
        for _ in range(20)
    ]
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        assert err == ""
        assert json.loads(out) == {"total": 0}
