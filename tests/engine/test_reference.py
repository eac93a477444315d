"""The vectorised engine and the plain reference evaluator agree exactly, on any model."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flowtime_sim.engine import evaluate
from flowtime_sim.engine.reference import evaluate_reference
from flowtime_sim.engine.synthetic import synthetic_model
from flowtime_sim.errors import ModelError, UserError
from flowtime_sim.model import (
    BinOp,
    Call,
    Expr,
    ListLit,
    Model,
    Neg,
    Num,
    Ref,
    format_expr,
    parse_model,
)

NUMBERS = st.one_of(
    st.integers(-6, 6).map(float),
    st.sampled_from([0.5, -0.5, 2.5, -2.5, 0.1, 1e300, -1e300, 1e-300]),
    st.floats(-1e6, 1e6, allow_nan=False, allow_subnormal=False),
)
ELEMENTWISE = {
    "MIN": 2,
    "MAX": 2,
    "CLAMP": 3,
    "MOD": 2,
    "FLOOR": 1,
    "CEIL": 1,
    "ROUND": 1,
    "STEP": 2,
}


def expressions(names: list[str]) -> st.SearchStrategy[Expr]:
    leaves = st.one_of(
        NUMBERS.map(lambda v: Num(v, 0)), st.sampled_from(names).map(lambda n: Ref(n, 0))
    )
    pulses = st.builds(
        lambda period, phase, amp: Call("PULSE", (Num(period, 0), Num(phase, 0), Num(amp, 0)), 0),
        st.integers(1, 5).map(float),
        st.integers(0, 6).map(float),
        NUMBERS,
    )

    def extend(inner: st.SearchStrategy[Expr]) -> st.SearchStrategy[Expr]:
        return st.one_of(
            inner.map(lambda e: Neg(e, 0)),
            st.builds(lambda op, a, b: BinOp(op, a, b, 0), st.sampled_from("+-*/"), inner, inner),
            st.sampled_from(sorted(ELEMENTWISE)).flatmap(
                lambda f: st.lists(inner, min_size=ELEMENTWISE[f], max_size=ELEMENTWISE[f]).map(
                    lambda args: Call(f, tuple(args), 0)
                )
            ),
            st.builds(
                lambda x, k: Call("SHIFT", (x, Num(k, 0)), 0), inner, st.integers(0, 14).map(float)
            ),
            st.builds(
                lambda x, w: Call("CONV", (x, ListLit(tuple(w), 0)), 0),
                inner,
                st.lists(NUMBERS, min_size=1, max_size=5),
            ),
        )

    return st.recursive(st.one_of(leaves, pulses), extend, max_leaves=10)


@st.composite
def models(draw: st.DrawFn) -> Model:
    bins = draw(st.integers(1, 12))
    nodes: list[dict[str, Any]] = []
    for i in range(draw(st.integers(1, 3))):
        values = draw(st.lists(NUMBERS, min_size=bins, max_size=bins))
        nodes.append({"id": f"c{i}", "kind": "const", "values": values})
    if draw(st.booleans()):
        values = draw(st.lists(st.integers(-9, 9), min_size=1, max_size=4, unique=True))
        weights = draw(st.lists(st.integers(0, 5), min_size=len(values), max_size=len(values)))
        if sum(weights) == 0:
            weights[0] = 1
        pmf = {"values": values, "probabilities": weights}
        nodes.append({"id": "p", "kind": "pmf", "pmf": pmf})
    for i in range(draw(st.integers(1, 4))):
        expr = draw(expressions([n["id"] for n in nodes]))
        nodes.append({"id": f"e{i}", "kind": "expr", "expr": format_expr(expr)})
    grid = {"bins": bins, "binSize": 1, "binUnit": "hours"}
    return parse_model({"schemaVersion": 1, "grid": grid, "nodes": nodes})


def outcome(run: Any) -> tuple[str, Any]:
    try:
        return "ok", run()
    except ModelError as error:
        return "error", str(error)


def assert_agree(model: Model, **options: Any) -> None:
    fast = outcome(lambda: evaluate(model, **options))
    plain = outcome(lambda: evaluate_reference(model, **options))
    assert fast[0] == plain[0], (fast, plain)
    if fast[0] == "error":
        assert fast[1] == plain[1]
        return
    assert list(fast[1]) == list(plain[1])
    for name, values in fast[1].items():
        # Exactly equal (== also makes 0.0 and -0.0 equal, the one allowed difference).
        assert values.tolist() == plain[1][name], name


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(models(), st.integers(0, 2**64 - 1))
def test_random_models_agree(model: Model, seed: int) -> None:
    assert_agree(model)
    assert_agree(model, mode="sample", seed=seed)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_synthetic_models_agree(seed: int) -> None:
    model = synthetic_model(150, 200, seed=seed)
    assert_agree(model)
    assert_agree(model, mode="sample", seed=seed)


def test_reference_refuses_an_unknown_mode() -> None:
    model = synthetic_model(2, 2)
    with pytest.raises(UserError, match=r"^mode 'quick' is not one of expected, sample$"):
        evaluate_reference(model, mode="quick")  # type: ignore[arg-type]


def test_reference_is_plain_lists() -> None:
    series = evaluate_reference(synthetic_model(3, 4))
    assert all(type(v) is float for values in series.values() for v in values)
    assert not any(isinstance(values, np.ndarray) for values in series.values())
