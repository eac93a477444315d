"""Reading the stateful parts of a model (SPEC §5a): topology, routers, queue nodes, classes.

Field names are FlowTime's (camelCase). Every key FlowTime's model format defines is
accepted; keys it does not define are errors, as everywhere in a model. Fields FlowTime
defines but no engine evaluates (``nodeRole``, ``group``, ``ui``, ``slaMin``,
``maxAttempts``, edge ``measure`` ...) are checked for their type where it matters and
otherwise kept out of the typed model. Series references are checked later, by the plan
(:mod:`flowtime_sim.plan.references`), once every series' name is known.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from flowtime_sim.errors import ModelError
from flowtime_sim.model.parse import (
    _check_keys,
    _describe,
    _fail,
    _float,
    _is_int,
    _mapping,
)
from flowtime_sim.model.types import (
    TOPOLOGY_KINDS,
    Constraint,
    DispatchSchedule,
    QueueNode,
    RouterNode,
    RouterRoute,
    Semantics,
    Topology,
    TopologyEdge,
    TopologyNode,
)

_TOPOLOGY_KEYS: Final = ("nodes", "edges", "constraints")
_TNODE_KEYS: Final = (
    "id",
    "kind",
    "nodeRole",
    "group",
    "ui",
    "constraints",
    "semantics",
    "initialCondition",
    "dispatchSchedule",
    "wipLimit",
    "wipLimitSeries",
    "wipOverflow",
)
#: semantics keys naming a series, and the attribute of :class:`Semantics` holding each
_SERIES_KEYS: Final = {
    "arrivals": "arrivals",
    "served": "served",
    "errors": "errors",
    "capacity": "capacity",
    "queueDepth": "queue_depth",
    "processingTimeMsSum": "processing_time_ms_sum",
    "servedCount": "served_count",
    "failures": "failures",
    "retryEcho": "retry_echo",
}
_OTHER_SERIES_KEYS: Final = (
    "attempts",
    "exhaustedFailures",
    "retryBudgetRemaining",
    "externalDemand",
    "external_demand",
)
_SEMANTICS_KEYS: Final = (
    *_SERIES_KEYS,
    *_OTHER_SERIES_KEYS,
    "parallelism",
    "retryKernel",
    "slaMin",
    "maxAttempts",
    "backoffStrategy",
    "exhaustedPolicy",
    "aliases",
    "metadata",
)
_DISPATCH_KEYS: Final = ("kind", "periodBins", "phaseOffset", "capacitySeries")
_DISPATCH_KINDS: Final = ("time-based", "periodic")
_EDGE_KEYS: Final = (
    "id",
    "from",
    "to",
    "source",
    "target",
    "weight",
    "type",
    "measure",
    "multiplier",
    "lag",
)
_CONSTRAINT_KEYS: Final = ("id", "semantics")
_CONSTRAINT_SEMANTICS_KEYS: Final = ("arrivals", "served", "errors", "latencyMinutes")
_ROUTER_KEYS: Final = ("inputs", "routes")
_ROUTE_KEYS: Final = ("target", "weight", "classes")
_QUEUE_NODE_KEYS: Final = (
    "id",
    "kind",
    "metadata",
    "inflow",
    "outflow",
    "loss",
    "dispatchSchedule",
    "wipLimit",
    "wipLimitSeries",
    "wipOverflow",
)
_CLASS_KEYS: Final = ("id", "displayName", "description")
_TRAFFIC_KEYS: Final = ("arrivals",)
_ARRIVAL_KEYS: Final = ("nodeId", "classId", "pattern")
_PATTERN_KEYS: Final = ("kind", "ratePerBin", "rate")


def _name(raw: object, what: str, *, node: str | None, field: str, owner: str = "") -> str:
    """A non-empty string naming a series or node."""
    if not (isinstance(raw, str) and raw.strip()):
        raise ModelError(
            f"{owner}{what} must be a series name, got {_describe(raw)}", node=node, field=field
        )
    return raw.strip()


def _optional_name(
    item: Mapping[str, Any], key: str, *, node: str | None, field: str, owner: str
) -> str | None:
    raw = item.get(key)
    if raw is None or raw == "":
        return None
    return _name(raw, key, node=node, field=field, owner=owner)


def dispatch_schedule(raw: object, *, node: str, field: str, owner: str) -> DispatchSchedule:
    """``{kind, periodBins, phaseOffset, capacitySeries}``; the phase normalised mod period."""
    example = "{periodBins: 4, phaseOffset: 0, capacitySeries: cap}"
    schedule = _mapping(raw, "dispatchSchedule", example, field=field, node=None)
    for key in schedule:
        if key not in _DISPATCH_KEYS:
            raise ModelError(
                f"{owner}unknown key {key!r} in dispatchSchedule; allowed keys: "
                f"{', '.join(_DISPATCH_KEYS)}",
                node=node,
                field=f"{field}.{key}",
            )
    kind = schedule.get("kind")
    if kind not in (None, "", *_DISPATCH_KINDS):
        raise ModelError(
            f"{owner}dispatchSchedule.kind must be time-based or periodic, got {_describe(kind)}",
            node=node,
            field=f"{field}.kind",
        )
    period: Any = schedule.get("periodBins")
    if not (_is_int(period) and period > 0):
        raise ModelError(
            f"{owner}dispatchSchedule.periodBins must be a whole number of bins greater than 0, "
            f"got {_describe(period)}",
            node=node,
            field=f"{field}.periodBins",
        )
    phase = schedule.get("phaseOffset", 0)
    if phase is None:
        phase = 0
    if not _is_int(phase):
        raise ModelError(
            f"{owner}dispatchSchedule.phaseOffset must be a whole number of bins, "
            f"got {_describe(phase)}",
            node=node,
            field=f"{field}.phaseOffset",
        )
    capacity = _optional_name(
        schedule, "capacitySeries", node=node, field=f"{field}.capacitySeries", owner=owner
    )
    return DispatchSchedule(
        period=period,
        phase=phase % period,
        capacity_series=capacity,
        kind=str(kind or "time-based"),
    )


def _wip(
    item: Mapping[str, Any], *, node: str, where: str, owner: str
) -> tuple[float | None, str | None, str | None]:
    limit = item.get("wipLimit")
    value: float | None = None
    if limit is not None:
        value = _float(limit)
        if value is None:
            raise ModelError(
                f"{owner}wipLimit must be a finite number, got {_describe(limit)}",
                node=node,
                field=f"{where}.wipLimit",
            )
    series = _optional_name(
        item, "wipLimitSeries", node=node, field=f"{where}.wipLimitSeries", owner=owner
    )
    overflow = _optional_name(
        item, "wipOverflow", node=node, field=f"{where}.wipOverflow", owner=owner
    )
    if overflow is not None and value is None and series is None:
        raise ModelError(
            f"{owner}wipOverflow '{overflow}' needs a WIP limit; give wipLimit or wipLimitSeries",
            node=node,
            field=f"{where}.wipOverflow",
        )
    return value, series, overflow


def _metadata(raw: object, *, node: str | None, field: str, owner: str) -> None:
    if raw is None:
        return
    mapping = _mapping(raw, "metadata", "{label: text}", field=field, node=None)
    for key, value in mapping.items():
        if not isinstance(key, str) or not isinstance(value, (str, int, float, bool)):
            raise ModelError(
                f"{owner}metadata must map names to plain values, got {_describe(value)} "
                f"for {key!r}",
                node=node,
                field=f"{field}.{key}",
            )


# ---------------------------------------------------------------------------------------------
# Nodes under ``nodes:``


def router_node(item: Mapping[str, Any], node_id: str, where: str) -> RouterNode:
    """``router: {inputs: {queue}, routes}`` or ``inputs``/``routes`` on the node itself."""
    owner = f"node '{node_id}': "
    _check_keys(
        item,
        ("id", "kind", "metadata", "router", "inputs", "routes"),
        "for a router node",
        field_prefix=f"{where}.",
        node=node_id,
    )
    _metadata(item.get("metadata"), node=node_id, field=f"{where}.metadata", owner=owner)
    body: Mapping[str, Any] = item
    path = where
    if "router" in item:
        if "inputs" in item or "routes" in item:
            raise _fail(
                "give inputs and routes either under router: or on the node, not both",
                node=node_id,
                field=f"{where}.router",
            )
        example = "{inputs: {queue: demand}, routes: [{target: a, weight: 1}]}"
        body = _mapping(item["router"], "router", example, field=f"{where}.router", node=node_id)
        path = f"{where}.router"
        _check_keys(body, _ROUTER_KEYS, "in router", field_prefix=f"{path}.", node=node_id)
    inputs = body.get("inputs")
    if inputs is None:
        raise _fail(
            "inputs.queue is missing; name the series the router splits, e.g. "
            "'inputs: {queue: demand}'",
            node=node_id,
            field=f"{path}.inputs",
        )
    inputs = _mapping(inputs, "inputs", "{queue: demand}", field=f"{path}.inputs", node=node_id)
    _check_keys(inputs, ("queue",), "in inputs", field_prefix=f"{path}.inputs.", node=node_id)
    source = _name(
        inputs.get("queue"), "inputs.queue", node=node_id, field=f"{path}.inputs.queue", owner=owner
    )
    raw_routes = body.get("routes")
    if not isinstance(raw_routes, (list, tuple)) or not raw_routes:
        raise _fail(
            f"routes must be a non-empty list like [{{target: a, weight: 1}}], got "
            f"{_describe(raw_routes)}; a router without routes sends its input nowhere",
            node=node_id,
            field=f"{path}.routes",
        )
    routes: list[RouterRoute] = []
    total = 0.0
    for index, raw in enumerate(raw_routes):
        at = f"{path}.routes[{index}]"
        route = _mapping(raw, f"routes[{index}]", "{target: a, weight: 1}", field=at, node=node_id)
        _check_keys(route, _ROUTE_KEYS, f"in routes[{index}]", field_prefix=f"{at}.", node=node_id)
        if route.get("classes"):
            raise _fail(
                f"routes[{index}].classes: class routes are not supported yet; route by weight",
                node=node_id,
                field=f"{at}.classes",
            )
        target = _name(
            route.get("target"),
            f"routes[{index}].target",
            node=node_id,
            field=f"{at}.target",
            owner=owner,
        )
        if target == node_id:
            raise _fail(
                f"routes[{index}].target '{target}' is the router itself; name a new series",
                node=node_id,
                field=f"{at}.target",
            )
        weight = _float(route.get("weight", 1.0))
        if weight is None or weight < 0:
            raise _fail(
                f"routes[{index}].weight must be a finite number >= 0, got "
                f"{_describe(route.get('weight'))}",
                node=node_id,
                field=f"{at}.weight",
            )
        total += weight
        routes.append(RouterRoute(target=target, weight=weight))
    if total <= 0:
        raise _fail(
            "the route weights add up to 0; give at least one route a positive weight",
            node=node_id,
            field=f"{path}.routes",
        )
    return RouterNode(id=node_id, source=source, routes=tuple(routes))


def queue_node(item: Mapping[str, Any], node_id: str, where: str) -> QueueNode:
    """``kind: serviceWithBuffer`` under ``nodes:``: ``inflow``, ``outflow``, ``loss``..."""
    owner = f"node '{node_id}': "
    _check_keys(
        item,
        _QUEUE_NODE_KEYS,
        "for a serviceWithBuffer node",
        field_prefix=f"{where}.",
        node=node_id,
    )
    _metadata(item.get("metadata"), node=node_id, field=f"{where}.metadata", owner=owner)
    for key in ("inflow", "outflow"):
        if item.get(key) in (None, ""):
            raise _fail(
                f"{key} is missing; a serviceWithBuffer node needs its {key} series",
                node=node_id,
                field=f"{where}.{key}",
            )
    schedule = None
    if item.get("dispatchSchedule") is not None:
        schedule = dispatch_schedule(
            item["dispatchSchedule"], node=node_id, field=f"{where}.dispatchSchedule", owner=owner
        )
    limit, limit_series, overflow = _wip(item, node=node_id, where=where, owner=owner)
    return QueueNode(
        id=node_id,
        inflow=_name(item["inflow"], "inflow", node=node_id, field=f"{where}.inflow", owner=owner),
        outflow=_name(
            item["outflow"], "outflow", node=node_id, field=f"{where}.outflow", owner=owner
        ),
        loss=_optional_name(item, "loss", node=node_id, field=f"{where}.loss", owner=owner),
        dispatch=schedule,
        wip_limit=limit,
        wip_limit_series=limit_series,
        wip_overflow=overflow,
    )


def node_metadata(item: Mapping[str, Any], node_id: str, where: str) -> None:
    _metadata(
        item.get("metadata"), node=node_id, field=f"{where}.metadata", owner=f"node '{node_id}': "
    )


# ---------------------------------------------------------------------------------------------
# topology


def parse_topology(raw: object) -> Topology:
    example = "{nodes: [...], edges: [...], constraints: [...]}"
    topology = _mapping(raw, "topology", example, field="topology")
    _check_keys(topology, _TOPOLOGY_KEYS, "in topology", field_prefix="topology.")
    raw_nodes = _list(topology.get("nodes"), "topology.nodes")
    nodes: list[TopologyNode] = []
    seen: dict[str, int] = {}
    for index, item in enumerate(raw_nodes):
        where = f"topology.nodes[{index}]"
        node = _topology_node(item, where)
        if node.id in seen:
            raise ModelError(
                f"topology node '{node.id}' is defined twice (topology.nodes[{seen[node.id]}] "
                f"and {where}); topology node ids must be unique",
                node=node.id,
                field=f"{where}.id",
            )
        seen[node.id] = index
        nodes.append(node)
    edges = tuple(
        _edge(item, f"topology.edges[{i}]")
        for i, item in enumerate(_list(topology.get("edges"), "topology.edges"))
    )
    constraints: list[Constraint] = []
    ids: dict[str, int] = {}
    for index, item in enumerate(_list(topology.get("constraints"), "topology.constraints")):
        constraint = _constraint(item, f"topology.constraints[{index}]")
        if constraint.id in ids:
            raise _fail(
                f"constraint '{constraint.id}' is defined twice (topology.constraints"
                f"[{ids[constraint.id]}] and topology.constraints[{index}])",
                field=f"topology.constraints[{index}].id",
            )
        ids[constraint.id] = index
        constraints.append(constraint)
    return Topology(nodes=tuple(nodes), edges=edges, constraints=tuple(constraints))


def _list(raw: object, field: str) -> list[Any]:
    if raw is None:
        return []
    if not isinstance(raw, (list, tuple)):
        raise _fail(f"{field} must be a list, got {_describe(raw)}", field=field)
    return list(raw)


def _topology_node(raw: object, where: str) -> TopologyNode:
    item = _mapping(raw, where, "{id: Queue, kind: queue, semantics: {...}}", field=where)
    node_id = item.get("id")
    if not (isinstance(node_id, str) and node_id.strip()):
        raise _fail(
            f"{where}.id must be a non-empty string, got {_describe(node_id)}", field=f"{where}.id"
        )
    owner = f"topology node '{node_id}': "
    for key in item:
        if key not in _TNODE_KEYS:
            raise ModelError(
                f"{owner}unknown key {key!r}; allowed keys: {', '.join(_TNODE_KEYS)}",
                node=node_id,
                field=f"{where}.{key}",
            )
    raw_kind = item.get("kind")
    kind = "serviceWithBuffer"
    if raw_kind not in (None, ""):
        by_lower = {k.lower(): k for k in TOPOLOGY_KINDS}
        if not (isinstance(raw_kind, str) and raw_kind.strip().lower() in by_lower):
            raise ModelError(
                f"{owner}unknown kind {_describe(raw_kind)}; use one of "
                f"{', '.join(TOPOLOGY_KINDS)}",
                node=node_id,
                field=f"{where}.kind",
            )
        kind = by_lower[raw_kind.strip().lower()]
    semantics = _semantics(item.get("semantics"), node_id, f"{where}.semantics", owner)
    initial = 0.0
    if item.get("initialCondition") is not None:
        condition = _mapping(
            item["initialCondition"],
            "initialCondition",
            "{queueDepth: 5}",
            field=f"{where}.initialCondition",
            node=None,
        )
        for key in condition:
            if key != "queueDepth":
                raise ModelError(
                    f"{owner}unknown key {key!r} in initialCondition; allowed keys: queueDepth",
                    node=node_id,
                    field=f"{where}.initialCondition.{key}",
                )
        depth = condition.get("queueDepth", 0)
        value = _float(depth)
        if value is None or value < 0:
            raise ModelError(
                f"{owner}initialCondition.queueDepth must be a finite number >= 0, got "
                f"{_describe(depth)}",
                node=node_id,
                field=f"{where}.initialCondition.queueDepth",
            )
        initial = value
    schedule = None
    if item.get("dispatchSchedule") is not None:
        schedule = dispatch_schedule(
            item["dispatchSchedule"], node=node_id, field=f"{where}.dispatchSchedule", owner=owner
        )
    limit, limit_series, overflow = _wip(item, node=node_id, where=where, owner=owner)
    raw_constraints = item.get("constraints") or []
    if not isinstance(raw_constraints, (list, tuple)) or not all(
        isinstance(c, str) and c for c in raw_constraints
    ):
        raise ModelError(
            f"{owner}constraints must be a list of constraint ids, got "
            f"{_describe(raw_constraints)}",
            node=node_id,
            field=f"{where}.constraints",
        )
    return TopologyNode(
        id=node_id,
        kind=kind,
        semantics=semantics,
        initial_queue=initial,
        dispatch=schedule,
        wip_limit=limit,
        wip_limit_series=limit_series,
        wip_overflow=overflow,
        constraints=tuple(raw_constraints),
    )


def _semantics(raw: object, node: str, field: str, owner: str) -> Semantics:
    if raw is None:
        return Semantics()
    sem = _mapping(raw, "semantics", "{arrivals: demand, served: served}", field=field)
    for key in sem:
        if key not in _SEMANTICS_KEYS:
            raise ModelError(
                f"{owner}unknown semantics key {key!r}; allowed keys: {', '.join(_SEMANTICS_KEYS)}",
                node=node,
                field=f"{field}.{key}",
            )
    values: dict[str, Any] = {}
    for key, attr in _SERIES_KEYS.items():
        values[attr] = _optional_name(
            sem, key, node=node, field=f"{field}.{key}", owner=f"{owner}semantics."
        )
    if values["queue_depth"] is not None and values["queue_depth"].lower() == "self":
        values["queue_depth"] = None
    others = []
    for key in _OTHER_SERIES_KEYS:
        name = _optional_name(
            sem, key, node=node, field=f"{field}.{key}", owner=f"{owner}semantics."
        )
        if name is not None:
            others.append((key, name))
    parallelism = sem.get("parallelism")
    if parallelism is not None and not isinstance(parallelism, str):
        number = _float(parallelism)
        if number is None:
            raise ModelError(
                f"{owner}semantics.parallelism must be a number or a series name, got "
                f"{_describe(parallelism)}",
                node=node,
                field=f"{field}.parallelism",
            )
        parallelism = number
    kernel: tuple[float, ...] = ()
    if sem.get("retryKernel") is not None:
        raw_kernel = sem["retryKernel"]
        if not isinstance(raw_kernel, (list, tuple)) or not raw_kernel:
            raise ModelError(
                f"{owner}semantics.retryKernel must be a non-empty list of numbers, got "
                f"{_describe(raw_kernel)}",
                node=node,
                field=f"{field}.retryKernel",
            )
        for index, weight in enumerate(raw_kernel):
            if _float(weight) is None:
                raise ModelError(
                    f"{owner}semantics.retryKernel[{index}] must be a finite number, got "
                    f"{_describe(weight)}",
                    node=node,
                    field=f"{field}.retryKernel[{index}]",
                )
        kernel = tuple(float(w) for w in raw_kernel)
    return Semantics(parallelism=parallelism, retry_kernel=kernel, others=tuple(others), **values)


def _endpoint(raw: object, field: str) -> str:
    """The node part of ``Node`` or ``Node:port``. Edges change no series, so an endpoint
    outside the topology (a downstream system, say) is accepted, as FlowTime's engine does."""
    if not (isinstance(raw, str) and raw.strip()):
        raise _fail(f"{field} must name a node, got {_describe(raw)}", field=field)
    return raw.split(":", 1)[0].strip()


def _edge(raw: object, where: str) -> TopologyEdge:
    item = _mapping(raw, where, "{from: A, to: B}", field=where)
    _check_keys(item, _EDGE_KEYS, f"in {where}", field_prefix=f"{where}.")
    source_key = "from" if "from" in item else "source"
    target_key = "to" if "to" in item else "target"
    source = _endpoint(item.get(source_key), f"{where}.{source_key}")
    target = _endpoint(item.get(target_key), f"{where}.{target_key}")
    weight = _float(item.get("weight", 1.0))
    if weight is None:
        raise _fail(
            f"{where}.weight must be a finite number, got {_describe(item.get('weight'))}",
            field=f"{where}.weight",
        )
    return TopologyEdge(source=source, target=target, weight=weight)


def _constraint(raw: object, where: str) -> Constraint:
    item = _mapping(raw, where, "{id: shared, semantics: {served: cap}}", field=where)
    _check_keys(item, _CONSTRAINT_KEYS, f"in {where}", field_prefix=f"{where}.")
    cid = item.get("id")
    if not (isinstance(cid, str) and cid.strip()):
        raise _fail(
            f"{where}.id must be a non-empty string, got {_describe(cid)}", field=f"{where}.id"
        )
    sem = _mapping(
        item.get("semantics"),
        f"constraint '{cid}': semantics",
        "{served: cap}",
        field=f"{where}.semantics",
    )
    _check_keys(
        sem,
        _CONSTRAINT_SEMANTICS_KEYS,
        f"in constraint '{cid}' semantics",
        field_prefix=f"{where}.semantics.",
    )
    if sem.get("served") in (None, ""):
        raise _fail(
            f"constraint '{cid}': semantics.served is missing; name the series of the shared "
            "capacity",
            field=f"{where}.semantics.served",
        )
    capacity = _name(
        sem["served"],
        "semantics.served",
        node=None,
        field=f"{where}.semantics.served",
        owner=f"constraint '{cid}': ",
    )
    return Constraint(id=cid, capacity=capacity)


# ---------------------------------------------------------------------------------------------
# classes and traffic: accepted and checked, not evaluated yet


def check_classes(raw: object) -> tuple[str, ...]:
    ids: list[str] = []
    for index, item in enumerate(_list(raw, "classes")):
        where = f"classes[{index}]"
        entry = _mapping(item, where, "{id: Retail}", field=where)
        _check_keys(entry, _CLASS_KEYS, f"in {where}", field_prefix=f"{where}.")
        cid = entry.get("id")
        if not (isinstance(cid, str) and cid.strip()):
            raise _fail(
                f"{where}.id must be a non-empty string, got {_describe(cid)}", field=f"{where}.id"
            )
        if cid in ids:
            raise _fail(
                f"{where}.id '{cid}' is listed twice; class ids must be unique", field=f"{where}.id"
            )
        ids.append(cid)
    return tuple(ids)


def check_traffic(raw: object, classes: tuple[str, ...]) -> None:
    if raw is None:
        return
    traffic = _mapping(raw, "traffic", "{arrivals: [...]}", field="traffic")
    _check_keys(traffic, _TRAFFIC_KEYS, "in traffic", field_prefix="traffic.")
    for index, item in enumerate(_list(traffic.get("arrivals"), "traffic.arrivals")):
        where = f"traffic.arrivals[{index}]"
        entry = _mapping(
            item, where, "{nodeId: demand, classId: Retail, pattern: {...}}", field=where
        )
        _check_keys(entry, _ARRIVAL_KEYS, f"in {where}", field_prefix=f"{where}.")
        class_id = entry.get("classId")
        if classes and class_id not in (None, "", "*") and class_id not in classes:
            raise _fail(
                f"{where}.classId '{class_id}' is not one of the classes ({', '.join(classes)})",
                field=f"{where}.classId",
            )
        pattern = entry.get("pattern")
        if pattern is not None:
            pattern = _mapping(
                pattern,
                f"{where}.pattern",
                "{kind: constant, ratePerBin: 5}",
                field=f"{where}.pattern",
            )
            _check_keys(
                pattern, _PATTERN_KEYS, f"in {where}.pattern", field_prefix=f"{where}.pattern."
            )
