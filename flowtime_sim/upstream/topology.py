"""A FlowTime-Sim template's ``topology``, as FlowTime-Sim's synthesizers and model builder
write it (flowtime-upstream.md §5.4, §5.7).

- Topology nodes keep ``id``, ``kind``, ``nodeRole``, ``group``, ``ui``, ``constraints``,
  ``dispatchSchedule``, ``semantics`` and ``initialCondition`` (only with a queue depth);
  semantics keep the fields the builder reads (``external_demand`` written ``externalDemand``).
- A queue-like node (``serviceWithBuffer``, ``queue``, ``dlq``) whose ``queueDepth`` is empty,
  ``self`` or no node gets an explicit queue series name: the name it asked for, else
  ``<snake(id)>_queue``, suffixed ``_1``, ``_2`` … while taken. A ``serviceWithBuffer`` has a
  ``parallelism`` (1 unless given).
- A ``sink`` without ``served`` is served its arrivals, or with ``errors`` a hidden node
  ``<snake(id)>_served = MAX(0, arrivals - errors)``.
- Edges carry ``from``/``to`` (``Node:port``, FlowTime-Sim's and the C# engine's spelling) and
  ``source``/``target`` (plain node ids, the Rust engine's), and a ``weight`` (1 by default).
"""

from __future__ import annotations

from typing import Any

from flowtime_sim.upstream.problems import TemplateProblem, unique

QUEUE_KINDS = ("servicewithbuffer", "queue", "dlq")
#: semantics fields the builder keeps, in its order; ``external_demand`` is written camelCase
_SEMANTICS = (
    "arrivals",
    "served",
    "errors",
    "capacity",
    "parallelism",
    "attempts",
    "failures",
    "retryEcho",
    "retryKernel",
    "externalDemand",
    "processingTimeMsSum",
    "servedCount",
    "aliases",
    "queueDepth",
)
#: semantics fields naming a series (each becomes an output)
SERIES_FIELDS = (
    "arrivals",
    "served",
    "errors",
    "attempts",
    "failures",
    "retryEcho",
    "queueDepth",
    "capacity",
    "externalDemand",
    "processingTimeMsSum",
    "servedCount",
)
_TNODE_KEYS = (
    "id",
    "kind",
    "nodeRole",
    "group",
    "ui",
    "constraints",
    "dispatchSchedule",
    "semantics",
    "initialCondition",
)
_EDGE_KEYS = (
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


def snake(name: str) -> str:
    """FlowTime-Sim's snake case: ``HubQueue`` → ``hub_queue``, ``DLQ`` → ``d_l_q``."""
    out: list[str] = []
    for i, ch in enumerate(name):
        if ch.isspace():
            continue
        if ch.isupper():
            if i > 0 and out and out[-1] != "_":
                out.append("_")
            out.append(ch.lower())
        elif ch.isalnum():
            out.append(ch)
        else:
            out.append("_")
    text = "".join(out).strip("_")
    return text or name


def convert_topology(
    raw: Any, node_ids: set[str], extra: list[dict[str, Any]]
) -> dict[str, Any] | None:
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise TemplateProblem("topology must be {nodes, edges, constraints}")
    taken = set(node_ids)
    topo_nodes: list[dict[str, Any]] = []
    for index, item in enumerate(raw.get("nodes") or []):
        topo_nodes.append(_topology_node(item, index, node_ids, taken, extra))
    ids = unique([n["id"] for n in topo_nodes], "topology node")
    edges = [_edge(e, i, set(ids)) for i, e in enumerate(raw.get("edges") or [])]
    constraints = []
    for i, c in enumerate(raw.get("constraints") or []):
        if not (isinstance(c, dict) and c.get("id") and isinstance(c.get("semantics"), dict)):
            raise TemplateProblem(f"topology.constraints[{i}] needs an id and semantics")
        sem = {
            k: c["semantics"][k]
            for k in ("arrivals", "served", "errors", "latencyMinutes")
            if c["semantics"].get(k) not in (None, "")
        }
        constraints.append({"id": c["id"], "semantics": sem})
    topology: dict[str, Any] = {"nodes": topo_nodes}
    if edges:
        topology["edges"] = edges
    if constraints:
        topology["constraints"] = constraints
    return topology


def _topology_node(
    raw: Any, index: int, node_ids: set[str], taken: set[str], extra: list[dict[str, Any]]
) -> dict[str, Any]:
    if not (isinstance(raw, dict) and isinstance(raw.get("id"), str) and raw["id"]):
        raise TemplateProblem(f"topology.nodes[{index}] needs an id")
    tid: str = raw["id"]
    kind = str(raw.get("kind") or "").strip()
    if not kind:
        raise TemplateProblem(f"topology node {tid!r} needs a kind")
    given = raw.get("semantics")
    if not isinstance(given, dict):
        raise TemplateProblem(f"topology node {tid!r} needs semantics")
    given = dict(given)
    if "external_demand" in given:
        given.setdefault("externalDemand", given.pop("external_demand"))
    sem = {k: given[k] for k in _SEMANTICS if given.get(k) not in (None, "")}
    node = {k: raw[k] for k in _TNODE_KEYS if raw.get(k) not in (None, "")}
    node["kind"] = kind
    if kind.lower() in QUEUE_KINDS:
        _queue_depth(tid, sem, node_ids, taken)
        if kind == "serviceWithBuffer":
            sem.setdefault("parallelism", 1)
    elif kind.lower() == "sink":
        _sink(tid, sem, taken, extra)
    node["semantics"] = {k: sem[k] for k in _SEMANTICS if k in sem}
    if "initialCondition" in node and "queueDepth" not in node["semantics"]:
        del node["initialCondition"]
    return node


def _queue_depth(tid: str, sem: dict[str, Any], node_ids: set[str], taken: set[str]) -> None:
    if not sem.get("arrivals"):
        raise TemplateProblem(f"topology node {tid!r}: a queue needs semantics.arrivals")
    if not (sem.get("served") or sem.get("capacity")):
        raise TemplateProblem(f"topology node {tid!r}: a queue needs semantics.served or capacity")
    wanted = str(sem.get("queueDepth") or "").strip()
    lower = {n.lower() for n in node_ids}
    if wanted and wanted.lower() != "self" and wanted.lower() in lower:
        return  # the queue series is a node of the template's own
    name = wanted if wanted and wanted.lower() != "self" else f"{snake(tid)}_queue"
    base, n = name, 0
    while name in taken:
        n += 1
        name = f"{base}_{n}"
    taken.add(name)
    sem["queueDepth"] = name


def _sink(tid: str, sem: dict[str, Any], taken: set[str], extra: list[dict[str, Any]]) -> None:
    arrivals = sem.get("arrivals")
    if not arrivals:
        raise TemplateProblem(f"topology node {tid!r}: a sink needs semantics.arrivals")
    if sem.get("served"):
        if not sem.get("errors") and sem["served"] != arrivals:
            raise TemplateProblem(
                f"topology node {tid!r}: a sink's served must equal its "
                "arrivals unless it has errors"
            )
        return
    if not sem.get("errors"):
        sem["served"] = arrivals
        return
    name = f"{snake(tid)}_served"
    taken.add(name)
    extra.append(
        {
            "id": name,
            "kind": "expr",
            "expr": f"MAX(0, {arrivals} - {sem['errors']})",
            "metadata": {"graph.hidden": "true"},
        }
    )
    sem["served"] = name


def _edge(raw: Any, index: int, topology_ids: set[str]) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise TemplateProblem(f"topology.edges[{index}] must be {{from, to}}")
    start = raw.get("from", raw.get("source"))
    end = raw.get("to", raw.get("target"))
    for label, end_point in (("from", start), ("to", end)):
        if not isinstance(end_point, str) or end_point.split(":")[0] not in topology_ids:
            raise TemplateProblem(
                f"topology.edges[{index}].{label} {end_point!r} is not a topology node"
            )
    assert isinstance(start, str) and isinstance(end, str)
    edge = {k: raw[k] for k in _EDGE_KEYS if raw.get(k) not in (None, "")}
    edge.update(
        {
            "from": start,
            "to": end,
            "source": start.split(":")[0],
            "target": end.split(":")[0],
            "weight": raw.get("weight", 1.0),
        }
    )
    return {k: edge[k] for k in _EDGE_KEYS if k in edge}
