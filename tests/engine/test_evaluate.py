"""The engine's semantics (SPEC §5), function by function, its errors and its sample mode."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from flowtime_sim.engine import effective_seed, evaluate
from flowtime_sim.engine.pcg32 import Pcg32
from flowtime_sim.engine.reference import evaluate_reference
from flowtime_sim.errors import ModelError, UserError
from flowtime_sim.model import (
    FUNCTIONS,
    Call,
    ConstNode,
    ExprNode,
    ListLit,
    Model,
    Num,
    PmfNode,
    Ref,
    references,
)
from flowtime_sim.model.types import Grid, Output

BuildModel = Callable[..., Model]


def values_of(build: BuildModel, expr: str, bins: int = 1, **consts: Any) -> list[float]:
    model = build({**consts, "out": expr}, bins=bins)
    result: list[float] = evaluate(model)["out"].tolist()
    return result


def test_hello_model(build: BuildModel) -> None:
    model = build({"demand": [10, 10, 10], "served": "demand * 0.8"}, bins=3)
    assert evaluate(model)["served"].tolist() == [8.0, 8.0, 8.0]


@pytest.mark.parametrize(
    ("x", "rounded"),
    [
        (2.5, 3.0),
        (-2.5, -3.0),
        (0.5, 1.0),
        (-0.5, -1.0),
        (1.5, 2.0),
        (2.4, 2.0),
        (-2.6, -3.0),
        (0.49999999999999994, 0.0),  # floor(x + 0.5) would say 1
        (2.4999999999999996, 2.0),
        (4503599627370495.5, 4503599627370496.0),
        (2.0**53 + 2, 2.0**53 + 2),
        (0.0, 0.0),
    ],
)
def test_round_is_half_away_from_zero(build: BuildModel, x: float, rounded: float) -> None:
    assert values_of(build, "ROUND(x)", x=[x]) == [rounded]


@pytest.mark.parametrize(
    ("a", "b", "remainder"),
    [
        (7, 3, 1),
        (-7, 3, 2),
        (7, -3, -2),
        (-7, -3, -1),
        (6, 3, 0),
        (5.5, 3, 2.5),
        (-2.5, 3, 0.5),
        (5.5, -3, -0.5),
        (7, 0, 0),
        (0, 0, 0),
        (7, 2.5, 2),
    ],
)
def test_mod_has_the_sign_of_b(build: BuildModel, a: float, b: float, remainder: float) -> None:
    assert values_of(build, "MOD(a, b)", a=[a], b=[b]) == [remainder]


def test_mod_with_a_literal_divisor(build: BuildModel) -> None:
    assert values_of(build, "MOD(x, 0 - 3)", bins=3, x=[7, -4, 3]) == [-2, -1, 0]
    assert values_of(build, "MOD(x, 0)", bins=3, x=[7, -4, 3]) == [0, 0, 0]


def test_division_by_zero_is_zero(build: BuildModel) -> None:
    got = values_of(build, "a / b", bins=4, a=[1, -1, 0, 6], b=[0, 0, 0, 3])
    assert got == [0, 0, 0, 2]
    assert values_of(build, "a / (b - b)", bins=2, a=[1, 2], b=[5, 6]) == [0, 0]
    assert values_of(build, "1 / 0 + 2", bins=2) == [2, 2]


def test_shift(build: BuildModel) -> None:
    x = [1, 2, 3, 4]
    assert values_of(build, "SHIFT(x, 0)", bins=4, x=x) == [1, 2, 3, 4]
    assert values_of(build, "SHIFT(x, 1)", bins=4, x=x) == [0, 1, 2, 3]
    assert values_of(build, "SHIFT(x, 3)", bins=4, x=x) == [0, 0, 0, 1]
    assert values_of(build, "SHIFT(x, 4)", bins=4, x=x) == [0, 0, 0, 0]
    assert values_of(build, "SHIFT(x, 100)", bins=4, x=x) == [0, 0, 0, 0]
    assert values_of(build, "SHIFT(7, 2)", bins=4) == [0, 0, 7, 7]
    assert values_of(build, "SHIFT(SHIFT(x, 1) * 2, 1)", bins=4, x=x) == [0, 0, 2, 4]


def test_conv(build: BuildModel) -> None:
    x = [10, 20, 30]
    assert values_of(build, "CONV(x, [1, 0.5])", bins=3, x=x) == [10, 25, 40]
    # More weights than bins: the extra ones see only bins before the start.
    assert values_of(build, "CONV(x, [1, 1, 1, 1, 1, 1])", bins=3, x=x) == [10, 30, 60]
    assert values_of(build, "CONV(x, [2])", bins=1, x=[4]) == [8]
    assert values_of(build, "CONV(1, [0.5, 0.5])", bins=3) == [0.5, 1, 1]
    assert values_of(build, "CONV(x, [0, 0, 1])", bins=3, x=x) == [0, 0, 10]


def test_conv_adds_terms_in_weight_order(build: BuildModel) -> None:
    got = values_of(build, "CONV(x, [0.5, 0.3, 0.2])", bins=3, x=[3, 7, -4])
    assert got[2] == 0.5 * -4 + 0.3 * 7 + 0.2 * 3


def test_floor_ceil(build: BuildModel) -> None:
    x = [2.5, -2.5, 3, -0.1]
    assert values_of(build, "FLOOR(x)", bins=4, x=x) == [2, -3, 3, -1]
    assert values_of(build, "CEIL(x)", bins=4, x=x) == [3, -2, 3, 0]


def test_step_is_one_from_the_threshold_up(build: BuildModel) -> None:
    assert values_of(build, "STEP(x, 3)", bins=4, x=[2.9, 3, 3.1, -5]) == [0, 1, 1, 0]
    assert values_of(build, "STEP(x, t)", bins=2, x=[1, 1], t=[1, 2]) == [1, 0]


def test_min_max_clamp(build: BuildModel) -> None:
    a, b = [1, 5, -2], [3, 2, -2]
    assert values_of(build, "MIN(a, b)", bins=3, a=a, b=b) == [1, 2, -2]
    assert values_of(build, "MAX(a, b)", bins=3, a=a, b=b) == [3, 5, -2]
    assert values_of(build, "CLAMP(a, 0, 2)", bins=3, a=a) == [1, 2, 0]
    assert values_of(build, "CLAMP(a, 4, 2)", bins=3, a=a) == [4, 4, 4]  # lo wins


def test_pulse(build: BuildModel) -> None:
    assert values_of(build, "PULSE(1)", bins=3) == [1, 1, 1]
    assert values_of(build, "PULSE(3)", bins=7) == [1, 0, 0, 1, 0, 0, 1]
    assert values_of(build, "PULSE(3, 1, 2)", bins=8) == [0, 2, 0, 0, 2, 0, 0, 2]
    assert values_of(build, "PULSE(2, 10, 5)", bins=4) == [0, 0, 0, 0]
    assert values_of(build, "PULSE(2, 0, -1.5)", bins=3) == [-1.5, 0, -1.5]


def test_every_function_the_parser_knows_evaluates(build: BuildModel) -> None:
    samples = {
        "SHIFT": "SHIFT(x, 1)",
        "CONV": "CONV(x, [1, 2])",
        "PULSE": "PULSE(2)",
        "CLAMP": "CLAMP(x, 0, 1)",
    }
    for name, (low, _) in FUNCTIONS.items():
        text = samples.get(name, f"{name}({', '.join(['x'] * low)})")
        values = values_of(build, text, bins=2, x=[1.5, -2])
        assert len(values) == 2, name


def test_arithmetic_and_unary_minus(build: BuildModel) -> None:
    assert values_of(build, "-x + 1", bins=2, x=[3, -4]) == [-2, 5]
    assert values_of(build, "2 + 3 * 4 - 6 / 3", bins=2) == [12, 12]
    assert values_of(build, "(2 + 3) * -x", bins=2, x=[1, 2]) == [-5, -10]
    assert values_of(build, "x", bins=2, x=[1.5, 2]) == [1.5, 2]


def test_pmf_is_its_expected_value(build: BuildModel) -> None:
    model = build({"size": ([10, 20, 30], [0.5, 0.3, 0.2]), "twice": "size * 2"}, bins=3)
    series = evaluate(model)
    assert series["size"].tolist() == [17, 17, 17]
    assert series["twice"].tolist() == [34, 34, 34]


def test_result_shape_order_and_immutability(build: BuildModel) -> None:
    model = build({"total": "a + b", "a": [1, 2], "b": "a * 2"}, bins=2)
    series = evaluate(model)
    assert list(series) == list(model.order) == ["a", "b", "total"]
    for values in series.values():
        assert values.dtype == np.float64
        assert values.shape == (2,)
        with pytest.raises(ValueError, match="read-only"):
            values[0] = 1.0


def test_progress_reports_every_node(build: BuildModel) -> None:
    model = build({"a": [1], "b": "a + 1", "c": "b * 2"}, bins=1)
    calls: list[tuple[int, int]] = []
    evaluate(model, progress=lambda done, total: calls.append((done, total)))
    assert calls == [(1, 3), (2, 3), (3, 3)]


# ---------------------------------------------------------------------------------------------
# Overflow


def test_overflow_to_infinity_names_node_and_bin(build: BuildModel) -> None:
    model = build({"x": [1, 1e200, 1], "big": "x * 1e200"}, bins=3)
    with pytest.raises(ModelError) as caught:
        evaluate(model)
    assert str(caught.value) == "node 'big' overflowed to infinity at bin 1; check its inputs"
    assert caught.value.node == "big"


def test_overflow_to_minus_infinity(build: BuildModel) -> None:
    model = build({"x": [1, 1, -1e200], "big": "x * 1e200"}, bins=3)
    with pytest.raises(ModelError, match=r"^node 'big' overflowed to -infinity at bin 2; "):
        evaluate(model)


def test_overflow_inside_a_node_that_ends_undefined(build: BuildModel) -> None:
    model = build({"x": [0, 1e200], "gap": "x * 1e200 - x * 1e200"}, bins=2)
    with pytest.raises(ModelError) as caught:
        evaluate(model)
    assert str(caught.value) == (
        "node 'gap' overflowed (an intermediate result was infinite) at bin 1; check its inputs"
    )


def test_overflow_in_a_folded_constant(build: BuildModel) -> None:
    model = build({"c": "1e300 * 1e300 * 0 + 1"}, bins=2)
    with pytest.raises(ModelError, match=r"^node 'c' overflowed \(an intermediate result"):
        evaluate(model)


def test_division_that_overflows(build: BuildModel) -> None:
    model = build({"x": [1e300], "y": [1e-300], "q": "x / y"}, bins=1)
    with pytest.raises(ModelError, match=r"^node 'q' overflowed to infinity at bin 0"):
        evaluate(model)


def test_overflow_stops_before_later_nodes(build: BuildModel) -> None:
    model = build({"x": [1e300], "big": "x * x", "later": "x + 1"}, bins=1)
    seen: list[int] = []
    with pytest.raises(ModelError):
        evaluate(model, progress=lambda done, total: seen.append(done))
    assert seen == [1]


# ---------------------------------------------------------------------------------------------
# Models the parser would refuse, built by hand: the engine refuses them too.


def hand_model(*nodes: Any, bins: int = 2) -> Model:
    ids = tuple(node.id for node in nodes)
    deps = {
        n.id: tuple(sorted(references(n.ast))) if isinstance(n, ExprNode) else () for n in nodes
    }
    return Model(
        grid=Grid(bins=bins, bin_size=1, bin_unit="hours"),
        nodes=tuple(nodes),
        outputs=tuple(Output(series=i) for i in ids),
        dependencies=deps,
        order=ids,
    )


X = ConstNode(id="x", values=(1.0, 2.0))


def call(name: str, *args: Any) -> ExprNode:
    text = f"{name}(...)"
    return ExprNode(id="y", expr=text, ast=Call(name, tuple(args), 0))


@pytest.mark.parametrize(
    ("node", "message"),
    [
        (call("FOO", Ref("x", 4)), "unknown function FOO"),
        (call("MIN", Ref("x", 4)), "MIN takes exactly 2 arguments, got 1"),
        (call("PULSE"), "PULSE takes 1 to 3 arguments, got 0"),
        (call("SHIFT", Ref("x", 6), Num(-1, 9)), "SHIFT's k must be a whole number >= 0, got -1.0"),
        (call("SHIFT", Ref("x", 6), Num(1.5, 9)), "SHIFT's k must be a whole number >= 0, got 1.5"),
        (call("SHIFT", Ref("x", 6), Ref("x", 9)), "SHIFT's k must be a number literal"),
        (call("CONV", Ref("x", 5), Num(1, 8)), "CONV's weights must be a list of numbers"),
        (call("MIN", ListLit((1.0,), 4), Ref("x", 8)), "a list such as [1, 2] is only allowed"),
        (call("PULSE", Num(0, 6)), "PULSE's period must be greater than 0, got 0.0"),
        (call("PULSE", Num(-2, 6)), "PULSE's period must be greater than 0, got -2.0"),
        (call("PULSE", Ref("x", 6)), "PULSE's period must be a number literal"),
        (call("PULSE", Num(2, 6), Ref("x", 9)), "PULSE's phase must be a number literal"),
        (call("PULSE", Num(2, 6), Num(0, 9), Ref("x", 9)), "PULSE's amplitude must be a number"),
    ],
)
def test_what_the_engine_cannot_evaluate(node: ExprNode, message: str) -> None:
    with pytest.raises(ModelError) as caught:
        evaluate(hand_model(X, node))
    assert str(caught.value).startswith(f"node 'y': {message}")
    assert str(caught.value).endswith(f" in expression '{node.expr}'")
    assert caught.value.node == "y"


def test_fractional_pulse_period_uses_exact_multiples() -> None:
    pulse = evaluate(hand_model(call("PULSE", Num(2.5, 6)), bins=11))["y"]
    assert np.flatnonzero(pulse).tolist() == [0, 5, 10]
    shifted = evaluate(hand_model(call("PULSE", Num(2, 6), Num(0.5, 9)), bins=6))["y"]
    assert shifted.tolist() == [0] * 6


def test_const_of_the_wrong_length() -> None:
    with pytest.raises(ModelError, match=r"^node 'x' has 2 values but the grid has 3 bins$"):
        evaluate(hand_model(X, bins=3))


def test_unknown_node_kind() -> None:
    class Queue:
        id = "q"
        kind = "queue"

    with pytest.raises(ModelError) as caught:
        evaluate(hand_model(X, Queue()))
    assert str(caught.value) == "node 'q' has kind 'queue', which the engine cannot evaluate"


def test_unknown_mode(build: BuildModel) -> None:
    model = build({"a": [1]}, bins=1)
    with pytest.raises(UserError) as caught:
        evaluate(model, mode="fast")  # type: ignore[arg-type]
    assert str(caught.value) == "mode 'fast' is not one of expected, sample"
    assert caught.value.field == "mode"


# ---------------------------------------------------------------------------------------------
# Sample mode


def test_sample_follows_the_documented_contract(build: BuildModel) -> None:
    # Seed 42's first uniforms are 0.459.., 0.0564.., 0.805..: cumulative [0.2, 0.7, 1.0]
    # picks the values at 1, 0 and 2.
    model = build({"size": ([1, 2, 3], [0.2, 0.5, 0.3])}, bins=3)
    assert evaluate(model, mode="sample", seed=42)["size"].tolist() == [2, 1, 3]


def test_pmf_nodes_draw_in_file_order(build: BuildModel) -> None:
    model = build(
        {
            "late": "first + second",
            "first": ([0, 1], [0.5, 0.5]),
            "second": ([0, 1], [0.5, 0.5]),
        },
        bins=50,
    )
    stream = Pcg32(9).uniform_array(100)
    series = evaluate(model, mode="sample", seed=9)
    assert series["first"].tolist() == (stream[:50] >= 0.5).astype(float).tolist()
    assert series["second"].tolist() == (stream[50:] >= 0.5).astype(float).tolist()


def test_same_seed_same_draws_other_seed_other_draws(build: BuildModel) -> None:
    model = build({"d": ([1, 2, 3, 4], [0.1, 0.2, 0.3, 0.4]), "e": "d * 2"}, bins=200)
    first = evaluate(model, mode="sample", seed=1)
    again = evaluate(model, mode="sample", seed=1)
    other = evaluate(model, mode="sample", seed=2)
    assert all(np.array_equal(first[k], again[k]) for k in first)
    assert not np.array_equal(first["d"], other["d"])
    assert set(first["d"].tolist()) == {1, 2, 3, 4}
    assert first["e"].tolist() == (first["d"] * 2).tolist()


def test_seed_defaults_to_the_model_rng_then_zero(build: BuildModel) -> None:
    seeded = build({"d": ([1, 2], [0.5, 0.5])}, bins=100, seed=77)
    unseeded = build({"d": ([1, 2], [0.5, 0.5])}, bins=100)
    assert effective_seed(seeded, None) == 77
    assert effective_seed(seeded, 5) == 5
    assert effective_seed(unseeded, None) == 0
    drawn = evaluate(seeded, mode="sample")["d"]
    assert np.array_equal(drawn, evaluate(seeded, mode="sample", seed=77)["d"])
    assert np.array_equal(
        evaluate(unseeded, mode="sample")["d"], evaluate(unseeded, mode="sample", seed=0)["d"]
    )


def test_expected_mode_ignores_the_seed(build: BuildModel) -> None:
    model = build({"d": ([1, 3], [0.5, 0.5])}, bins=3)
    assert evaluate(model, seed=1)["d"].tolist() == evaluate(model, seed=2)["d"].tolist() == [2] * 3


def test_sample_mean_is_close_to_the_expected_value(build: BuildModel) -> None:
    model = build({"d": ([2, 5, 11, 20], [0.4, 0.3, 0.2, 0.1])}, bins=20000)
    expected = evaluate(model)["d"][0]
    mean = float(evaluate(model, mode="sample", seed=2024)["d"].mean())
    assert math.isclose(mean, expected, rel_tol=0.02)


def test_zero_probability_values_are_never_drawn(build: BuildModel) -> None:
    model = build({"d": ([1, 2, 3], [0.5, 0, 0.5])}, bins=5000)
    assert set(evaluate(model, mode="sample", seed=3)["d"].tolist()) == {1, 3}


def test_short_probabilities_fall_back_to_the_last_possible_value() -> None:
    # By hand, so the probabilities stay unnormalised (sum 0.5): draws of u >= 0.5 exceed
    # every running total and take the last value with p > 0, which is 20, never 30.
    pmf = PmfNode(id="x", values=(10.0, 20.0, 30.0), probabilities=(0.25, 0.25, 0.0))
    model = hand_model(pmf, bins=4000)
    drawn = evaluate(model, mode="sample", seed=11)["x"]
    uniforms = Pcg32(11).uniform_array(4000)
    assert drawn.tolist() == np.where(uniforms < 0.25, 10.0, 20.0).tolist()
    assert drawn.tolist() == evaluate_reference(model, mode="sample", seed=11)["x"]
