"""Typed objects for a parsed, validated model (SPEC §5).

Everything here is immutable. A :class:`Model` is only ever built by
:func:`flowtime_sim.model.parse_model`, which validates it first, so code that receives a
``Model`` may rely on: unique node ids, const lengths equal to ``grid.bins``, normalised PMF
probabilities, expressions that reference existing nodes only, and an acyclic graph.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal, TypeAlias

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


Node: TypeAlias = ConstNode | PmfNode | ExprNode


@dataclass(frozen=True, slots=True)
class Output:
    series: str
    as_: str | None = None  # the file name given with ``as:``


@dataclass(frozen=True, slots=True)
class Model:
    """A validated model. ``nodes`` keep file order; ``order`` is a dependency order."""

    grid: Grid
    nodes: tuple[Node, ...]
    outputs: tuple[Output, ...]  # never empty: every node when the file listed none
    rng: Rng | None = None
    #: ``node id -> ids it reads`` (direct dependencies, sorted, deduplicated)
    dependencies: dict[str, tuple[str, ...]] = field(default_factory=dict)
    #: node ids in an order where every node comes after what it reads
    order: tuple[str, ...] = ()
    #: non-fatal findings, e.g. renormalised PMF probabilities
    warnings: tuple[str, ...] = ()

    def node(self, node_id: str) -> Node:
        for n in self.nodes:
            if n.id == node_id:
                return n
        raise KeyError(node_id)

    @property
    def edges(self) -> tuple[tuple[str, str], ...]:
        """``(from, to)`` pairs, sorted, one per dependency."""
        return tuple(sorted((src, dst) for dst, srcs in self.dependencies.items() for src in srcs))
