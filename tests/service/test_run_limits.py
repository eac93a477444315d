"""``POST /sim/run`` refuses a model too large to run before evaluating it."""

from __future__ import annotations

from pathlib import Path

from tests.service.conftest import Client, problem


def test_a_model_over_the_cell_limit_is_a_problem_naming_the_model(
    client: Client, artifacts_root: Path
) -> None:
    nodes = "\n".join(f'  - {{id: n{i}, kind: expr, expr: "1"}}' for i in range(5000))
    text = (
        f"schemaVersion: 1\ngrid: {{bins: 100000, binSize: 1, binUnit: minutes}}\nnodes:\n{nodes}\n"
    )
    doc = problem(client.post("/sim/run", json={"model": text}), 422, "model")
    assert doc["detail"] == (
        "the model has 5,000 nodes × 100,000 bins = 500,000,000 cells, more than the limit of "
        "50,000,000 cells (FLOWTIME_SIM_MAX_CELLS); run fewer bins or nodes, or raise the limit"
    )
    assert not (artifacts_root / "runs").exists()
