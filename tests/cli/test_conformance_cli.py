"""The engine conformance cases (tests/conformance), run through the CLI as a user would."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import pytest
from click.testing import CliRunner

from flowtime_sim.cli import main

CONFORMANCE = Path(__file__).resolve().parents[1] / "conformance"
CASES = sorted(CONFORMANCE.glob("*.model.yaml"))


def test_the_conformance_folder_is_there() -> None:
    assert CASES, f"no conformance cases found in {CONFORMANCE}"


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.name.removesuffix(".model.yaml"))
def test_run_file_reproduces_the_expected_series(case: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main,
        ["run", "--file", str(case), "--root", str(tmp_path), "--json"],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.stderr
    run_id = json.loads(result.stdout)["run_id"]
    with open(tmp_path / "runs" / run_id / "binned_v0.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    got: dict[str, list[float]] = {}
    for row in rows:
        got.setdefault(row["series"], []).append(float(row["value"]))
        assert int(row["bin"]) == len(got[row["series"]]) - 1
    expected = json.loads(
        case.with_name(case.name.replace(".model.yaml", ".expected.json")).read_text()
    )
    assert set(got) == set(expected)
    for series, values in expected.items():
        assert len(got[series]) == len(values)
        for a, b in zip(got[series], values, strict=True):
            assert math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-12), (series, a, b)
