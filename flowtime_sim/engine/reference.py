"""A deliberately plain evaluator: one Python float at a time, bin by bin.

It restates SPEC §5 as directly as possible, shares no arithmetic with
:mod:`flowtime_sim.engine.evaluate` and is slow on purpose. It expects a model the parser
accepted, and reports overflow exactly as the engine does. Tests use it as an oracle for the
vectorised engine (the two must agree exactly, apart from the sign of zero); benchmarks use
it as a baseline. Sample mode draws with the scalar :class:`Pcg32`, one ``next_uniform`` per
bin, following the contract in :mod:`flowtime_sim.engine.evaluate`.
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
    ExprNode,
    ListLit,
    Model,
    Neg,
    Num,
    PmfNode,
    Ref,
)


def evaluate_reference(
    model: Model, *, mode: Mode = "expected", seed: int | None = None
) -> dict[str, list[float]]:
    """Every node's values as a list, keyed by node id in evaluation order."""
    if mode not in MODES:
        raise UserError(f"mode {mode!r} is not one of {', '.join(MODES)}", field="mode")
    bins = model.grid.bins
    drawn = _draw(model, effective_seed(model, seed)) if mode == "sample" else {}
    nodes = {node.id: node for node in model.nodes}
    values: dict[str, list[float]] = {}
    for node_id in model.order:
        node = nodes[node_id]
        if node_id in drawn:
            column = drawn[node_id]
        elif isinstance(node, ConstNode):
            column = [float(v) for v in node.values]
        elif isinstance(node, PmfNode):
            column = [node.expected_value] * bins
        elif isinstance(node, ExprNode):
            column = [_value(node.ast, t, values) for t in range(bins)]
        else:
            raise TypeError(f"cannot evaluate {node!r}")
        for t, v in enumerate(column):
            if not math.isfinite(v):
                raise overflow_error(node_id, v, t)
        values[node_id] = column
    return values


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
