"""Many writers at once and writers killed mid-publication, as real processes.

Correctness comes from the storage's no-clobber publication, never from locks; these tests are
what shows it.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

WORKER = Path(__file__).resolve().parent / "worker.py"

pytestmark = pytest.mark.slow


def _spawn(
    root: Path, mode: str, arg: int, *, quiet: bool = False, start_at: float = 0.0, hold: str = ""
) -> subprocess.Popen[str]:
    out = subprocess.DEVNULL if quiet else subprocess.PIPE
    return subprocess.Popen(
        [sys.executable, str(WORKER), str(root), mode, str(arg)],
        stdout=out,
        stderr=out,
        text=True,
        env={**os.environ, "START_AT": str(start_at), "HOLD": hold},
    )


def _together(count: int) -> float:
    """A start time late enough for ``count`` workers to load (about 0.4 s each on 2 cores)."""
    return time.time() + 8.0 + 0.3 * count


def _listing(root: Path) -> list[tuple[str, int]]:
    """(id, version) of every listed model version, after checking that a reindex from the
    files leaves the index as the writers left it."""
    from worker import make

    from flowtime_sim.registry import Query

    ft = make(str(root))
    try:
        page = ft.list(Query(all_versions=True, limit=1000))
        listed = sorted((str(a["id"]), int(a["version"])) for a in page.items)
        registry = ft.registry()
        before = registry.index.listing_snapshot()
        registry.reindex()
        assert registry.index.listing_snapshot() == before
        return listed
    finally:
        ft.close()


def _results(procs: list[subprocess.Popen[str]]) -> list[dict[str, object]]:
    out = []
    for p in procs:
        stdout, stderr = p.communicate(timeout=120)
        assert p.returncode == 0, stderr
        assert stderr == ""  # no warnings, and no "rebuilt the listing index" on a new root
        out.append(json.loads(stdout.strip().splitlines()[-1]))
    return out


def _version_folders(root: Path) -> list[Path]:
    return sorted(p for p in (root / "models").glob("*/*") if p.is_dir())


@pytest.mark.parametrize("hold", ["", "publish"])
def test_fifty_processes_creating_the_same_model_end_with_one_v1(root: Path, hold: str) -> None:
    start = _together(50)
    results = _results([_spawn(root, "same", 7, start_at=start, hold=hold) for _ in range(50)])
    assert {(r["id"], r["version"]) for r in results} == {(results[0]["id"], 1)}
    assert sum(not r["unchanged"] for r in results) == 1
    folders = _version_folders(root)
    assert [f.name for f in folders] == ["v1"]
    assert sorted(p.name for p in folders[0].iterdir()) == [
        "catalog.json",
        "model.yaml",
        "preview.svg",
    ]
    assert list((root / ".staging").iterdir()) == []
    assert _listing(root) == [(str(results[0]["id"]), 1)]


def test_twenty_processes_publishing_different_versions(root: Path) -> None:
    start = _together(20)
    results = _results([_spawn(root, "version", i, start_at=start) for i in range(1, 21)])
    assert sorted(r["version"] for r in results) == list(range(1, 21))
    assert len({r["id"] for r in results}) == 1
    folders = _version_folders(root)
    assert sorted(int(f.name[1:]) for f in folders) == list(range(1, 21))
    template_versions = set()
    for folder in folders:
        catalog = json.loads((folder / "catalog.json").read_text())
        assert set(catalog["files"]) | {"catalog.json"} == {p.name for p in folder.iterdir()}
        template_versions.add(catalog["template_version"])
    assert len(template_versions) == 20
    assert _listing(root) == [(str(results[0]["id"]), n) for n in range(1, 21)]


def test_publishers_killed_at_random_points_leave_nothing_partial(root: Path) -> None:
    from worker import make

    rng = random.Random(20261125)
    # the delay covers start-up (~0.3 s) so most kills land while models are being published
    for attempt in range(50):
        proc = _spawn(root, "loop", attempt, quiet=True)
        time.sleep(0.35 + rng.random() * 0.25)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    ft = make(str(root))
    registry = ft.registry()
    listed = registry.index.listing_snapshot()
    checked, problems = registry.verify()
    assert problems == []
    assert checked == len(_version_folders(root)) > 0
    for folder in _version_folders(root):
        catalog = json.loads((folder / "catalog.json").read_text())
        assert set(catalog["files"]) | {"catalog.json"} == {p.name for p in folder.iterdir()}
    assert registry.reindex() == checked
    assert registry.index.listing_snapshot() == listed
    # what the kills left in staging is garbage, collected by gc once old enough
    leftovers = sorted(p.name for p in (root / ".staging").iterdir())
    assert registry.gc(3600) == []
    assert registry.gc(0) == leftovers
    assert list((root / ".staging").iterdir()) == []
    ft.close()
