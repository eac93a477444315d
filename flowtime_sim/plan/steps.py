"""The steps of a plan: each writes one or more series from others.

A step reads its ``inputs`` at the bin it computes (a same-bin dependency) and its ``lagged``
inputs only at earlier bins. ``describe()`` is the step as ``flowtime-sim plan`` prints it;
``origin`` names what in the model the step comes from, for messages.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeAlias

from flowtime_sim.model.expr import format_number
from flowtime_sim.model.types import ConstNode, ExprNode, PmfNode


def _csv(names: tuple[str, ...]) -> str:
    return ", ".join(names)


@dataclass(frozen=True, slots=True)
class NodeStep:
    """A ``const``, ``pmf`` or ``expr`` node."""

    node: ConstNode | PmfNode | ExprNode
    inputs: tuple[str, ...] = ()
    lagged: tuple[str, ...] = ()

    @property
    def outputs(self) -> tuple[str, ...]:
        return (self.node.id,)

    @property
    def origin(self) -> str:
        return f"node '{self.node.id}'"

    def describe(self) -> str:
        node = self.node
        if isinstance(node, ExprNode):
            return f"{node.id} = {node.expr}"
        if isinstance(node, PmfNode):
            return f"{node.id} = pmf (expected value {format_number(node.expected_value)})"
        return f"{node.id} = const ({len(node.values)} values)"


@dataclass(frozen=True, slots=True)
class RouteStep:
    """``target += source * share`` for each route, in route order."""

    router: str
    source: str
    shares: tuple[tuple[str, float], ...]  # (target, weight / total weight)

    @property
    def outputs(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(target for target, _ in self.shares))

    @property
    def inputs(self) -> tuple[str, ...]:
        return (self.source,)

    @property
    def lagged(self) -> tuple[str, ...]:
        return ()

    @property
    def origin(self) -> str:
        return f"node '{self.router}'"

    def describe(self) -> str:
        parts = ", ".join(f"{t} = {self.source} * {format_number(s)}" for t, s in self.shares)
        return f"ROUTE {self.router}: {parts}"


@dataclass(frozen=True, slots=True)
class GateStep:
    """The dispatch gate: ``outflow`` (at most ``capacity``) on dispatch bins, else 0."""

    output: str
    outflow: str
    capacity: str | None
    period: int
    phase: int
    owner: str

    @property
    def outputs(self) -> tuple[str, ...]:
        return (self.output,)

    @property
    def inputs(self) -> tuple[str, ...]:
        return (self.outflow,) if self.capacity is None else (self.outflow, self.capacity)

    @property
    def lagged(self) -> tuple[str, ...]:
        return ()

    @property
    def origin(self) -> str:
        return self.owner

    def describe(self) -> str:
        cap = f", cap={self.capacity}" if self.capacity else ""
        return (
            f"{self.output} = DISPATCH({self.outflow}, period={self.period}, "
            f"phase={self.phase}{cap})"
        )


@dataclass(frozen=True, slots=True)
class SumStep:
    """``output = ((t0 + t1) + t2) ...``: a queue's inflow plus overflow routed into it."""

    output: str
    terms: tuple[str, ...]
    owner: str

    @property
    def outputs(self) -> tuple[str, ...]:
        return (self.output,)

    @property
    def inputs(self) -> tuple[str, ...]:
        return self.terms

    @property
    def lagged(self) -> tuple[str, ...]:
        return ()

    @property
    def origin(self) -> str:
        return self.owner

    def describe(self) -> str:
        return f"{self.output} = {' + '.join(self.terms)}"


@dataclass(frozen=True, slots=True)
class AllocStep:
    """A constraint: demands scaled down proportionally when together they exceed capacity."""

    constraint: str
    capacity: str
    demands: tuple[str, ...]
    capped: tuple[str, ...]  # one output per demand

    @property
    def outputs(self) -> tuple[str, ...]:
        return self.capped

    @property
    def inputs(self) -> tuple[str, ...]:
        return (*self.demands, self.capacity)

    @property
    def lagged(self) -> tuple[str, ...]:
        return ()

    @property
    def origin(self) -> str:
        return f"constraint '{self.constraint}'"

    def describe(self) -> str:
        return (
            f"{_csv(self.capped)} = PROPORTIONAL_ALLOC({_csv(self.demands)}, cap={self.capacity})"
        )


@dataclass(frozen=True, slots=True)
class QueueStep:
    """``Q[t] = max(0, Q[t-1] + in[t] - out[t] - loss[t])``, capped by a WIP limit."""

    output: str
    inflow: str
    outflow: str
    loss: str | None
    initial: float
    owner: str
    limit_series: str | None = None
    limit_value: float | None = None
    overflow: str | None = None
    node: str | None = None  # the serviceWithBuffer node it is, when written under nodes:

    @property
    def outputs(self) -> tuple[str, ...]:
        return (self.output,) if self.overflow is None else (self.output, self.overflow)

    @property
    def inputs(self) -> tuple[str, ...]:
        named = (self.inflow, self.outflow, self.loss, self.limit_series)
        return tuple(name for name in named if name is not None)

    @property
    def lagged(self) -> tuple[str, ...]:
        return (self.output,)

    @property
    def origin(self) -> str:
        return self.owner

    def describe(self) -> str:
        parts = [self.inflow, self.outflow]
        if self.loss:
            parts.append(f"loss={self.loss}")
        parts.append(f"init={format_number(self.initial)}")
        if self.limit_series:
            parts.append(f"wip={self.limit_series}")
        elif self.limit_value is not None:
            parts.append(f"wip={format_number(self.limit_value)}")
        if self.overflow:
            parts.append(f"overflow={self.overflow}")
        return f"{self.output} = QUEUE({', '.join(parts)})"


@dataclass(frozen=True, slots=True)
class ConvStep:
    """Retry echo: ``output = CONV(source, kernel)``."""

    output: str
    source: str
    kernel: tuple[float, ...]
    owner: str

    @property
    def outputs(self) -> tuple[str, ...]:
        return (self.output,)

    @property
    def inputs(self) -> tuple[str, ...]:
        return (self.source,)

    @property
    def lagged(self) -> tuple[str, ...]:
        return ()

    @property
    def origin(self) -> str:
        return self.owner

    def describe(self) -> str:
        kernel = ", ".join(format_number(k) for k in self.kernel)
        return f"{self.output} = CONV({self.source}, [{kernel}])"


@dataclass(frozen=True, slots=True)
class ArithStep:
    """A derived metric: ``left op right`` (``/`` gives 0 where ``right`` is 0), or a copy."""

    output: str
    op: str  # "+", "*", "/" or "copy"
    left: str
    right: str | float | None
    owner: str

    @property
    def outputs(self) -> tuple[str, ...]:
        return (self.output,)

    @property
    def inputs(self) -> tuple[str, ...]:
        return (self.left,) if not isinstance(self.right, str) else (self.left, self.right)

    @property
    def lagged(self) -> tuple[str, ...]:
        return ()

    @property
    def origin(self) -> str:
        return self.owner

    def describe(self) -> str:
        if self.op == "copy":
            return f"{self.output} = {self.left}"
        right = self.right if isinstance(self.right, str) else format_number(float(self.right or 0))
        return f"{self.output} = {self.left} {self.op} {right}"


@dataclass(frozen=True, slots=True)
class KingmanStep:
    """Kingman's waiting time: ``util / (1 - util) * factor * service_time``."""

    output: str
    utilization: str
    service_time: str
    factor: float  # (ca² + cs²) / 2
    owner: str

    @property
    def outputs(self) -> tuple[str, ...]:
        return (self.output,)

    @property
    def inputs(self) -> tuple[str, ...]:
        return (self.utilization, self.service_time)

    @property
    def lagged(self) -> tuple[str, ...]:
        return ()

    @property
    def origin(self) -> str:
        return self.owner

    def describe(self) -> str:
        return (
            f"{self.output} = KINGMAN({self.utilization}, {self.service_time}, "
            f"f={format_number(self.factor)})"
        )


Step: TypeAlias = (
    NodeStep
    | RouteStep
    | GateStep
    | SumStep
    | AllocStep
    | QueueStep
    | ConvStep
    | ArithStep
    | KingmanStep
)
