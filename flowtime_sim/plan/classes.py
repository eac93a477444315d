"""Classes: which series carry which classes (SPEC §5a), decided before any number exists.

Reference: ``reference/flowtime-upstream.md`` §1.7 (``classes``, ``traffic``), §6.7 (FlowTime's
C# engine: whole-node class assignment, class algebra), §2.10 (its Rust engine: ``ratePerBin``
as weights). The values are computed by :mod:`flowtime_sim.engine.classes`; this module only
decides the *set* of classes each series carries, walking the steps in evaluation order:

- a series named by ``traffic.arrivals`` carries its class wholly (C#); several classes on one
  series share it by their ``ratePerBin`` (in equal parts when one has none), as in Rust;
- an expression carries the classes of what it reads, by these rules (the engine's):
  ``a + b``, ``a − b``, ``MIN``, ``MAX``, ``CLAMP``: every operand's classes; ``a * b``: the
  left operand's, else the right's; ``a / b``: the left operand's only; ``SHIFT``, ``CONV``,
  ``FLOOR``, ``CEIL``, ``ROUND``, unary minus: the operand's; ``MOD``, ``STEP``: the first
  operand that carries classes; numbers and ``PULSE``: none. Inside a feedback loop, a lagged
  read of a series the loop computes later carries no classes;
- a router's class route carries the classes it lists that its source carries; its weight
  routes carry the source's other classes;
- a queue (and its overflow) carries the classes of its inflow, outflow and loss; a dispatch
  gate those of its outflow; an inflow sum those of its terms; a constraint's capped arrivals
  those of the arrivals; a retry echo those of its failures;
- derived metrics (utilization, latency, …) are ratios, not flows: they carry none.

Class ids keep the order of ``classes`` (then of the arrivals naming others).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from flowtime_sim.errors import ModelError
from flowtime_sim.model.expr import did_you_mean
from flowtime_sim.model.types import BinOp, Call, ClassArrival, Expr, ExprNode, Neg, Ref
from flowtime_sim.plan.steps import (
    AllocStep,
    ConvStep,
    GateStep,
    NodeStep,
    QueueStep,
    RouteStep,
    Step,
    SumStep,
)

_FIRST_CLASSED = frozenset({"MOD", "STEP"})
_OPERAND = frozenset({"SHIFT", "CONV", "FLOOR", "CEIL", "ROUND"})


@dataclass(frozen=True, slots=True)
class ClassPlan:
    classes: tuple[str, ...]
    #: series named by ``traffic.arrivals`` -> (class, share of the series), shares summing to 1
    assigned: dict[str, tuple[tuple[str, float], ...]]
    #: every series that carries classes -> its classes, in class order
    carried: dict[str, tuple[str, ...]]


def assignments(
    arrivals: Sequence[ClassArrival], series: Mapping[str, object]
) -> dict[str, tuple[tuple[str, float], ...]]:
    """``series -> ((class, share), ...)`` from ``traffic.arrivals``."""
    rates: dict[str, dict[str, float | None]] = {}
    for index, arrival in enumerate(arrivals):
        if arrival.node not in series:
            raise ModelError(
                f"traffic.arrivals[{index}].nodeId '{arrival.node}' is not a series of the "
                f"model{did_you_mean(arrival.node, list(series))}",
                field=f"traffic.arrivals[{index}].nodeId",
            )
        per_class = rates.setdefault(arrival.node, {})
        before = per_class.get(arrival.class_id, 0.0)
        rate = arrival.rate
        per_class[arrival.class_id] = None if before is None or rate is None else before + rate
    assigned: dict[str, tuple[tuple[str, float], ...]] = {}
    for name, per_class in rates.items():
        known = [r for r in per_class.values() if r is not None]
        total = sum(known)
        if len(known) == len(per_class) and total > 0:
            assigned[name] = tuple((c, (r or 0.0) / total) for c, r in per_class.items())
        else:
            assigned[name] = tuple((c, 1.0 / len(per_class)) for c in per_class)
    return assigned


def expr_classes(expr: Expr, carried: Mapping[str, frozenset[str]]) -> frozenset[str]:
    """The classes an expression carries (the module docstring's rules)."""
    if isinstance(expr, Ref):
        return carried.get(expr.name, frozenset())
    if isinstance(expr, Neg):
        return expr_classes(expr.operand, carried)
    if isinstance(expr, BinOp):
        left = expr_classes(expr.left, carried)
        if expr.op == "/":
            return left
        right = expr_classes(expr.right, carried)
        if expr.op == "*":
            return left or right
        return left | right
    if isinstance(expr, Call):
        parts = [expr_classes(arg, carried) for arg in expr.args]
        if expr.name in _OPERAND:
            return parts[0]
        if expr.name in _FIRST_CLASSED:
            return next((p for p in parts if p), frozenset())
        if expr.name in ("MIN", "MAX", "CLAMP"):
            return frozenset().union(*parts)
    return frozenset()


def step_classes(step: Step, carried: Mapping[str, frozenset[str]]) -> dict[str, frozenset[str]]:
    """The classes of each series ``step`` writes (empty sets left out)."""

    def of(name: str | None) -> frozenset[str]:
        return carried.get(name, frozenset()) if name else frozenset()

    out: dict[str, frozenset[str]] = {}
    if isinstance(step, NodeStep):
        if isinstance(step.node, ExprNode):
            out[step.node.id] = expr_classes(step.node.ast, carried)
    elif isinstance(step, RouteStep):
        source = of(step.source)
        routed: set[str] = set()
        for target, classes in step.class_routes:
            routed.update(classes)
            out[target] = out.get(target, frozenset()) | (source & frozenset(classes))
        for target, _ in step.shares:
            out[target] = out.get(target, frozenset()) | (source - routed)
    elif isinstance(step, GateStep):
        out[step.output] = of(step.outflow)
    elif isinstance(step, SumStep):
        out[step.output] = frozenset().union(*(of(t) for t in step.terms))
    elif isinstance(step, AllocStep):
        for capped, demand in zip(step.capped, step.demands, strict=True):
            out[capped] = of(demand)
    elif isinstance(step, QueueStep):
        queued = of(step.inflow) | of(step.outflow) | of(step.loss)
        out.update(dict.fromkeys(step.outputs, queued))
    elif isinstance(step, ConvStep):
        out[step.output] = of(step.source)
    return {name: classes for name, classes in out.items() if classes}


def class_plan(
    classes: tuple[str, ...],
    arrivals: Sequence[ClassArrival],
    ordered: Sequence[Step],
    series: Mapping[str, object],
) -> ClassPlan | None:
    """The classes of every series, or None for a model that assigns no class."""
    if not arrivals:
        return None
    assigned = assignments(arrivals, series)
    carried: dict[str, frozenset[str]] = {}
    for step in ordered:
        for name, found in step_classes(step, carried).items():
            carried[name] = found
        for name in step.outputs:
            if name in assigned:
                carried[name] = frozenset(c for c, _ in assigned[name])
    rank = {c: i for i, c in enumerate(classes)}
    return ClassPlan(
        classes=classes,
        assigned=assigned,
        carried={
            name: tuple(sorted(found, key=rank.__getitem__)) for name, found in carried.items()
        },
    )
