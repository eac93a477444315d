"""Property: on random models with feedback, queues and gates, the engine (vector stages and
generated bin-by-bin loops) gives exactly what the plain bin-by-bin reference evaluator does."""

from __future__ import annotations

import numpy as np
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from flowtime_sim.engine import evaluate
from flowtime_sim.engine.reference import evaluate_reference
from flowtime_sim.errors import ModelError
from flowtime_sim.model import parse_model

NUMBERS = st.sampled_from(["0", "1", "2", "0.5", "3", "-1", "1.25"])


@st.composite
def expressions(draw: st.DrawFn, names: list[str], depth: int = 0) -> str:
    if depth >= 3 or draw(st.integers(0, 3)) == 0:
        leaf = draw(st.one_of(NUMBERS, st.sampled_from(names)))
        if draw(st.booleans()):
            return f"SHIFT({leaf}, {draw(st.integers(0, 2))})"
        return leaf
    a = draw(expressions(names, depth + 1))
    b = draw(expressions(names, depth + 1))
    form = draw(st.integers(0, 7))
    if form == 0:
        return f"({a} + {b})"
    if form == 1:
        return f"({a} - {b})"
    if form == 2:
        return f"MIN({a}, {b})"
    if form == 3:
        return f"MAX(0, {a})"
    if form == 4:
        return f"({a} / {b})"
    if form == 5:
        return f"CLAMP({a}, 0, {b})"
    if form == 6:
        return f"CONV({a}, [0.5, 0.25])"
    return f"SHIFT({a}, {draw(st.integers(1, 2))})"


@st.composite
def models(draw: st.DrawFn) -> str:
    bins = draw(st.integers(1, 7))
    consts = [f"c{i}" for i in range(draw(st.integers(1, 2)))]
    exprs = [f"e{i}" for i in range(draw(st.integers(1, 4)))]
    has_queue, has_router = draw(st.booleans()), draw(st.booleans())
    names = consts + exprs + (["desk_queue", "desk_gated_outflow"] if has_queue else [])
    names += ["r0", "r1"] if has_router else []
    lines = [
        "schemaVersion: 1",
        f"grid: {{bins: {bins}, binSize: 1, binUnit: hours}}",
        "nodes:",
    ]
    for name in consts:
        values = draw(st.lists(st.integers(-2, 9), min_size=bins, max_size=bins))
        lines.append(f"  - {{id: {name}, kind: const, values: {values}}}")
    for name in exprs:
        lines.append(f'  - {{id: {name}, kind: expr, expr: "{draw(expressions(names))}"}}')
    if has_router:
        source = draw(st.sampled_from(consts + exprs))
        lines.append(
            f"  - {{id: split, kind: router, inputs: {{queue: {source}}}, "
            "routes: [{target: r0, weight: 2}, {target: r1}, {target: r0, weight: 0.5}]}"
        )
    if has_queue:
        arrivals, served = draw(st.sampled_from(consts + exprs)), draw(st.sampled_from(exprs))
        period, phase = draw(st.integers(1, 3)), draw(st.integers(-2, 2))
        limit = draw(st.sampled_from(["", ", wipLimit: 4, wipOverflow: Spill"]))
        capacity = draw(st.sampled_from(consts))
        lines += [
            "topology:",
            "  nodes:",
            f"    - {{id: Desk, semantics: {{arrivals: {arrivals}, served: {served}}}, "
            f"initialCondition: {{queueDepth: 1}}, dispatchSchedule: {{periodBins: {period}, "
            f"phaseOffset: {phase}}}, constraints: [shared]{limit}}}",
            f"    - {{id: Spill, kind: dlq, semantics: {{arrivals: {capacity}, "
            f"served: {served}}}, constraints: [shared]}}",
            "  constraints:",
            f"    - {{id: shared, semantics: {{served: {capacity}}}}}",
        ]
    return "\n".join(lines) + "\n"


@settings(max_examples=300, deadline=None)
@given(models())
def test_engine_equals_the_bin_by_bin_reference(text: str) -> None:
    try:
        model = parse_model(text)
    except ModelError:
        assume(False)  # a cycle without a lag, mostly
        return
    try:
        series = evaluate(model)
    except ModelError as exc:  # an overflow: the reference must find the same one
        try:
            evaluate_reference(model)
        except ModelError as ref_exc:
            assert str(ref_exc) == str(exc)
            return
        raise AssertionError(f"only the engine failed: {exc}") from None
    reference = evaluate_reference(model)
    assert list(series) == list(reference)
    for name, values in series.items():
        np.testing.assert_array_equal(values, reference[name], err_msg=f"{name}\n{text}")
