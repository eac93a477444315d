# ruff: noqa: E501 - whole messages read best on one line
"""Classes (SPEC §5a): per-class series through expressions, routers and queues.

The rules are :mod:`flowtime_sim.engine.classes`'s; the first test holds for any model:
in every bin, the classes of a series add up to the series.
"""

from __future__ import annotations

import io

import numpy as np
import pytest

from flowtime_sim.engine import Mode, evaluate, write_binned_csv
from flowtime_sim.errors import ModelError
from flowtime_sim.model import parse_model
from flowtime_sim.plan import format_plan

THREE = """schemaVersion: 1
grid: {bins: 6, binSize: 1, binUnit: hours}
classes: [{id: Gold}, {id: Silver}, {id: Bronze}]
traffic:
  arrivals:
    - {nodeId: gold_in, classId: Gold}
    - {nodeId: mixed_in, classId: Silver, pattern: {kind: constant, ratePerBin: 3}}
    - {nodeId: mixed_in, classId: Bronze, pattern: {kind: constant, ratePerBin: 1}}
nodes:
  - {id: gold_in, kind: const, values: [4, 6, 2, 0, 5, 3]}
  - {id: mixed_in, kind: const, values: [8, 2, 0, 6, 4, 4]}
  - {id: arrivals, kind: expr, expr: "gold_in + mixed_in + 1"}
  - {id: cap, kind: const, values: [5, 5, 20, 5, 5, 5]}
  - {id: served, kind: expr, expr: "MIN(arrivals, cap)"}
  - id: split
    kind: router
    inputs: {queue: served}
    routes: [{target: premium, classes: [Gold]}, {target: fast, weight: 3}, {target: slow, weight: 1}]
  - {id: late, kind: expr, expr: "SHIFT(slow, 1) * 0.5 + CONV(fast, [0.5, 0.5]) - ROUND(cap / 5)"}
topology:
  nodes:
    - {id: Desk, kind: queue, semantics: {arrivals: arrivals, served: served}, initialCondition: {queueDepth: 3}}
"""


def class_sums(series: dict[str, np.ndarray], carried: dict[str, tuple[str, ...]]) -> None:
    for name, classes in carried.items():
        parts = sum(series[f"{name}@{c}"] for c in classes)
        np.testing.assert_allclose(parts, series[name], rtol=1e-12, atol=1e-12, err_msg=name)


@pytest.mark.parametrize("mode", ["expected", "sample"])
def test_three_classes_through_a_router_a_queue_and_expressions_add_up(mode: Mode) -> None:
    model = parse_model(
        THREE.replace(
            "cap, kind: const, values: [5, 5, 20, 5, 5, 5]",
            "cap, kind: pmf, pmf: {values: [3, 5, 20], probabilities: [0.25, 0.5, 0.25]}",
        )
    )
    assert model.plan is not None
    carried = model.plan.carried
    assert carried == {
        "gold_in": ("Gold",),
        "mixed_in": ("Silver", "Bronze"),
        "arrivals": ("Gold", "Silver", "Bronze"),
        "served": ("Gold", "Silver", "Bronze"),
        "premium": ("Gold",),
        "fast": ("Silver", "Bronze"),
        "slow": ("Silver", "Bronze"),
        "late": ("Silver", "Bronze"),
        "desk_queue": ("Gold", "Silver", "Bronze"),
    }
    series = evaluate(model, mode=mode, seed=3)
    class_sums(series, carried)


def test_the_class_rules_step_by_step() -> None:
    model = parse_model(THREE)
    s = evaluate(model)
    # whole-node assignment; shares by ratePerBin when a series has several classes
    assert list(s["gold_in@Gold"]) == [4, 6, 2, 0, 5, 3]
    assert list(s["mixed_in@Silver"]) == [6, 1.5, 0, 4.5, 3, 3]
    # a + b: the unclassed 1 grows every class in proportion
    assert s["arrivals@Gold"][0] == pytest.approx(4 * 13 / 12)
    # MIN: the mix of the operand giving the value (cap carries none, so arrivals')
    assert s["served@Gold"][0] == pytest.approx(5 * 4 / 12)
    # a class route takes the class of the evaluated source; weight routes split the rest
    assert list(s["premium"]) == list(s["served@Gold"])
    rest = s["served"] - s["served@Gold"]
    np.testing.assert_allclose(s["fast"], rest * 0.75, rtol=1e-15)
    np.testing.assert_allclose(s["fast@Silver"], s["served@Silver"] * 0.75, rtol=1e-12)
    # a queue: the initial depth split by the first bin's inflow mix, then per class
    gold0 = 3 * (4 / 12) + s["arrivals@Gold"][0] - s["served@Gold"][0]
    assert s["desk_queue@Gold"][0] == pytest.approx(gold0)
    assert s["desk_queue"][0] == 3 + 13 - 5


def test_classes_change_no_total() -> None:
    """The same model without classes gives the same totals, bit for bit (weight routes;
    class routes need classes to mean anything)."""
    weighted = THREE.replace("{target: premium, classes: [Gold]}", "{target: premium, weight: 2}")
    with_classes = evaluate(parse_model(weighted))
    head, _, rest = weighted.partition("classes: [")
    without = head + "nodes:" + rest.split("\nnodes:", 1)[1]
    plain = evaluate(parse_model(without))
    assert set(plain) == {name for name in with_classes if "@" not in name}
    for name, values in plain.items():
        assert list(values) == list(with_classes[name]), name


def test_a_class_route_without_classes_takes_nothing() -> None:
    model = parse_model(
        """schemaVersion: 1
grid: {bins: 2, binSize: 1, binUnit: hours}
nodes:
  - {id: a, kind: const, values: [4, 8]}
  - {id: r, kind: router, inputs: {queue: a}, routes: [{target: gold, classes: [Gold]}, {target: rest}]}
"""
    )
    s = evaluate(model)
    assert (list(s["gold"]), list(s["rest"])) == ([0, 0], [4, 8])
    assert model.plan is not None and model.plan.carried == {}


def test_class_series_follow_their_output_in_the_csv() -> None:
    model = parse_model(
        THREE + "outputs:\n  - {series: served}\n  - {series: 'prem/*'}\n  - {series: cap}\n"
    )
    assert [o.series for o in model.outputs] == [
        "served",
        "served@Gold",
        "served@Silver",
        "served@Bronze",
        "premium",
        "premium@Gold",
        "cap",
    ]
    out = io.BytesIO()
    write_binned_csv(model, evaluate(model), out)
    rows = out.getvalue().decode().splitlines()
    assert rows[7:9] == ["0,,served@Gold,1.666666666666667", "1,,served@Gold,3.75"]


def test_the_plan_prints_class_routes() -> None:
    model = parse_model(THREE)
    assert model.plan is not None
    assert "\nClasses: Gold, Silver, Bronze (written as series@Class for 9 series)\n" in (
        format_plan(model.plan)
    )
    assert (
        "ROUTE split: premium = served@Gold, fast = (served - classes routed) * 0.75, "
        "slow = (served - classes routed) * 0.25" in format_plan(model.plan)
    )


HEAD = """schemaVersion: 1
grid: {bins: 2, binSize: 1, binUnit: hours}
nodes:
  - {id: a, kind: const, values: [1, 2]}
"""


@pytest.mark.parametrize(
    ("text", "message", "field"),
    [
        pytest.param(
            "traffic:\n  arrivals: [{nodeId: b, classId: Gold}]\n",
            "traffic.arrivals[0].nodeId 'b' is not a series of the model",
            "traffic.arrivals[0].nodeId",
            id="unknown node",
        ),
        pytest.param(
            "classes: [{id: 'Gold, Silver'}]\n",
            "classes[0].id 'Gold, Silver' must be letters, digits, '_', '.' or '-' (it becomes part of series names such as served@Gold, Silver)",
            "classes[0].id",
            id="class id",
        ),
        pytest.param(
            "traffic:\n  arrivals: [{nodeId: a, classId: 'a@b'}]\n",
            "traffic.arrivals[0].classId 'a@b' must be letters, digits, '_', '.' or '-' (it becomes part of series names such as served@a@b)",
            "traffic.arrivals[0].classId",
            id="arrival class id",
        ),
        pytest.param(
            "traffic:\n  arrivals: [{nodeId: a, classId: Gold, pattern: {ratePerBin: -1}}]\n",
            "traffic.arrivals[0].pattern.ratePerBin must be a finite number >= 0, got -1",
            "traffic.arrivals[0].pattern.ratePerBin",
            id="rate",
        ),
        pytest.param(
            "traffic:\n  arrivals: [{nodeId: a, classId: 7}]\n",
            "traffic.arrivals[0].classId must be a class id, got 7",
            "traffic.arrivals[0].classId",
            id="class id type",
        ),
    ],
)
def test_refusals(text: str, message: str, field: str) -> None:
    with pytest.raises(ModelError) as caught:
        parse_model(HEAD + text)
    assert str(caught.value) == message
    assert caught.value.field == field


def test_a_class_router_inside_a_feedback_loop_is_refused() -> None:
    with pytest.raises(ModelError) as caught:
        parse_model(
            HEAD
            + "  - {id: back, kind: expr, expr: 'a + SHIFT(kept, 1)'}\n"
            + "  - {id: r, kind: router, inputs: {queue: back}, routes: [{target: kept, classes: [Gold]}, {target: out}]}\n"
        )
    assert str(caught.value) == (
        "node 'r': a router with class routes cannot be part of a feedback loop; route by "
        "weight, or read its source a bin late outside the loop"
    )
    assert caught.value.node == "r"


STATEFUL = """schemaVersion: 1
grid: {bins: 8, binSize: 1, binUnit: hours}
classes: [{id: A}, {id: B}]
traffic:
  arrivals:
    - {nodeId: a_in, classId: A}
    - {nodeId: b_in, classId: B}
nodes:
  - {id: a_in, kind: const, values: [6, 0, 9, 2, 8, 1, 0, 5]}
  - {id: b_in, kind: const, values: [2, 4, 1, 7, 0, 3, 6, 2]}
  - {id: demand, kind: expr, expr: "a_in + b_in"}
  - {id: shared, kind: const, values: [6, 6, 6, 6, 6, 6, 6, 6]}
  - {id: drain, kind: const, values: [3, 3, 3, 3, 3, 3, 3, 3]}
  - {id: fails, kind: expr, expr: "demand * 0.1"}
  - {id: ratio, kind: expr, expr: "2 / demand + CLAMP(b_in, 1, 3) - MOD(a_in, 4)"}
  - {id: buf, kind: serviceWithBuffer, inflow: demand, outflow: drain, wipLimit: 10, wipOverflow: Spill}
topology:
  nodes:
    - {id: Front, kind: service, constraints: [cap], semantics: {arrivals: demand, served: demand, errors: fails, retryEcho: echo, retryKernel: [0, 0.5, 0.5]}}
    - {id: Buffer, kind: queue, semantics: {arrivals: demand, served: drain, queueDepth: buf}, initialCondition: {queueDepth: 4}}
    - {id: Spill, kind: queue, constraints: [cap], semantics: {arrivals: b_in, served: drain}, dispatchSchedule: {periodBins: 2, capacitySeries: drain}}
  constraints:
    - {id: cap, semantics: {served: shared}}
"""


def test_queues_caps_overflow_and_echoes_keep_their_classes_adding_up() -> None:
    model = parse_model(STATEFUL)
    assert model.plan is not None
    carried = model.plan.carried
    assert carried["buf"] == ("A", "B")
    assert carried["spill_inflow_from_buffer"] == ("A", "B")
    assert carried["echo"] == ("A", "B")
    assert carried["front_capped_cap"] == ("A", "B")
    assert carried["spill_capped_cap"] == ("B",)
    assert carried["ratio"] == ("A", "B")  # MOD(a_in, 4) brings A, CLAMP(b_in, ..) B
    assert "front_utilization" not in carried
    series = evaluate(model)
    class_sums(series, carried)
    # an outflow without classes leaves the queue in its own mix: at bin 0 the buffer holds
    # 4 (split 6 : 2 like the first inflow, so 3 of A) + 6 of A arriving, less A's share of
    # the 3 drained (9 of the 12 available are A)
    assert series["buf@A"][0] == pytest.approx((3 + 6) * (1 - 3 / 12))
    # over the WIP limit (bin 2), the overflow has the classes in the queue's proportion
    assert series["buffer_overflow"][2] == 7
    assert series["buffer_overflow@A"][2] / 7 == pytest.approx(series["buf@A"][2] / 10)


def test_a_result_whose_class_parts_cancel_is_split_equally() -> None:
    model = parse_model(
        STATEFUL.replace(
            "  - {id: shared,",
            "  - {id: odd, kind: expr, expr: 'a_in + b_in - a_in - b_in + 5'}\n  - {id: shared,",
        )
    )
    series = evaluate(model)
    assert list(series["odd@A"]) == [2.5] * 8
    assert list(series["odd@B"]) == [2.5] * 8
