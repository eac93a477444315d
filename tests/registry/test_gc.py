"""gc never takes staging from under a writer that is still running."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from flowtime_sim.builtin import file_storage
from flowtime_sim.builtin.file_storage import FileStorage

WORKER = Path(__file__).resolve().parent / "worker.py"


def _staging(root: Path) -> list[str]:
    folder = root / ".staging"
    return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


@pytest.mark.slow
def test_gc_with_no_grace_spares_a_live_writer(ft, root: Path) -> None:
    writer = subprocess.Popen(
        [sys.executable, str(WORKER), str(root), "slow", "1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while not _staging(root):
        assert writer.poll() is None and time.monotonic() < deadline
        time.sleep(0.02)
    live = _staging(root)
    assert ft.registry().gc(0) == []
    assert _staging(root) == live
    out, err = writer.communicate(timeout=60)
    assert writer.returncode == 0, err
    assert json.loads(out)["version"] == 1
    assert _staging(root) == []
    assert ft.registry().verify() == (1, [])


def test_staging_of_a_dead_process_or_another_host_goes_by_age(ft, root: Path) -> None:
    ft.create_model("tiny")
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    pid = int(dead.stdout)
    host = file_storage._host()
    names = {
        "mine": file_storage.staging_name(),
        "dead": f"1-aa@{pid}.{file_storage._process_start(os.getpid())}@{host}",
        "elsewhere": f"2-bb@{os.getpid()}.{file_storage._process_start(os.getpid())}@another-host",
        "unnamed": "3-cc",
    }
    for name in names.values():
        (root / ".staging" / name).mkdir(parents=True)
    assert ft.registry().gc(3600) == []
    assert ft.registry().gc(0) == sorted([names["dead"], names["elsewhere"], names["unnamed"]])
    assert _staging(root) == [names["mine"]]


def test_a_writer_whose_staging_vanishes_publishes_again(
    ft, root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write = FileStorage._write
    removed: list[Path] = []

    def vanishing(self: FileStorage, path: Path, data: bytes) -> None:
        if not removed:
            removed.append(path.parent)
            shutil.rmtree(path.parent)  # a gc on another host, or a person
        write(self, path, data)

    monkeypatch.setattr(FileStorage, "_write", vanishing)
    created = ft.create_model("tiny")
    assert removed and created.artifact.version == 1
    assert ft.registry().verify() == (1, [])


def test_a_writer_whose_staging_keeps_vanishing_fails_in_one_line(
    ft, root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from flowtime_sim.errors import UserError

    def vanishing(self: FileStorage, path: Path, data: bytes) -> None:
        shutil.rmtree(path.parent)
        raise FileNotFoundError(2, "No such file or directory", str(path))

    monkeypatch.setattr(FileStorage, "_write", vanishing)
    with pytest.raises(
        UserError,
        match=r"could not publish models/tiny_[0-9a-f]{8}/v1 in "
        rf"{root}: its staging folder was removed while being "
        r"written \(.*\); is something deleting \.staging/\?",
    ):
        ft.create_model("tiny")
