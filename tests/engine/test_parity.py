"""Parity with FlowTime's Rust engine: every golden case in ``tests/engine/parity`` and every
conformance case in ``tests/conformance``.

A case is ``NAME.model.yaml`` with ``NAME.expected.json`` (``{series: values}``) produced by
FlowTime's Rust engine; the model's first line says what it exercises. Values compare with a
relative tolerance of 1e-9 (absolute 1e-12 near zero). Not compared: the Rust engine's
helper columns ``<snake>_wip_limit`` and ``<snake>_one_minus_rho`` and its edge series
``edge_*`` (which flowtime-sim does not write) and the column of a router node itself
(always 0 there; a router has no series of its own here, its targets do). Every other
expected series must be written, and nothing else, except what the model's ``outputs``
leave out with ``exclude`` (which FlowTime's engines ignore): without ``outputs``, the
written series are exactly FlowTime's.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from flowtime_sim.engine import evaluate
from flowtime_sim.model import Model, load_model_document, load_model_file

TESTS = Path(__file__).resolve().parents[1]
FOLDERS = (TESTS / "engine" / "parity", TESTS / "conformance")
CASES = sorted(path for folder in FOLDERS for path in folder.glob("*.model.yaml"))
HELPERS = ("_wip_limit", "_one_minus_rho")
EDGES = "edge_"  # the Rust engine's edge series (source/target edges); none are written here


def compared(model: Model, expected: dict[str, list[float]]) -> dict[str, list[float]]:
    routers = {node.id for node in model.nodes if node.kind == "router"}
    return {
        name: values
        for name, values in expected.items()
        if not name.endswith(HELPERS) and not name.startswith(EDGES) and name not in routers
    }


def excluded(path: Path) -> set[str]:
    """The series names the model's ``outputs`` exclude."""
    document = load_model_document(path.read_bytes())
    names: set[str] = set()
    for entry in document.get("outputs") or []:
        exclude = entry.get("exclude") or []
        names.update([exclude] if isinstance(exclude, str) else exclude)
    return names


def test_there_are_cases() -> None:
    assert len(CASES) >= 16


@pytest.mark.parametrize("path", CASES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_engine_matches_rust_engine(path: Path) -> None:
    model = load_model_file(path)
    expected_path = path.with_name(path.name.replace(".model.yaml", ".expected.json"))
    expected = compared(model, json.loads(expected_path.read_text(encoding="utf-8")))
    assert expected, "a case must expect something"
    series = evaluate(model)
    assert {output.series for output in model.outputs} == set(expected) - excluded(path)
    for name, values in expected.items():
        np.testing.assert_allclose(series[name], values, rtol=1e-9, atol=1e-12, err_msg=name)


@pytest.mark.parametrize("path", sorted(FOLDERS[0].glob("*.model.yaml")), ids=lambda p: p.name)
def test_first_line_says_what_the_case_exercises(path: Path) -> None:
    assert path.read_text(encoding="utf-8").startswith("# ")
