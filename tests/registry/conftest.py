from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from worker import make

from flowtime_sim.core import Flowtime

WORKER = Path(__file__).resolve().parent / "worker.py"


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return tmp_path / "root"


@pytest.fixture
def ft(root: Path) -> Iterator[Flowtime]:
    flowtime = make(str(root))
    yield flowtime
    flowtime.close()


@pytest.fixture
def ft_versions(root: Path) -> Iterator[Flowtime]:
    flowtime = make(str(root), many_versions=True)
    yield flowtime
    flowtime.close()
