"""Per-class series: each series that carries classes split into ``series@Class`` parts.

Reference: ``reference/flowtime-upstream.md`` §6.7 (FlowTime's C# class algebra, which SPEC
§5a follows), §6.6 (class routes), §2.10 (the Rust engine's post-evaluation shares). Which
series carry which classes is decided by :mod:`flowtime_sim.plan.classes`; this module
computes the values, step by step in evaluation order, next to the totals.

Every series' parts add up to its total in every bin. They are *fitted* to it: with ``p_c``
the parts computed by the rules below and ``S = Σ_c p_c``,

    series@c = p_c · total / S      where S ≠ 0
    series@c = total / n            where S = 0 and total ≠ 0 (n classes, equal parts)

Rules, per bin ``t`` (``a@c`` is ``a``'s part of class ``c``, 0 for a class it lacks):

- **assigned** (``traffic.arrivals``): ``x@c = x · share_c`` (share 1 for a single class);
- **expressions**, operator by operator (then fitted to the node's total): ``a ± b``:
  ``a@c ± b@c``, fitted to ``a ± b`` (an operand without classes grows every class in
  proportion); ``a * b`` with ``b`` unclassed: ``a@c · b`` (the left operand's classes when
  both carry some); ``a / b``: ``a``'s class mix on the quotient (none when ``a`` has none);
  ``MIN``/``MAX``: the class mix of the operand that gives the value (the left one on a tie or
  when only it carries classes); ``CLAMP(v, lo, hi) = MAX(lo, MIN(hi, v))``; ``SHIFT(a, k)``:
  ``a@c[t−k]``; ``CONV``: each class convolved; ``FLOOR``/``CEIL``/``ROUND``/unary minus: the
  operand's mix; ``MOD``/``STEP``: the mix of the first operand that carries classes;
- **routers**: a class route takes ``source@c`` for its classes; the rest keeps the other
  classes and is split by weight, each class by the same share;
- **queues**: the initial depth is split by the inflow's first-bin class mix (equal parts when
  that is 0), then per bin ``q@c = max(0, q@c[t−1] + in@c − out@c − loss@c)`` fitted to the
  depth before the WIP cap ``Q[t] + overflow[t]``, then split between ``Q`` and the overflow in
  proportion. An outflow, loss or inflow without classes follows the queue's own mix
  (``q@c[t−1] + in@c``): a well-mixed queue;
- **dispatch gate**, **constraint** caps, **retry echo** (CONV), **inflow sums**: the mix of the
  series they come from (summed for sums).

Where FlowTime's C# engine defines the step, these are its rules; it runs a queue's classes
without fitting them bin by bin and gives an unclassed outflow to no class, and it assigns a
series named by several arrivals wholly to the last one (the ``ratePerBin`` shares here are
its Rust engine's).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TypeAlias

import numpy as np
import numpy.typing as npt

from flowtime_sim.engine.evaluate import _BINARY, _ELEMENTWISE, _Compiler, _full
from flowtime_sim.engine.vector import Series, convolve, divide
from flowtime_sim.model.types import BinOp, Call, Expr, ExprNode, ListLit, Neg, Num, Ref
from flowtime_sim.plan import (
    AllocStep,
    ClassPlan,
    ConvStep,
    GateStep,
    NodeStep,
    QueueStep,
    RouteStep,
    Step,
    SumStep,
)

Matrix: TypeAlias = npt.NDArray[np.float64]  # (classes, bins)
Rows: TypeAlias = npt.NDArray[np.bool_]  # (classes,)
_Value: TypeAlias = tuple[Series, Matrix | None, Rows | None]


def fit(parts: Matrix, total: Series, rows: Rows) -> Matrix:
    """``parts`` scaled so that they add up to ``total`` in each bin (module docstring)."""
    parts = np.where(np.isfinite(parts), parts, 0.0)
    sums = parts.sum(axis=0)
    fitted: Matrix = parts * divide(total, sums)
    empty = (sums == 0.0) & (total != 0.0)
    if empty.any() and rows.any():
        fitted[:, empty] = np.where(rows[:, None], total[empty] / rows.sum(), 0.0)
    return fitted


class ClassEngine:
    """The parts of every series that carries classes, filled stage by stage."""

    def __init__(self, plan: ClassPlan, bins: int) -> None:
        self.plan = plan
        self.bins = bins
        self.index = {c: i for i, c in enumerate(plan.classes)}
        self.parts: dict[str, Matrix] = {}

    def rows(self, classes: Sequence[str]) -> Rows:
        mask = np.zeros(len(self.index), dtype=bool)
        mask[[self.index[c] for c in classes]] = True
        return mask

    def zeros(self) -> Matrix:
        return np.zeros((len(self.index), self.bins))

    # -- stages ---------------------------------------------------------------------------

    def run(self, steps: Sequence[Step], env: Mapping[str, Series]) -> None:
        """Compute the parts of what ``steps`` wrote (their totals are in ``env``)."""
        for step in steps:
            if isinstance(step, RouteStep) and step.class_routes:
                continue  # done with the totals, by :meth:`route`
            found = self.step(step, env)
            for name in step.outputs:
                classes = self.plan.carried.get(name)
                if classes is None:
                    continue
                total = np.asarray(env[name], dtype=np.float64)
                if name in self.plan.assigned:
                    shares = np.zeros(len(self.index))
                    for c, share in self.plan.assigned[name]:
                        shares[self.index[c]] = share
                    self.parts[name] = shares[:, None] * total[None, :]
                    continue
                self.parts[name] = fit(found.get(name, self.zeros()), total, self.rows(classes))

    def series(self) -> dict[str, Series]:
        """``name@Class`` for every series that carries classes, its classes in order."""
        out: dict[str, Series] = {}
        for name, classes in self.plan.carried.items():
            parts = self.parts.get(name)
            for c in classes:
                values = parts[self.index[c]].copy() if parts is not None else np.zeros(self.bins)
                values.flags.writeable = False
                out[f"{name}@{c}"] = values
        return out

    # -- steps ----------------------------------------------------------------------------

    def step(self, step: Step, env: Mapping[str, Series]) -> dict[str, Matrix]:
        get = self.parts.get
        if isinstance(step, NodeStep):
            if isinstance(step.node, ExprNode):
                _, parts, _ = self.walk(step.node, step.node.ast, env)
                return {step.node.id: parts} if parts is not None else {}
            return {}
        if isinstance(step, RouteStep):
            return self.route(step, env)[1]
        if isinstance(step, GateStep):
            source = get(step.outflow)
            return {step.output: source} if source is not None else {}
        if isinstance(step, SumStep):
            terms = [get(t) for t in step.terms]
            known = [t for t in terms if t is not None]
            return {step.output: sum(known, self.zeros())} if known else {}
        if isinstance(step, AllocStep):
            return {
                capped: parts
                for capped, parts in zip(step.capped, (get(d) for d in step.demands), strict=True)
                if parts is not None
            }
        if isinstance(step, QueueStep):
            return self.queue(step, env)
        if isinstance(step, ConvStep):
            source = get(step.source)
            if source is None:
                return {}
            return {step.output: np.array([convolve(r, step.kernel, self.bins) for r in source])}
        return {}

    def route(
        self, step: RouteStep, env: Mapping[str, Series]
    ) -> tuple[dict[str, Series], dict[str, Matrix]]:
        """A router's targets, totals and parts (totals depend on parts for class routes)."""
        source = np.asarray(env[step.source], dtype=np.float64)
        parts = self.parts.get(step.source)
        rest = source
        rest_parts = parts.copy() if parts is not None else None
        totals: dict[str, Series] = {}
        split: dict[str, Matrix] = {}

        def add(target: str, total: Series, part: Matrix | None) -> None:
            totals[target] = total if target not in totals else totals[target] + total
            if part is not None:
                split[target] = part if target not in split else split[target] + part

        for target, classes in step.class_routes:
            taken = self.zeros()
            if parts is not None and rest_parts is not None:
                rows = [self.index[c] for c in classes if c in self.index]
                taken[rows] = parts[rows]
                rest_parts[rows] = 0.0
            amount = taken.sum(axis=0)
            rest = rest - amount
            add(target, amount, taken)
        for target, share in step.shares:
            add(target, rest * share, rest_parts * share if rest_parts is not None else None)
        if step.class_routes:
            for target, total in totals.items():
                carried = self.plan.carried.get(target)
                if carried is not None:
                    self.parts[target] = fit(
                        split.get(target, self.zeros()), total, self.rows(carried)
                    )
        return totals, split

    def queue(self, step: QueueStep, env: Mapping[str, Series]) -> dict[str, Matrix]:
        """Bin by bin on Python floats, one per class the queue carries (a handful): NumPy
        calls on such short vectors would cost more than the arithmetic."""
        classes = self.plan.carried.get(step.output)
        if classes is None:
            return {}
        index = [self.index[c] for c in classes]
        n = len(index)
        equal = [1.0 / n] * n
        none = [0.0] * self.bins

        def rows_of(name: str | None) -> list[list[float]] | None:
            parts = self.parts.get(name) if name else None
            return parts[index].T.tolist() if parts is not None else None

        inflow, outflow, loss = rows_of(step.inflow), rows_of(step.outflow), rows_of(step.loss)
        in_total = env[step.inflow].tolist()
        out_total = env[step.outflow].tolist()
        loss_total = env[step.loss].tolist() if step.loss else none
        depth = env[step.output].tolist()
        overflow = env[step.overflow].tolist() if step.overflow is not None else none

        def mix(values: list[float]) -> list[float]:
            positive = [v if v > 0.0 else 0.0 for v in values]
            total = sum(positive)
            return [v / total for v in positive] if total > 0.0 else equal

        q = [step.initial * m for m in mix(inflow[0] if inflow is not None else [0.0] * n)]
        kept: list[list[float]] = []
        spilled: list[list[float]] = []
        for t in range(self.bins):
            arriving = inflow[t] if inflow is not None else [in_total[t] * m for m in mix(q)]
            available = [a + b for a, b in zip(q, arriving, strict=True)]
            share = mix(available)
            out = outflow[t] if outflow is not None else [out_total[t] * m for m in share]
            lost = loss[t] if loss is not None else [loss_total[t] * m for m in share]
            left = [max(0.0, a - o - x) for a, o, x in zip(available, out, lost, strict=True)]
            before_cap = depth[t] + overflow[t]
            spread = sum(left)
            if spread != 0.0:
                left = [v * (before_cap / spread) for v in left]
            else:
                left = [before_cap * m for m in equal]
            if before_cap != 0.0:
                spilled.append([v * (overflow[t] / before_cap) for v in left])
                q = [v * (depth[t] / before_cap) for v in left]
            else:
                spilled.append([0.0] * n)
                q = [0.0] * n
            kept.append(q)
        result = {step.output: self._matrix(index, kept)}
        if step.overflow is not None:
            result[step.overflow] = self._matrix(index, spilled)
        return result

    def _matrix(self, index: list[int], by_bin: list[list[float]]) -> Matrix:
        matrix = self.zeros()
        matrix[index] = np.array(by_bin, dtype=np.float64).T
        return matrix

    # -- expressions ----------------------------------------------------------------------

    def walk(self, node: ExprNode, expr: Expr, env: Mapping[str, Series]) -> _Value:
        """``(total, parts, rows)`` of a sub-expression; parts None when it has no classes."""
        if not self.classed(expr):
            compiled = _Compiler(node, self.bins).compile(expr)
            total = compiled if isinstance(compiled, float) else compiled(env)
            return _full(total, self.bins), None, None
        if isinstance(expr, Ref):
            parts = self.parts[expr.name]
            return env[expr.name], parts, self.rows(self.plan.carried[expr.name])
        if isinstance(expr, Neg):
            total, negated, rows = self.walk(node, expr.operand, env)
            return -total, (-negated if negated is not None else None), rows
        if isinstance(expr, BinOp):
            return self.binary(node, expr, env)
        if isinstance(expr, Call):
            return self.call(node, expr, env)
        raise TypeError(f"no classes in {expr!r}")  # numbers and lists are never classed

    def classed(self, expr: Expr) -> bool:
        if isinstance(expr, Ref):
            return expr.name in self.parts
        if isinstance(expr, Neg):
            return self.classed(expr.operand)
        if isinstance(expr, BinOp):
            if expr.op == "/":
                return self.classed(expr.left)
            return self.classed(expr.left) or self.classed(expr.right)
        if isinstance(expr, Call) and expr.name != "PULSE":
            return any(self.classed(a) for a in expr.args if not isinstance(a, (Num, ListLit)))
        return False

    def binary(self, node: ExprNode, expr: BinOp, env: Mapping[str, Series]) -> _Value:
        lt, lp, lr = self.walk(node, expr.left, env)
        rt, rp, rr = self.walk(node, expr.right, env)
        total = _full(_BINARY[expr.op](lt, rt), self.bins)
        if expr.op in "+-":
            sign = 1.0 if expr.op == "+" else -1.0
            parts = (lp if lp is not None else 0.0) + sign * (rp if rp is not None else 0.0)
            rows = _union(lr, rr)
            return total, fit(np.asarray(parts), total, rows), rows
        if expr.op == "*":
            if lp is not None:
                return total, lp * rt, lr
            assert rp is not None
            return total, rp * lt, rr
        assert lp is not None and lr is not None
        return total, fit(lp, total, lr), lr

    def call(self, node: ExprNode, call: Call, env: Mapping[str, Series]) -> _Value:
        name, args = call.name, call.args
        if name == "CLAMP":
            inner = self.extreme(
                node, np.minimum, self.walk(node, args[2], env), self.walk(node, args[0], env)
            )
            return self.extreme(node, np.maximum, self.walk(node, args[1], env), inner)
        if name in ("MIN", "MAX"):
            op = np.minimum if name == "MIN" else np.maximum
            return self.extreme(
                node, op, self.walk(node, args[0], env), self.walk(node, args[1], env)
            )
        if name == "SHIFT":
            total, parts, rows = self.walk(node, args[0], env)
            assert parts is not None
            lag = int(_Compiler(node, self.bins).constant(args[1], "SHIFT's k"))
            shifted_total, shifted = np.zeros(self.bins), np.zeros_like(parts)
            if lag < self.bins:
                shifted_total[lag:] = total[: self.bins - lag]
                shifted[:, lag:] = parts[:, : self.bins - lag]
            return shifted_total, shifted, rows
        if name == "CONV":
            total, parts, rows = self.walk(node, args[0], env)
            assert isinstance(args[1], ListLit) and parts is not None and rows is not None
            kernel = args[1].values
            done = convolve(total, kernel, self.bins)
            return done, np.array([convolve(r, kernel, self.bins) for r in parts]), rows
        values = [self.walk(node, a, env) for a in args]
        total = _full(_ELEMENTWISE[name](*(v[0] for v in values)), self.bins)
        _, parts, rows = next(v for v in values if v[1] is not None)
        assert parts is not None and rows is not None
        return total, fit(parts, total, rows), rows

    def extreme(self, node: ExprNode, op: np.ufunc, left: _Value, right: _Value) -> _Value:
        lt, lp, lr = left
        rt, rp, rr = right
        value = _full(op(lt, rt), self.bins)
        rows = _union(lr, rr)
        if lp is None and rp is None:
            return value, None, None
        if lp is None or rp is None:
            chosen = lp if lp is not None else rp
        else:
            chosen = np.where((lt == value) | (rt != value), lp, rp)
        assert chosen is not None and rows is not None
        return value, fit(chosen, value, rows), rows


def _union(left: Rows | None, right: Rows | None) -> Rows:
    if left is None:
        assert right is not None
        return right
    return left if right is None else left | right
