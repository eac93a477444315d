"""Routers: one series split over several targets, by class, then by weight.

Reference: ``reference/flowtime-upstream.md`` §2.6 (Rust weight routes) and §6.6 (C#; SPEC §5a
follows C# for class routes). Class routes come first, in route order: a route listing classes
``C`` takes those classes' part of the source, ``source@c`` for ``c`` in ``C`` (see
:mod:`flowtime_sim.engine.classes`; 0 for a class the source does not carry). What is left,
``rest = source − Σ class-routed parts``, is split over the weight routes with weights ``w_i``
and ``W = Σ w_i`` (positive whenever there is a weight route)::

    target_i[t] += rest[t] * (w_i / W)            routes in the order written

Without class routes ``rest`` is the source itself. A target named by several routes
receives the sum, added in route order (class routes first). Each target is a series of its
own; the router node itself has no series.
"""

from __future__ import annotations

from flowtime_sim.model.types import RouterNode
from flowtime_sim.plan.steps import RouteStep


def route_step(router: RouterNode) -> RouteStep:
    total = 0.0
    for route in router.routes:
        if not route.classes:
            total += route.weight
    shares = tuple(
        (route.target, route.weight / total) for route in router.routes if not route.classes
    )
    by_class = tuple((route.target, route.classes) for route in router.routes if route.classes)
    return RouteStep(router=router.id, source=router.source, shares=shares, class_routes=by_class)
