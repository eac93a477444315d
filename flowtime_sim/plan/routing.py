"""Routers: one series split over several targets by weight.

Reference: ``reference/flowtime-upstream.md`` §2.6 (Rust weight routes) and §6.6 (C#). With
weights ``w_i`` and ``W = Σ w_i`` (which must be positive)::

    target_i[t] += source[t] * (w_i / W)          routes in the order written

A target named by several routes receives the sum, added in route order. Each target is a
series of its own; the router node itself has no series. Class routes (``classes:``) are not
supported yet.
"""

from __future__ import annotations

from flowtime_sim.model.types import RouterNode
from flowtime_sim.plan.steps import RouteStep


def route_step(router: RouterNode) -> RouteStep:
    total = 0.0
    for route in router.routes:
        total += route.weight
    shares = tuple((route.target, route.weight / total) for route in router.routes)
    return RouteStep(router=router.id, source=router.source, shares=shares)
