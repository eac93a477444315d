"""``run`` as a user meets its limits: a model too large to run, and a seed that does not
matter in expected mode."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from flowtime_sim.cli import main

MODEL = """\
schemaVersion: 1
grid: {bins: 3, binSize: 1, binUnit: hours}
nodes:
  - {id: a, kind: const, values: [1, 2, 3]}
  - {id: b, kind: expr, expr: "a * 2"}
"""


@pytest.fixture
def model_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("FLOWTIME_ARTIFACTS_ROOT", str(tmp_path / "root"))
    path = tmp_path / "small.yaml"
    path.write_text(MODEL, encoding="utf-8")
    return path


def test_a_model_over_the_cell_limit_is_one_line(
    model_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FLOWTIME_SIM_MAX_CELLS", "5")
    result = CliRunner().invoke(main, ["run", "--file", str(model_file)])
    assert result.exit_code == 1
    assert result.stderr == (
        "error: the model has 2 nodes × 3 bins = 6 cells, more than the limit of 5 cells "
        "(FLOWTIME_SIM_MAX_CELLS); run fewer bins or nodes, or raise the limit\n"
    )


def test_seed_without_sample_is_noted_and_makes_no_second_run(model_file: Path) -> None:
    runner = CliRunner()
    first = runner.invoke(main, ["run", "--file", str(model_file), "--json"])
    seeded = runner.invoke(main, ["run", "--file", str(model_file), "--seed", "42", "--json"])
    assert first.exit_code == seeded.exit_code == 0
    assert first.stderr == ""
    assert seeded.stderr == (
        "note: --seed only matters with --sample; the expected-mode run ignores it\n"
    )
    assert '"status": "unchanged"' in seeded.stdout
    runs = sorted(p.name for p in (model_file.parent / "root" / "runs").iterdir())
    assert len(runs) == 1 and runs[0].startswith("small-run_")
    sampled = runner.invoke(main, ["run", "--file", str(model_file), "--seed", "42", "--sample"])
    assert sampled.exit_code == 0 and sampled.stderr == ""
    assert len(list((model_file.parent / "root" / "runs").iterdir())) == 2


def test_a_run_shows_the_warnings_its_catalog_records(model_file: Path) -> None:
    model_file.write_text(
        MODEL + "  - {id: size, kind: pmf, pmf: {values: [1, 2], probabilities: [0.2, 0.6]}}\n",
        encoding="utf-8",
    )
    result = CliRunner().invoke(main, ["run", "--file", str(model_file)])
    assert result.exit_code == 0
    assert result.stderr == (
        "warning: node 'size': pmf probabilities sum to 0.8, not 1; they "
        "were rescaled to sum to 1\n"
    )
