"""Synthetic models of any size, for benchmarks and tests.

:func:`synthetic_model_source` builds the model as a mapping (dump it as YAML to get a model
file); :func:`synthetic_model` validates it into a :class:`~flowtime_sim.model.types.Model`.
The same arguments always give the same model.

The mix imitates real models: about 15% ``const`` nodes (values with one or two decimals),
10% ``pmf`` nodes and 75% ``expr`` nodes that read recent nodes, so they form long chains,
using every function of SPEC §5. Each expression keeps values within a bounded range whatever
its inputs, so any size of model evaluates without overflow.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime
from typing import Any, Final

from flowtime_sim.model import Model, parse_model

#: Expression shapes; ``{a}`` and ``{b}`` are earlier nodes, ``{k}`` a small whole number.
#: None makes a value larger than max(|a|, |b|) + 5, which is what keeps chains bounded.
_SHAPES: Final = (
    "({a} + {b}) * 0.5",
    "{a} * 0.8 + 1",
    "SHIFT({a}, {k})",
    "MIN({a}, {b})",
    "MAX({a}, {b}) - 1",
    "CLAMP({a} - {b}, 0, 100)",
    "CONV({a}, [0.5, 0.3, 0.2])",
    "{a} / (MAX({b}, 0) + 1)",
    "MOD({a}, 7)",
    "ROUND({a} * 0.75)",
    "STEP({a}, 50) * {b}",
    "{a} + PULSE(24, {k}, 5)",
    "FLOOR({a}) - CEIL({b} * 0.1)",
    "-{a} * 0.9",
)


def _earlier(rng: random.Random, index: int) -> str:
    """Mostly one of the last few nodes, sometimes any earlier one: chains with cross-links."""
    back = rng.randint(1, min(index, 5)) if rng.random() < 0.8 else rng.randint(1, index)
    return f"n{index - back:04d}"


def synthetic_model_source(
    nodes: int, bins: int, seed: int = 0, *, start: datetime | None = None
) -> dict[str, Any]:
    """A model mapping with ``nodes`` nodes over ``bins`` hourly bins (SPEC §5 format).

    ``start`` defaults to 2025-01-01T00:00:00Z. All nodes are outputs.
    """
    if nodes < 1:
        raise ValueError(f"nodes must be >= 1, got {nodes}")
    rng = random.Random(seed)
    begin = start if start is not None else datetime(2025, 1, 1, tzinfo=UTC)
    items: list[dict[str, Any]] = []
    for index in range(nodes):
        node_id = f"n{index:04d}"
        roll = rng.random()
        if index < 2 or roll < 0.15:
            level = rng.uniform(10, 90)
            digits = rng.choice((1, 2))
            values = [round(level + rng.uniform(-10, 10), digits) for _ in range(bins)]
            items.append({"id": node_id, "kind": "const", "values": values})
        elif roll < 0.25:
            size = rng.randint(2, 5)
            weights = [rng.randint(1, 9) for _ in range(size)]
            pmf = {
                "values": rng.sample(range(0, 100), size),
                "probabilities": [w / sum(weights) for w in weights],
            }
            items.append({"id": node_id, "kind": "pmf", "pmf": pmf})
        else:
            shape = rng.choice(_SHAPES)
            a, b = _earlier(rng, index), _earlier(rng, index)
            expr = shape.format(a=a, b=b, k=rng.randint(1, 24))
            items.append({"id": node_id, "kind": "expr", "expr": expr})
    return {
        "schemaVersion": 1,
        "grid": {
            "bins": bins,
            "binSize": 1,
            "binUnit": "hours",
            "start": begin.strftime("%Y-%m-%dT%H:%M:%SZ"),
        },
        "rng": {"kind": "pcg32", "seed": seed},
        "nodes": items,
    }


def synthetic_model(
    nodes: int, bins: int, seed: int = 0, *, start: datetime | None = None
) -> Model:
    """:func:`synthetic_model_source`, validated."""
    return parse_model(synthetic_model_source(nodes, bins, seed, start=start))


def stateful_model_source(
    nodes: int,
    bins: int,
    seed: int = 0,
    *,
    queues: int = 100,
    feedback: int = 50,
    start: datetime | None = None,
) -> dict[str, Any]:
    """:func:`synthetic_model_source` with state (SPEC §5a): ``feedback`` of the ``nodes``
    are self-referencing backlogs (``MAX(0, SHIFT(x, 1) * 0.8 + a - b)``, bounded whatever
    their inputs), and a topology of ``queues`` queue-like nodes reads the model's nodes,
    every third with a dispatch schedule and a capacity series, every fifth with a WIP
    limit. The model runs unchanged in FlowTime's Rust engine."""
    source = synthetic_model_source(nodes, bins, seed, start=start)
    rng = random.Random(seed + 1)
    items: list[dict[str, Any]] = source["nodes"]
    expr_indexes = [i for i, item in enumerate(items) if item["kind"] == "expr"]
    for index in sorted(rng.sample(expr_indexes, min(feedback, len(expr_indexes)))):
        node_id = items[index]["id"]
        a, b = _earlier(rng, index), _earlier(rng, index)
        items[index] = {
            "id": node_id,
            "kind": "expr",
            "expr": f"MAX(0, SHIFT({node_id}, 1) * 0.8 + {a} - {b})",
        }
    names = [item["id"] for item in items]
    topology: list[dict[str, Any]] = []
    for q in range(queues):
        semantics = {
            "arrivals": rng.choice(names),
            "served": rng.choice(names),
            "capacity": rng.choice(names),
        }
        tnode: dict[str, Any] = {
            "id": f"Queue{q:03d}",
            "kind": rng.choice(("serviceWithBuffer", "queue", "dlq")),
            "semantics": semantics,
            "initialCondition": {"queueDepth": rng.randint(0, 20)},
        }
        if q % 3 == 0:
            tnode["dispatchSchedule"] = {
                "kind": "time-based",
                "periodBins": rng.randint(2, 12),
                "phaseOffset": rng.randint(0, 1),
                "capacitySeries": rng.choice(names[:2]),  # consts: ordered alike everywhere
            }
        if q % 5 == 0:
            tnode["wipLimit"] = rng.randint(50, 500)
        topology.append(tnode)
    source["topology"] = {"nodes": topology, "edges": [], "constraints": []}
    return source


def stateful_model(nodes: int, bins: int, seed: int = 0, **kwargs: Any) -> Model:
    """:func:`stateful_model_source`, validated."""
    return parse_model(stateful_model_source(nodes, bins, seed, **kwargs))
