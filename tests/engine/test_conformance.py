"""Every conformance case (the project's copy of the shared cases, ``tests/conformance``):
the engine and the reference evaluator both match it."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from flowtime_sim.engine import evaluate
from flowtime_sim.engine.reference import evaluate_reference
from flowtime_sim.model import load_model_file

CONFORMANCE = Path(__file__).resolve().parents[1] / "conformance"
CASES = sorted(p.name.removesuffix(".model.yaml") for p in CONFORMANCE.glob("*.model.yaml"))


def expected(case: str) -> dict[str, list[float]]:
    data: dict[str, list[float]] = json.loads(
        (CONFORMANCE / f"{case}.expected.json").read_text(encoding="utf-8")
    )
    return data


def test_the_cases_are_there() -> None:
    assert len(CASES) >= 4, f"conformance cases missing in {CONFORMANCE}"


@pytest.mark.parametrize("case", CASES)
def test_engine_matches_case(case: str) -> None:
    model = load_model_file(CONFORMANCE / f"{case}.model.yaml")
    series = evaluate(model)
    want = expected(case)
    assert want, "a case must expect something"
    assert {o.series for o in model.outputs} == set(want)
    for name, values in want.items():
        np.testing.assert_allclose(series[name], values, rtol=1e-12, atol=1e-12, err_msg=name)


@pytest.mark.parametrize("case", CASES)
def test_reference_matches_case(case: str) -> None:
    model = load_model_file(CONFORMANCE / f"{case}.model.yaml")
    series = evaluate_reference(model)
    for name, values in expected(case).items():
        np.testing.assert_allclose(series[name], values, rtol=1e-12, atol=1e-12, err_msg=name)
