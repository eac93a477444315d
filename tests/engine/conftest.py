"""Helpers for the engine tests: models written as compactly as the tests need them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from flowtime_sim.model import Model, parse_model


def build_model(
    nodes: dict[str, Any],
    *,
    bins: int,
    start: str | None = None,
    outputs: list[str] | None = None,
    seed: int | None = None,
) -> Model:
    """A validated model from ``{id: spec}``: a list is a const node, a string an expr node,
    a ``(values, probabilities)`` tuple a pmf node."""
    items: list[dict[str, Any]] = []
    for node_id, spec in nodes.items():
        if isinstance(spec, str):
            items.append({"id": node_id, "kind": "expr", "expr": spec})
        elif isinstance(spec, tuple):
            values, probabilities = spec
            pmf = {"values": list(values), "probabilities": list(probabilities)}
            items.append({"id": node_id, "kind": "pmf", "pmf": pmf})
        else:
            items.append({"id": node_id, "kind": "const", "values": list(spec)})
    grid: dict[str, Any] = {"bins": bins, "binSize": 1, "binUnit": "hours"}
    if start is not None:
        grid["start"] = start
    data: dict[str, Any] = {"schemaVersion": 1, "grid": grid, "nodes": items}
    if outputs is not None:
        data["outputs"] = [{"series": name} for name in outputs]
    if seed is not None:
        data["rng"] = {"kind": "pcg32", "seed": seed}
    return parse_model(data)


@pytest.fixture
def build() -> Callable[..., Model]:
    return build_model
