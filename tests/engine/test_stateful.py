"""Evaluating stateful models (SPEC §5a): feedback, queues, gates, limits, routers, outputs.

Values FlowTime's Rust engine also computes are covered by the parity cases
(``test_parity.py``); these tests cover flowtime-sim's own decisions (the SPEC §5a table)
and the machinery: sequential stages, the two dialects, outputs.
"""

from __future__ import annotations

import io

import numpy as np
import pytest
from click.testing import CliRunner

from flowtime_sim.engine import evaluate, write_binned_csv
from flowtime_sim.engine.reference import evaluate_reference
from flowtime_sim.model import parse_model

HEAD = "schemaVersion: 1\ngrid: {bins: 6, binSize: 1, binUnit: hours}\nnodes:\n"


def run(text: str) -> dict[str, list[float]]:
    model = parse_model(text)
    series = evaluate(model)
    reference = evaluate_reference(model)
    for name, values in series.items():  # the plain bin-by-bin evaluator agrees exactly
        np.testing.assert_array_equal(values, reference[name], err_msg=name)
    return {name: values.tolist() for name, values in series.items()}


def test_self_shift_backlog() -> None:
    out = run(
        HEAD
        + "  - {id: demand, kind: const, values: [10, 30, 30, 10, 0, 5]}\n"
        + '  - {id: backlog, kind: expr, expr: "MAX(0, SHIFT(backlog, 1) + demand - 15)"}\n'
    )
    assert out["backlog"] == [0, 15, 30, 25, 10, 0]


def test_a_name_inside_and_outside_shift_is_a_same_bin_dependency() -> None:
    # b comes later in the file; a reads b in the same bin too, so b is computed first.
    out = run(
        HEAD
        + '  - {id: a, kind: expr, expr: "b + SHIFT(b, 1)"}\n'
        + "  - {id: b, kind: const, values: [1, 2, 3, 4, 5, 6]}\n"
    )
    assert out["a"] == [1, 3, 5, 7, 9, 11]


def test_feedback_through_a_queue_series() -> None:
    out = run(
        HEAD
        + "  - {id: arrivals, kind: const, values: [10, 10, 10, 10, 10, 10]}\n"
        + '  - {id: served, kind: expr, expr: "MIN(6, SHIFT(desk_queue, 1) + arrivals)"}\n'
        + "topology:\n  nodes:\n    - {id: Desk, semantics: {arrivals: arrivals, served: served}}\n"
    )
    assert out["served"] == [6, 6, 6, 6, 6, 6]
    assert out["desk_queue"] == [4, 8, 12, 16, 20, 24]


def test_the_two_dialects_give_the_same_queue() -> None:
    nodes = (
        "  - {id: inflow, kind: const, values: [5, 9, 2, 0, 7, 3]}\n"
        "  - {id: outflow, kind: const, values: [4, 4, 4, 4, 4, 4]}\n"
        "  - {id: cap, kind: const, values: [6, 6, 6, 6, 6, 6]}\n"
    )
    schedule = "dispatchSchedule: {periodBins: 2, phaseOffset: 1, capacitySeries: cap}"
    topology_dialect = run(
        HEAD + nodes + "topology:\n  nodes:\n    - {id: Hub, kind: serviceWithBuffer, "
        f"semantics: {{arrivals: inflow, served: outflow}}, initialCondition: {{queueDepth: 3}}, "
        f"{schedule}}}\n"
    )
    node_dialect = run(
        HEAD
        + nodes
        + f"  - {{id: hub_depth, kind: serviceWithBuffer, inflow: inflow, outflow: outflow, "
        f"{schedule}}}\n"
        + "topology:\n  nodes:\n    - {id: Hub, kind: serviceWithBuffer, semantics: "
        "{arrivals: inflow, served: outflow, queueDepth: hub_depth}, "
        "initialCondition: {queueDepth: 3}}\n"
    )
    assert node_dialect["hub_depth"] == topology_dialect["hub_queue"] == [8, 13, 15, 11, 18, 17]
    assert node_dialect["hub_gated_outflow"] == topology_dialect["hub_gated_outflow"]


def test_a_queue_node_without_topology() -> None:
    out = run(
        HEAD
        + "  - {id: a, kind: const, values: [3, 3, 3, 3, 3, 3]}\n"
        + "  - {id: s, kind: const, values: [1, 1, 5, 5, 1, 1]}\n"
        + "  - {id: BackLog, kind: serviceWithBuffer, inflow: a, outflow: s, wipLimit: 5}\n"
    )
    assert out["BackLog"] == [2, 4, 2, 0, 2, 4]
    assert "back_log_overflow" in out


def test_negative_phase_is_normalised_modulo_the_period() -> None:
    out = run(
        HEAD
        + "  - {id: a, kind: const, values: [1, 1, 1, 1, 1, 1]}\n"
        + "topology:\n  nodes:\n    - {id: Q, semantics: {arrivals: a, served: a}, "
        "dispatchSchedule: {periodBins: 3, phaseOffset: -1}}\n"
    )
    assert out["q_gated_outflow"] == [0, 0, 1, 0, 0, 1]


def test_a_wip_limit_series_below_zero_counts_as_zero() -> None:
    out = run(
        HEAD
        + "  - {id: a, kind: const, values: [4, 4, 4, 4, 4, 4]}\n"
        + "  - {id: s, kind: const, values: [1, 1, 1, 1, 1, 1]}\n"
        + "  - {id: limit, kind: const, values: [10, 10, -5, 10, 10, 10]}\n"
        + "topology:\n  nodes:\n    - {id: Q, semantics: {arrivals: a, served: s}, "
        "wipLimitSeries: limit}\n"
    )
    assert out["q_queue"] == [3, 6, 0, 3, 6, 9]
    assert out["q_overflow"] == [0, 0, 9, 0, 0, 0]


def test_inputs_produced_later_in_the_file_are_real_dependencies() -> None:
    # FlowTime's Rust engine reads a router's source, a capacity series and a WIP limit
    # series as 0 when their producer comes later; here they are ordered like any input.
    out = run(
        HEAD + "  - id: split\n    kind: router\n    router: {inputs: {queue: late_source}, "
        "routes: [{target: left, weight: 1}, {target: right, weight: 1}]}\n"
        + '  - {id: late_source, kind: expr, expr: "4 * 2"}\n'
        + '  - {id: late_cap, kind: expr, expr: "3"}\n'
        + '  - {id: late_limit, kind: expr, expr: "5"}\n'
        + "topology:\n  nodes:\n    - {id: Q, semantics: {arrivals: left, served: right}, "
        "dispatchSchedule: {periodBins: 1, capacitySeries: late_cap}, wipLimitSeries: late_limit}\n"
    )
    assert out["left"] == out["right"] == [4] * 6
    assert out["q_gated_outflow"] == [3] * 6
    assert out["q_queue"] == [1, 2, 3, 4, 5, 5]
    assert out["q_overflow"] == [0, 0, 0, 0, 0, 1]


def test_weeks_are_weeks_in_derived_times() -> None:
    out = run(
        "schemaVersion: 1\ngrid: {bins: 2, binSize: 1, binUnit: weeks}\nnodes:\n"
        "  - {id: a, kind: const, values: [2, 2]}\n  - {id: s, kind: const, values: [1, 1]}\n"
        "topology:\n  nodes:\n    - {id: Q, semantics: {arrivals: a, served: s}}\n"
    )
    assert out["q_queue_time_ms"] == [1 * 604_800_000, 2 * 604_800_000]


@pytest.mark.parametrize(
    ("outputs", "written"),
    [
        (
            "[{series: '*'}]",
            ["a", "q_queue", "q_q_ratio", "q_queue_time_ms", "q_latency_min", "q_cycle_time_ms"],
        ),
        ("[{series: 'q_queue/*'}]", ["q_queue", "q_queue_time_ms"]),
        (
            "[{series: 'q_/*', exclude: ['q_q_ratio', 'q_l/*']}, {series: a}]",
            ["q_queue", "q_queue_time_ms", "q_cycle_time_ms", "a"],
        ),
        (
            "[{series: q_queue}, {series: '*', exclude: q_queue}]",
            ["q_queue", "a", "q_q_ratio", "q_queue_time_ms", "q_latency_min", "q_cycle_time_ms"],
        ),
    ],
)
def test_outputs_patterns_and_exclude(outputs: str, written: list[str]) -> None:
    model = parse_model(
        "schemaVersion: 1\ngrid: {bins: 2, binSize: 1, binUnit: hours}\nnodes:\n"
        "  - {id: a, kind: const, values: [2, 2]}\n"
        "topology:\n  nodes:\n    - {id: Q, semantics: {arrivals: a, served: a}}\n"
        f"outputs: {outputs}\n"
    )
    assert [o.series for o in model.outputs] == written


def test_synthesized_series_are_written_to_the_csv() -> None:
    model = parse_model(
        "schemaVersion: 1\ngrid: {bins: 2, binSize: 1, binUnit: hours}\nnodes:\n"
        "  - {id: a, kind: const, values: [3, 1]}\n  - {id: s, kind: const, values: [1, 1]}\n"
        "topology:\n  nodes:\n    - {id: Q, semantics: {arrivals: a, served: s}}\n"
        "outputs: [{series: 'q_queue'}, {series: 'q_latency_min'}]\n"
    )
    buffer = io.BytesIO()
    write_binned_csv(model, evaluate(model), buffer)
    assert buffer.getvalue().decode() == (
        "bin,time_bin,series,value\n0,,q_queue,2\n1,,q_queue,2\n"
        "0,,q_latency_min,120\n1,,q_latency_min,120\n"
    )


def test_plan_command_prints_the_plan(tmp_path: object) -> None:
    from pathlib import Path

    from flowtime_sim.cli import main

    path = Path(str(tmp_path)) / "m.yaml"
    path.write_text(
        HEAD
        + "  - {id: demand, kind: const, values: [1, 2, 3, 4, 5, 6]}\n"
        + '  - {id: backlog, kind: expr, expr: "SHIFT(backlog, 1) + demand"}\n'
        + "topology:\n  nodes:\n    - {id: Desk, semantics: {arrivals: demand, served: demand}}\n",
        encoding="utf-8",
    )
    result = CliRunner().invoke(main, ["plan", str(path)])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[:5] == [
        "Plan: 7 steps in 7 stages (2 bin by bin), 7 series, 6 bins",
        "",
        "Synthesized series:",
        "  desk_queue          from topology node 'Desk'",
        "  desk_q_ratio        from topology node 'Desk'",
    ]
    assert "    2. bin by bin (feedback loop: backlog)" in result.output
    assert "         backlog = SHIFT(backlog, 1) + demand" in result.output
    assert "    3. bin by bin (a queue: each bin starts from the last)" in result.output
    as_json = CliRunner().invoke(main, ["plan", str(path), "--json"])
    assert as_json.exit_code == 0
    assert '"sequential": true' in as_json.output


def test_a_feedback_loop_through_every_kind_of_step() -> None:
    # stream -> router -> constraint -> gate -> queue A -> overflow sum -> queue B, with
    # retry echo, derived metrics and Kingman read back one bin late.
    text = (
        "schemaVersion: 1\ngrid: {bins: 12, binSize: 5, binUnit: minutes}\nnodes:\n"
        "  - {id: demand, kind: const, values: [9, 3, 7, 12, 0, 4, 8, 8, 1, 15, 2, 6]}\n"
        "  - {id: cap, kind: const, values: [6, 6, 5, 5, 7, 7, 4, 4, 6, 6, 5, 5]}\n"
        '  - {id: stream, kind: expr, expr: "demand + SHIFT(b_queue, 1) * 0.1 + '
        'SHIFT(echo, 1) + MIN(SHIFT(a_kingman_wq, 1), 1) + SHIFT(a_flow_efficiency, 2)"}\n'
        "  - id: split\n    kind: router\n"
        "    router: {inputs: {queue: stream}, routes: [{target: left, weight: 2}, "
        "{target: right, weight: 1}]}\n"
        '  - {id: served, kind: expr, expr: "MIN(cap, left * 0.8)"}\n'
        '  - {id: errs, kind: expr, expr: "SHIFT(a_overflow, 1) * 0.25"}\n'
        '  - {id: pt, kind: expr, expr: "served * 1000 + 1"}\n'
        "topology:\n  nodes:\n"
        "    - id: A\n      kind: serviceWithBuffer\n"
        "      semantics: {arrivals: left, served: served, capacity: cap, errors: errs,\n"
        "                  retryEcho: echo, retryKernel: [0, 0.5, 0.25],\n"
        "                  processingTimeMsSum: pt, servedCount: cap, parallelism: 2}\n"
        "      dispatchSchedule: {periodBins: 2, phaseOffset: 1, capacitySeries: cap}\n"
        "      wipLimit: 5\n      wipOverflow: B\n      constraints: [shared]\n"
        "    - {id: B, kind: queue, semantics: {arrivals: right, served: cap}}\n"
        "  constraints:\n    - {id: shared, semantics: {served: cap}}\n"
    )
    model = parse_model(text)
    assert model.plan is not None
    loops = [stage for stage in model.plan.stages if stage.sequential]
    assert len(loops) == 1
    kinds = {type(step).__name__ for step in loops[0].steps}
    assert kinds == {
        "NodeStep",
        "RouteStep",
        "AllocStep",
        "GateStep",
        "QueueStep",
        "SumStep",
        "ConvStep",
        "ArithStep",
        "KingmanStep",
    }
    out = run(text)
    assert max(out["a_overflow"]) > 0 and max(out["echo"]) > 0


def test_overflow_reaches_a_queue_listed_before_its_source() -> None:
    out = run(
        HEAD
        + "  - {id: a, kind: const, values: [6, 6, 6, 6, 6, 6]}\n"
        + "  - {id: s, kind: const, values: [2, 2, 2, 2, 2, 2]}\n"
        + "topology:\n  nodes:\n"
        + "    - {id: Spill, kind: dlq, semantics: {arrivals: s, served: s}}\n"
        + "    - {id: Main, semantics: {arrivals: a, served: s}, wipLimit: 10, "
        "wipOverflow: Spill}\n"
    )
    assert out["main_queue"] == [4, 8, 10, 10, 10, 10]
    assert out["main_overflow"] == [0, 0, 2, 4, 4, 4]
    assert out["spill_inflow_from_main"] == [2, 2, 4, 6, 6, 6]
    assert out["spill_queue"] == [0, 0, 2, 6, 10, 14]
