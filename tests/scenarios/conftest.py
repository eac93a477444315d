"""Fixtures for scenarios: the CLI in process, and the root every command uses."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from flowtime_sim.cli import main

Cli = Callable[..., Result]


@pytest.fixture
def sim(artifacts_root: Path) -> Cli:
    """``sim("sweep", ..., code=0)``: run the CLI in this process and check its exit code."""
    runner = CliRunner()

    def invoke(*args: str, code: int = 0) -> Result:
        result = runner.invoke(main, list(args), catch_exceptions=False)
        assert result.exit_code == code, (result.stdout, result.stderr)
        return result

    return invoke


@pytest.fixture
def sim_json(sim: Cli) -> Callable[..., Any]:
    def invoke(*args: str) -> Any:
        return json.loads(sim(*args, "--json").stdout)

    return invoke


def folders(root: Path, kind: str) -> list[str]:
    top = root / kind
    return sorted(p.name for p in top.iterdir()) if top.is_dir() else []


def model_versions(root: Path) -> list[str]:
    return sorted(f"{m.name}/{v.name}" for m in (root / "models").iterdir() for v in m.iterdir())
