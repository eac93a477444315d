"""Models built by hand for the preview tests (they need no parser)."""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence

import pytest

from flowtime_sim.model.types import (
    BinOp,
    ConstNode,
    Expr,
    ExprNode,
    Grid,
    Model,
    Node,
    Num,
    Output,
    PmfNode,
    Ref,
)

NodeSpec = tuple[str, str, Sequence[str]]  # id, kind, ids it reads
GRID = Grid(bins=4, bin_size=1, bin_unit="hours")

WORDS = (
    "arrivals",
    "capacity",
    "backlog",
    "served",
    "queue",
    "retries",
    "lag",
    "util",
    "demand",
    "staff",
    "wait",
    "shipped",
    "returns",
    "orders",
    "picked",
    "late",
    "sla",
    "cost",
    "in",
    "out",
    "spill",
    "buffer",
    "pending_review_total",
    "x",
)


def build_model(specs: Sequence[NodeSpec], outputs: Sequence[str] = ()) -> Model:
    """A Model with ``dependencies`` and ``order`` filled in the way parse_model does."""
    nodes: list[Node] = []
    for node_id, kind, deps in specs:
        if kind == "const":
            nodes.append(ConstNode(id=node_id, values=(1.0,) * GRID.bins))
        elif kind == "pmf":
            nodes.append(PmfNode(id=node_id, values=(1.0, 2.0), probabilities=(0.5, 0.5)))
        else:
            ast: Expr = Num(1.0, 0)
            for dep in deps:
                ast = BinOp("+", ast, Ref(dep, 0), 0)
            nodes.append(ExprNode(id=node_id, expr=" + ".join(["1", *deps]), ast=ast))
    dependencies = {node_id: tuple(sorted(set(deps))) for node_id, _, deps in specs}
    order: list[str] = []
    done: set[str] = set()
    while len(order) < len(specs):
        for node_id, _, deps in specs:
            if node_id not in done and all(dep in done for dep in deps):
                order.append(node_id)
                done.add(node_id)
    series = outputs or [node_id for node_id, _, _ in specs]
    return Model(
        grid=GRID,
        nodes=tuple(nodes),
        outputs=tuple(Output(series=s) for s in series),
        dependencies=dependencies,
        order=tuple(order),
    )


def synthetic_specs(count: int, seed: int) -> list[NodeSpec]:
    """A plausible flow model: inputs first, then expressions reading mostly recent nodes."""
    rng = random.Random(seed)
    specs: list[NodeSpec] = []
    inputs = max(2, count // 6)
    for i in range(count):
        name = f"{WORDS[rng.randrange(len(WORDS))]}_{i}"
        if i < inputs:
            specs.append((name, "pmf" if rng.random() < 0.3 else "const", ()))
            continue
        deps: set[str] = set()
        for _ in range(rng.choice((1, 1, 2, 2, 2, 3))):
            if rng.random() < 0.15:
                deps.add(specs[rng.randrange(i)][0])  # now and then a long edge
            else:
                deps.add(specs[rng.randrange(max(0, i - 10), i)][0])
        specs.append((name, "expr", sorted(deps)))
    return specs


def synthetic_model(count: int, seed: int = 7) -> Model:
    specs = synthetic_specs(count, seed)
    consumed = {dep for _, _, deps in specs for dep in deps}
    return build_model(specs, outputs=[s[0] for s in specs if s[0] not in consumed])


@pytest.fixture
def make_model() -> Callable[..., Model]:
    return build_model


@pytest.fixture(scope="session")
def synthetic_60() -> Model:
    return synthetic_model(60)


@pytest.fixture(scope="session")
def synthetic_200() -> Model:
    return synthetic_model(200, seed=11)
