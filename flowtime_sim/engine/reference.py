"""A deliberately plain evaluator: one Python float at a time, bin by bin.

It restates SPEC §5 and §5a as directly as possible: for each bin, every step of the plan
in evaluation order, feedback loops or not (no vectors, no components, no generated code).
It shares no arithmetic with :mod:`flowtime_sim.engine.evaluate` and is slow on purpose.
It expects a model the parser accepted, and reports overflow exactly as the engine does.
Tests use it as an oracle for the engine (the two must agree exactly, apart from the sign of
zero); benchmarks use it as a baseline. Sample mode draws with the scalar :class:`Pcg32`,
one ``next_uniform`` per bin, following the contract in :mod:`flowtime_sim.engine.evaluate`.
"""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal

from flowtime_sim.engine.evaluate import MODES, Mode, effective_seed, overflow_error
from flowtime_sim.engine.pcg32 import Pcg32
from flowtime_sim.errors import UserError
from flowtime_sim.model.types import (
    BinOp,
    Call,
    ConstNode,
    Expr,
    ListLit,
    Model,
    Neg,
    Num,
    PmfNode,
    Ref,
)
from flowtime_sim.plan import (
    AllocStep,
    ArithStep,
    ConvStep,
    GateStep,
    KingmanStep,
    NodeStep,
    QueueStep,
    RouteStep,
    Step,
    SumStep,
    build_plan,
)


def evaluate_reference(
    model: Model, *, mode: Mode = "expected", seed: int | None = None
) -> dict[str, list[float]]:
    """Every series' values as a list, keyed by name in evaluation order."""
    if mode not in MODES:
        raise UserError(f"mode {mode!r} is not one of {', '.join(MODES)}", field="mode")
    bins = model.grid.bins
    plan = model.plan or build_plan(model, check=False)
    drawn = _draw(model, effective_seed(model, seed)) if mode == "sample" else {}
    steps = [step for stage in plan.stages for step in stage.steps]
    values: dict[str, list[float]] = {name: [0.0] * bins for step in steps for name in step.outputs}
    for t in range(bins):
        for step in steps:
            _step(step, t, values, drawn, model.grid.bins)
    for name, column in values.items():
        for t, v in enumerate(column):
            if not math.isfinite(v):
                raise overflow_error(name, v, t)
    return values


def _step(
    step: Step, t: int, values: dict[str, list[float]], drawn: dict[str, list[float]], bins: int
) -> None:
    def at(name: str, when: int = t) -> float:
        return values[name][when] if when >= 0 else 0.0

    if isinstance(step, NodeStep):
        node = step.node
        if node.id in drawn:
            out = drawn[node.id][t]
        elif isinstance(node, ConstNode):
            out = float(node.values[t])
        elif isinstance(node, PmfNode):
            out = node.expected_value
        else:
            out = _value(node.ast, t, values)
        values[node.id][t] = out
    elif isinstance(step, RouteStep):
        for target in step.outputs:
            values[target][t] = 0.0
        seen: set[str] = set()
        for target, share in step.shares:
            part = at(step.source) * share
            values[target][t] = values[target][t] + part if target in seen else part
            seen.add(target)
    elif isinstance(step, GateStep):
        release = t >= step.phase and (t - step.phase) % step.period == 0
        out = at(step.outflow)
        if step.capacity is not None:
            out = min(out, at(step.capacity))
        values[step.output][t] = out if release else 0.0
    elif isinstance(step, SumStep):
        total = at(step.terms[0])
        for term in step.terms[1:]:
            total += at(term)
        values[step.output][t] = total
    elif isinstance(step, AllocStep):
        demands = [at(d) for d in step.demands]
        capacity = at(step.capacity)
        total = 0.0
        for d in demands:
            total += d
        for name, d in zip(step.capped, demands, strict=True):
            scaled = total > capacity and total > 0
            values[name][t] = capacity * d / total if scaled else d
    elif isinstance(step, QueueStep):
        previous = at(step.output, t - 1) if t > 0 else step.initial
        q = previous + at(step.inflow) - at(step.outflow)
        if step.loss is not None:
            q -= at(step.loss)
        q = max(0.0, q)
        if step.overflow is not None:
            limit = at(step.limit_series) if step.limit_series else (step.limit_value or 0.0)
            limit = max(0.0, limit)
            if q > limit:
                values[step.overflow][t] = q - limit
                q = limit
        values[step.output][t] = q
    elif isinstance(step, ConvStep):
        total = 0.0
        for k, w in enumerate(step.kernel):
            if t - k >= 0:
                total += w * at(step.source, t - k)
        values[step.output][t] = total
    elif isinstance(step, ArithStep):
        left = at(step.left)
        right = at(step.right) if isinstance(step.right, str) else step.right
        if step.op == "copy" or right is None:
            out = left
        elif step.op == "+":
            out = left + right
        elif step.op == "*":
            out = left * right
        else:
            out = left / right if right != 0 else 0.0
        values[step.output][t] = out
    elif isinstance(step, KingmanStep):
        u = at(step.utilization)
        rest = 1.0 - u
        waiting = u / rest if rest != 0 else 0.0
        values[step.output][t] = waiting * step.factor * at(step.service_time)
    else:
        raise TypeError(f"cannot evaluate {step!r}")


def _draw(model: Model, seed: int) -> dict[str, list[float]]:
    rng = Pcg32(seed)
    drawn: dict[str, list[float]] = {}
    for node in model.nodes:
        if not isinstance(node, PmfNode):
            continue
        column = []
        for _ in range(model.grid.bins):
            u = rng.next_uniform()
            pick = max(i for i, p in enumerate(node.probabilities) if p > 0)
            running = 0.0
            for i, p in enumerate(node.probabilities):
                running += p
                if running > u:
                    pick = i
                    break
            column.append(float(node.values[pick]))
        drawn[node.id] = column
    return drawn


def _min(a: float, b: float) -> float:
    # NaN propagates, as in NumPy, so an overflow is reported at the same node and bin.
    return math.nan if math.isnan(a) or math.isnan(b) else min(a, b)


def _max(a: float, b: float) -> float:
    return math.nan if math.isnan(a) or math.isnan(b) else max(a, b)


def _round(x: float) -> float:
    if not math.isfinite(x) or abs(x) >= 2.0**52:  # already whole (or hopeless)
        return x
    return float(Decimal(x).quantize(Decimal(1), rounding=ROUND_HALF_UP))  # exact Decimal


def _value(expr: Expr, t: int, values: dict[str, list[float]]) -> float:
    def at(sub: Expr, when: int) -> float:
        return _value(sub, when, values)

    if isinstance(expr, Num):
        return float(expr.value)
    if isinstance(expr, Ref):
        return values[expr.name][t]
    if isinstance(expr, Neg):
        return -at(expr.operand, t)
    if isinstance(expr, BinOp):
        a, b = at(expr.left, t), at(expr.right, t)
        if expr.op == "+":
            return a + b
        if expr.op == "-":
            return a - b
        if expr.op == "*":
            return a * b
        return a / b if b != 0 else 0.0
    if not isinstance(expr, Call):
        raise TypeError(f"cannot evaluate {expr!r}")
    name, args = expr.name, expr.args
    if name == "SHIFT":
        k = int(at(args[1], t))
        return at(args[0], t - k) if t - k >= 0 else 0.0
    if name == "CONV":
        weights = args[1]
        assert isinstance(weights, ListLit)
        total = 0.0
        for k, w in enumerate(weights.values):
            if t - k < 0:
                break
            total += w * at(args[0], t - k)
        return total
    if name == "PULSE":
        period = at(args[0], t)
        phase = at(args[1], t) if len(args) > 1 else 0.0
        amp = at(args[2], t) if len(args) > 2 else 1.0
        return amp if t >= phase and (t - phase) % period == 0 else 0.0
    x = [at(arg, t) for arg in args]
    if name == "MIN":
        return _min(x[0], x[1])
    if name == "MAX":
        return _max(x[0], x[1])
    if name == "CLAMP":
        return _max(x[1], _min(x[2], x[0]))
    if name == "MOD":
        return x[0] % x[1] if x[1] != 0 else 0.0
    if name == "FLOOR":
        return float(math.floor(x[0])) if math.isfinite(x[0]) else x[0]
    if name == "CEIL":
        return float(math.ceil(x[0])) if math.isfinite(x[0]) else x[0]
    if name == "ROUND":
        return _round(x[0])
    if name == "STEP":
        return 1.0 if x[0] >= x[1] else 0.0
    raise TypeError(f"cannot evaluate {name}")
