"""Typed objects for a parsed, validated model (SPEC §5).

Everything here is immutable. A :class:`Model` is only ever built by
:func:`flowtime_sim.model.parse_model`, which validates it first, so code that receives a
``Model`` may rely on: unique node ids, const lengths equal to ``grid.bins``, normalised PMF
probabilities, expressions and topology fields that reference existing series only, and no
cycle without a lag (SPEC §5a); ``Model.plan`` holds the evaluation plan built from it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Literal, TypeAlias

if TYPE_CHECKING:
    from flowtime_sim.plan import Plan

BinUnit = Literal["minutes", "hours", "days", "weeks"]

#: Minutes in one bin unit, for computing bin start times.
MINUTES_PER_UNIT: dict[str, int] = {"minutes": 1, "hours": 60, "days": 1440, "weeks": 10080}


@dataclass(frozen=True, slots=True)
class Grid:
    """The time grid: ``bins`` bins of ``bin_size`` ``bin_unit`` each, optionally anchored."""

    bins: int
    bin_size: int
    bin_unit: BinUnit
    start: datetime | None = None  # timezone-aware UTC when present

    @property
    def bin_minutes(self) -> int:
        return self.bin_size * MINUTES_PER_UNIT[self.bin_unit]


@dataclass(frozen=True, slots=True)
class Rng:
    kind: str  # "pcg32"
    seed: int


# ---------------------------------------------------------------------------------------------
# Expression AST. ``pos`` is the 0-based character offset of the construct in the source text.


@dataclass(frozen=True, slots=True)
class Num:
    value: float
    pos: int


@dataclass(frozen=True, slots=True)
class Ref:
    name: str
    pos: int


@dataclass(frozen=True, slots=True)
class Neg:
    operand: Expr
    pos: int


@dataclass(frozen=True, slots=True)
class BinOp:
    op: Literal["+", "-", "*", "/"]
    left: Expr
    right: Expr
    pos: int


@dataclass(frozen=True, slots=True)
class ListLit:
    """A bracketed list of numeric literals; only valid as CONV's weights argument."""

    values: tuple[float, ...]
    pos: int


@dataclass(frozen=True, slots=True)
class Call:
    name: str  # upper-cased function name, e.g. "SHIFT"
    args: tuple[Expr, ...]
    pos: int


Expr: TypeAlias = Num | Ref | Neg | BinOp | ListLit | Call


# ---------------------------------------------------------------------------------------------
# Nodes


@dataclass(frozen=True, slots=True)
class ConstNode:
    id: str
    values: tuple[float, ...]
    kind: Literal["const"] = "const"


@dataclass(frozen=True, slots=True)
class PmfNode:
    id: str
    values: tuple[float, ...]
    probabilities: tuple[float, ...]  # normalised to sum to 1 when they were off by > 1e-6
    kind: Literal["pmf"] = "pmf"

    @property
    def expected_value(self) -> float:
        return sum(v * p for v, p in zip(self.values, self.probabilities, strict=True))


@dataclass(frozen=True, slots=True)
class ExprNode:
    id: str
    expr: str  # the source text as written
    ast: Expr
    kind: Literal["expr"] = "expr"


@dataclass(frozen=True, slots=True)
class DispatchSchedule:
    """A queue releases work only on bins ``phase, phase + period, ...`` (SPEC §5a)."""

    period: int  # >= 1
    phase: int  # normalised into [0, period)
    capacity_series: str | None = None  # caps the release on a dispatch bin when given
    kind: str = "time-based"


@dataclass(frozen=True, slots=True)
class RouterRoute:
    target: str  # a new series the router fills
    weight: float  # >= 0


@dataclass(frozen=True, slots=True)
class RouterNode:
    """Splits the series ``source`` over ``routes`` by weight; the targets become series."""

    id: str
    source: str
    routes: tuple[RouterRoute, ...]
    kind: Literal["router"] = "router"


@dataclass(frozen=True, slots=True)
class QueueNode:
    """A queue written under ``nodes:`` (FlowTime's C# dialect); its series is the depth."""

    id: str
    inflow: str
    outflow: str
    loss: str | None = None
    dispatch: DispatchSchedule | None = None
    wip_limit: float | None = None
    wip_limit_series: str | None = None
    wip_overflow: str | None = None
    kind: Literal["serviceWithBuffer"] = "serviceWithBuffer"


Node: TypeAlias = ConstNode | PmfNode | ExprNode | RouterNode | QueueNode

#: Topology node kinds, as FlowTime spells them; the first three hold a queue.
TOPOLOGY_KINDS: tuple[str, ...] = (
    "serviceWithBuffer",
    "queue",
    "dlq",
    "service",
    "router",
    "sink",
    "dependency",
)
QUEUE_KINDS: frozenset[str] = frozenset({"serviceWithBuffer", "queue", "dlq"})


@dataclass(frozen=True, slots=True)
class Semantics:
    """Which series play which role for a topology node (series names, not values)."""

    arrivals: str | None = None
    served: str | None = None
    errors: str | None = None
    capacity: str | None = None
    queue_depth: str | None = None  # None: synthesized as ``<snake>_queue`` (also for "self")
    parallelism: float | str | None = None  # a number or a series name
    processing_time_ms_sum: str | None = None
    served_count: str | None = None
    failures: str | None = None
    retry_echo: str | None = None
    retry_kernel: tuple[float, ...] = ()
    #: other fields naming series (``attempts``, ``externalDemand`` ...): checked, not used
    others: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class TopologyNode:
    id: str
    kind: str  # one of TOPOLOGY_KINDS
    semantics: Semantics
    initial_queue: float = 0.0
    dispatch: DispatchSchedule | None = None
    wip_limit: float | None = None
    wip_limit_series: str | None = None
    wip_overflow: str | None = None  # a queue-like topology node id
    constraints: tuple[str, ...] = ()

    @property
    def queue_like(self) -> bool:
        return self.kind in QUEUE_KINDS


@dataclass(frozen=True, slots=True)
class TopologyEdge:
    source: str  # topology node ids (the part before ':' of a ``from``/``to``)
    target: str
    weight: float = 1.0


@dataclass(frozen=True, slots=True)
class Constraint:
    """A shared capacity (the series ``capacity``) split among the nodes that list ``id``."""

    id: str
    capacity: str


@dataclass(frozen=True, slots=True)
class Topology:
    nodes: tuple[TopologyNode, ...] = ()
    edges: tuple[TopologyEdge, ...] = ()
    constraints: tuple[Constraint, ...] = ()


@dataclass(frozen=True, slots=True)
class Output:
    series: str
    as_: str | None = None  # the file name given with ``as:``


@dataclass(frozen=True, slots=True)
class Model:
    """A validated model. ``nodes`` keep file order; ``order`` is a dependency order."""

    grid: Grid
    nodes: tuple[Node, ...]
    #: the series written, resolved (patterns expanded); never empty: without ``outputs`` in
    #: the file, every node's and every synthesized series
    outputs: tuple[Output, ...]
    rng: Rng | None = None
    #: ``node id -> ids of the nodes it reads`` (direct, sorted, deduplicated; a read through
    #: SHIFT that closes a feedback loop is left out, so this graph is acyclic)
    dependencies: dict[str, tuple[str, ...]] = field(default_factory=dict)
    #: node ids in an order where every node comes after what it reads
    order: tuple[str, ...] = ()
    #: non-fatal findings, e.g. renormalised PMF probabilities
    warnings: tuple[str, ...] = ()
    topology: Topology | None = None
    #: the evaluation plan (:func:`flowtime_sim.plan.build_plan`), set by ``parse_model``
    plan: Plan | None = None

    def node(self, node_id: str) -> Node:
        for n in self.nodes:
            if n.id == node_id:
                return n
        raise KeyError(node_id)

    @property
    def edges(self) -> tuple[tuple[str, str], ...]:
        """``(from, to)`` pairs, sorted, one per dependency."""
        return tuple(sorted((src, dst) for dst, srcs in self.dependencies.items() for src in srcs))
