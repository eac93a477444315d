"""FlowTime-Sim's current template format, turned into a model as FlowTime-Sim's model builder
does (flowtime-upstream.md §5.4–§5.9), with the template checks of its validator.

What the model keeps, drops and adds:

- ``grid`` with ``start`` from ``grid.start``, else ``window.start`` (as ISO-8601 UTC text);
- dropped: ``generator``, ``mode``, ``metadata``, ``window``, ``parameters``; nodes'
  ``source``, ``dependencies``, ``profile``; semantics fields the builder does not read
  (``slaMin``, ``maxAttempts``, ...); outputs' ``id``, ``description``, ``filename``;
- ``rng`` is kept (FlowTime's engines ignore it; flowtime-sim's sample mode reads its seed);
- a profiled ``pmf`` becomes a ``const`` series (:mod:`flowtime_sim.upstream.profiles`); a
  node with a ``file:`` ``source`` becomes a ``const`` series read from that file
  (:mod:`flowtime_sim.upstream.telemetry`);
- every queue-like topology node (``serviceWithBuffer``, ``queue``, ``dlq``) whose
  ``queueDepth`` is empty, ``self`` or no node gets an explicit queue series name —
  ``<snake(id)>_queue`` (``_1``, ``_2`` … while taken) or the name it asked for — in its
  ``semantics.queueDepth``; the queue itself is left to the topology, so FlowTime's Rust
  engine (which refuses queue nodes under ``nodes:``) and its C# engine both synthesize it;
- a ``sink`` without ``served`` gets ``served`` = its arrivals, or with ``errors`` a hidden
  node ``<snake(id)>_served = MAX(0, arrivals - errors)``;
- a route target's placeholder node (``expr: "0"``, which FlowTime-Sim's router overrides) is
  dropped: the router writes the target series;
- edges carry both spellings: ``from``/``to`` (``Node:port``) and ``source``/``target``;
  routers both shapes: ``inputs``/``routes`` on the node and ``router: {inputs, routes}``;
- every series a topology node maps is appended to ``outputs`` unless listed already, and a
  series listed twice is kept once (FlowTime names its files by series, not by ``as``);
- ``provenance``: the template's generator (or ``flowtime-sim``), ``templateId``,
  ``templateVersion``, ``mode``, ``modelId`` (SHA-256 of the textually substituted template)
  and the parameters. FlowTime's ``generatedAt`` timestamp is left out so that the same
  template and parameters always give the same model (and model hash).
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from flowtime_sim.upstream import profiles, telemetry
from flowtime_sim.upstream.placeholders import format_value
from flowtime_sim.upstream.problems import TemplateProblem, unique
from flowtime_sim.upstream.topology import SERIES_FIELDS, convert_topology

ROOT_KEYS = (
    "schemaVersion",
    "generator",
    "mode",
    "metadata",
    "window",
    "parameters",
    "grid",
    "classes",
    "traffic",
    "topology",
    "nodes",
    "outputs",
    "rng",
    "provenance",
)
NODE_KINDS = ("const", "pmf", "expr", "serviceWithBuffer", "router")


def is_current_format(document: Mapping[str, Any]) -> bool:
    """Today's templates have a ``window`` or a ``generator``; the 2025 ones neither."""
    return "window" in document or "generator" in document


def build_model(
    document: Mapping[str, Any],
    *,
    parameters: Mapping[str, Any],
    template_id: str,
    template_version: str,
    base: Path,
    substituted_text: str,
) -> dict[str, Any]:
    """Validate the (substituted) template ``document`` and build the model document."""
    unknown = [k for k in document if k not in ROOT_KEYS]
    if unknown:
        raise TemplateProblem(
            f"unknown key {unknown[0]!r} at the top level; allowed keys: {', '.join(ROOT_KEYS)}"
        )
    generator = document.get("generator", "flowtime-sim")
    if not (isinstance(generator, str) and generator.lower().startswith("flowtime-sim")):
        raise TemplateProblem(f"generator {generator!r} must start with 'flowtime-sim'")
    mode = document.get("mode") or "simulation"
    if mode not in ("simulation", "telemetry"):
        raise TemplateProblem(f"mode {mode!r} must be simulation or telemetry")
    window = _window(document.get("window"))
    grid = _grid(document.get("grid"), window)
    bins = grid["bins"]
    nodes = [_node(n, i, bins, base) for i, n in enumerate(_list(document, "nodes"))]
    if not nodes:
        raise TemplateProblem("nodes must list at least one node")
    ids = unique([n["id"] for n in nodes], "node")
    nodes = _without_route_placeholders(nodes)
    extra: list[dict[str, Any]] = []
    topology = convert_topology(document.get("topology"), set(ids), extra)
    nodes += extra
    outputs = _outputs(document.get("outputs"), topology)
    model: dict[str, Any] = {"schemaVersion": 1, "grid": grid}
    classes = _classes(document.get("classes"))
    if classes:
        model["classes"] = classes
    traffic = _traffic(document.get("traffic"), bool(classes))
    if traffic:
        model["traffic"] = traffic
    model["nodes"] = nodes
    model["outputs"] = outputs
    rng = document.get("rng")
    if rng is not None:
        if not (
            isinstance(rng, dict)
            and str(rng.get("kind", "pcg32")) == "pcg32"
            and rng.get("seed") is not None
        ):
            raise TemplateProblem("rng must be {kind: pcg32, seed: N}")
        model["rng"] = {"kind": "pcg32", "seed": rng["seed"]}
    if topology is not None:
        model["topology"] = topology
    model["provenance"] = _provenance(
        document.get("provenance"),
        template_id,
        template_version,
        mode,
        parameters,
        substituted_text,
    )
    return model


# -- window and grid ---------------------------------------------------------------------------


def _window(raw: Any) -> str:
    if not isinstance(raw, dict) or raw.get("start") in (None, ""):
        raise TemplateProblem(
            "window.start is required (an ISO-8601 UTC time such as 2025-01-01T00:00:00Z)"
        )
    if raw.get("timezone") != "UTC":
        raise TemplateProblem(f"window.timezone must be UTC, got {raw.get('timezone')!r}")
    return _utc_text(raw["start"], "window.start")


def _utc_text(raw: Any, field: str) -> str:
    if isinstance(raw, datetime):
        moment = raw
    elif isinstance(raw, date):
        moment = datetime(raw.year, raw.month, raw.day, tzinfo=UTC)
    else:
        try:
            moment = datetime.fromisoformat(str(raw).replace("Z", "+00:00"))
        except ValueError:
            raise TemplateProblem(f"{field} {raw!r} is not an ISO-8601 time") from None
    offset = moment.utcoffset()
    if offset is not None and offset.total_seconds() != 0:
        shown = raw.isoformat() if isinstance(raw, datetime) else raw
        raise TemplateProblem(f"{field} {shown!r} must be in UTC (offset 0 or Z)")
    return moment.replace(tzinfo=None).strftime("%Y-%m-%dT%H:%M:%SZ")


def _grid(raw: Any, window_start: str) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise TemplateProblem("grid must be {bins, binSize, binUnit}")
    extra = [k for k in raw if k not in ("bins", "binSize", "binUnit", "start")]
    if extra:
        raise TemplateProblem(
            f"unknown key {extra[0]!r} in grid; allowed keys: bins, binSize, binUnit, start"
        )
    for key in ("bins", "binSize"):
        value = raw.get(key)
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise TemplateProblem(
                f"grid.{key} must be a whole number greater than 0, got {value!r}"
            )
    unit = raw.get("binUnit")
    if not (isinstance(unit, str) and unit.strip()):
        raise TemplateProblem("grid.binUnit is required (minutes, hours or days)")
    start = raw.get("start")
    return {
        "bins": raw["bins"],
        "binSize": raw["binSize"],
        "binUnit": unit,
        "start": _utc_text(start, "grid.start") if start not in (None, "") else window_start,
    }


# -- nodes -------------------------------------------------------------------------------------


def _list(document: Mapping[str, Any], key: str) -> list[Any]:
    raw = document.get(key)
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise TemplateProblem(f"{key} must be a list")
    return raw


def _node(raw: Any, index: int, bins: int, base: Path) -> dict[str, Any]:
    if not isinstance(raw, dict) or not isinstance(raw.get("id"), str) or not raw["id"]:
        raise TemplateProblem(f"nodes[{index}] needs an id")
    node_id: str = raw["id"]
    kind = raw.get("kind")
    if kind not in NODE_KINDS:
        raise TemplateProblem(
            f"node {node_id!r}: kind {kind!r} must be one of {', '.join(NODE_KINDS)}"
        )
    where = f"node {node_id!r}"
    source = raw.get("source")
    if isinstance(source, str) and source.strip():
        if kind not in ("const", "pmf"):
            raise TemplateProblem(f"{where}: a telemetry source needs a const or pmf node")
        try:
            values = telemetry.read_series(telemetry.source_path(source.strip(), base), bins)
        except ValueError as exc:
            raise TemplateProblem(f"{where}: {exc}") from None
        return _with_metadata(
            {"id": node_id, "kind": "const", "values": values},
            raw.get("metadata"),
            {"origin.kind": "telemetry", "telemetry.source": source.strip()},
        )
    node: dict[str, Any] = {"id": node_id, "kind": kind}
    if kind == "const":
        if not isinstance(raw.get("values"), list) or not raw["values"]:
            raise TemplateProblem(f"{where}: a const node needs values or a source")
        if len(raw["values"]) != bins:
            raise TemplateProblem(
                f"{where}: values has {len(raw['values'])} entries but grid.bins is {bins}"
            )
        node["values"] = raw["values"]
    elif kind == "pmf":
        return _pmf(raw, node, where, bins)
    elif kind == "expr":
        node["expr"] = raw.get("expr")
        node.update(expr_text(raw))
        if not isinstance(node["expr"], str):
            raise TemplateProblem(f"{where}: an expr node needs expr text")
    elif kind == "serviceWithBuffer":
        for key in ("inflow", "outflow"):
            if not raw.get(key):
                raise TemplateProblem(f"{where}: a serviceWithBuffer node needs {key}")
        node.update(
            (k, raw[k])
            for k in ("inflow", "outflow", "loss", "dispatchSchedule")
            if raw.get(k) not in (None, "")
        )
    else:
        node.update(_router(raw, where))
    return _with_metadata(node, raw.get("metadata"), {})


def _without_route_placeholders(nodes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The nodes less the placeholders of route targets: FlowTime-Sim templates declare each
    route's target as a node (``expr: "0"``) whose values the router replaces; in the model
    the router writes the target series itself."""
    targets = {
        route["target"] for node in nodes if node["kind"] == "router" for route in node["routes"]
    }
    return [n for n in nodes if not (n["id"] in targets and n["kind"] in ("expr", "const"))]


def expr_text(node: Mapping[str, Any]) -> dict[str, Any]:
    """``{expr: text}`` when the node's ``expr`` is a number (``expr: "${capacity}"``
    substituted), written as FlowTime-Sim writes numbers; else nothing to change."""
    value = node.get("expr")
    if isinstance(value, int | float) and not isinstance(value, bool):
        return {"expr": format_value(value)}
    return {}


def _with_metadata(node: dict[str, Any], metadata: Any, added: Mapping[str, str]) -> dict[str, Any]:
    if metadata is not None and not isinstance(metadata, dict):
        raise TemplateProblem(f"node {node['id']!r}: metadata must map names to text")
    merged = {str(k): _text(v) for k, v in (metadata or {}).items()}
    merged.update(added)
    if merged:
        node["metadata"] = merged
    return node


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _pmf(raw: Mapping[str, Any], node: dict[str, Any], where: str, bins: int) -> dict[str, Any]:
    pmf = raw.get("pmf")
    values = pmf.get("values") if isinstance(pmf, dict) else None
    probs = pmf.get("probabilities") if isinstance(pmf, dict) else None
    if not (
        isinstance(values, list)
        and isinstance(probs, list)
        and values
        and len(values) == len(probs)
    ):
        raise TemplateProblem(f"{where}: pmf needs values and probabilities of the same length")
    if not all(_is_number(x) for x in values + probs):
        raise TemplateProblem(f"{where}: pmf values and probabilities must be numbers")
    if any(p < 0 for p in probs):
        raise TemplateProblem(f"{where}: pmf probabilities must not be negative")
    total = math.fsum(probs)
    if abs(total - 1) > 1e-10:
        raise TemplateProblem(f"{where}: pmf probabilities add up to {total!r}, not 1")
    profile = raw.get("profile")
    if profile is None:
        node["pmf"] = {"values": values, "probabilities": probs}
        return _with_metadata(node, raw.get("metadata"), {})
    if not isinstance(profile, dict):
        raise TemplateProblem(
            f"{where}: profile must be {{kind: builtin, name: ...}} or "
            "{kind: inline, weights: [...]}"
        )
    kind = profile.get("kind") or "builtin"
    added = {"origin.kind": "pmf", "profile.kind": str(kind)}
    try:
        if kind == "builtin":
            name = str(profile.get("name") or "")
            weights = profiles.builtin_weights(name, bins)
            added["profile.name"] = name
        elif kind == "inline":
            raw_weights = profile.get("weights")
            if not (isinstance(raw_weights, list) and all(_is_number(w) for w in raw_weights)):
                raise ValueError("inline profile needs a list of numeric weights")
            weights = profiles.inline_weights(raw_weights, bins)
        else:
            raise ValueError(f"profile kind {kind!r} must be builtin or inline")
    except ValueError as exc:
        raise TemplateProblem(f"{where}: {exc}") from None
    mu = profiles.expected_value(values, probs)
    added["pmf.expected"] = format(mu, ".17g")
    return _with_metadata(
        {"id": node["id"], "kind": "const", "values": [mu * w for w in weights]},
        raw.get("metadata"),
        added,
    )


def _is_number(x: Any) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x)


def _router(raw: Mapping[str, Any], where: str) -> dict[str, Any]:
    body = raw.get("router") if isinstance(raw.get("router"), dict) else raw
    assert isinstance(body, Mapping)
    inputs = body.get("inputs")
    if not (isinstance(inputs, dict) and isinstance(inputs.get("queue"), str) and inputs["queue"]):
        raise TemplateProblem(f"{where}: a router needs inputs.queue")
    routes = body.get("routes")
    if not (isinstance(routes, list) and routes):
        raise TemplateProblem(f"{where}: a router needs at least one route")
    kept = []
    for i, route in enumerate(routes):
        if not (
            isinstance(route, dict) and isinstance(route.get("target"), str) and route["target"]
        ):
            raise TemplateProblem(f"{where}: routes[{i}] needs a target")
        if not route.get("classes") and "weight" not in route:
            raise TemplateProblem(f"{where}: routes[{i}] needs classes or a weight")
        kept.append({k: route[k] for k in ("target", "classes", "weight") if k in route})
    shape = {"inputs": {"queue": inputs["queue"]}, "routes": kept}
    return {
        **shape,
        "router": {"inputs": {"queue": inputs["queue"]}, "routes": [dict(r) for r in kept]},
    }


# -- outputs, classes, traffic, provenance -----------------------------------------------------


def _outputs(raw: Any, topology: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    if not isinstance(raw, list) or not raw:
        raise TemplateProblem("outputs must list at least one series")
    outputs = []
    listed: set[str] = set()
    for i, item in enumerate(raw):
        if not (isinstance(item, dict) and isinstance(item.get("series"), str) and item["series"]):
            raise TemplateProblem(f"outputs[{i}] needs a series")
        if item["series"].lower() in listed:
            continue  # FlowTime names a series' file by its id: a second listing adds nothing
        listed.add(item["series"].lower())
        outputs.append({k: item[k] for k in ("series", "exclude", "as") if k in item})
    for node in (topology or {}).get("nodes", []):
        for key in SERIES_FIELDS:
            ref = node["semantics"].get(key)
            if isinstance(ref, str) and ref != "*" and ref.lower() not in listed:
                listed.add(ref.lower())
                outputs.append({"series": ref})
    return outputs


def _classes(raw: Any) -> list[dict[str, Any]]:
    classes = []
    for i, item in enumerate(raw or []):
        if not (isinstance(item, dict) and isinstance(item.get("id"), str) and item["id"]):
            raise TemplateProblem(f"classes[{i}] needs an id")
        classes.append({k: item[k] for k in ("id", "displayName", "description") if k in item})
    unique([c["id"] for c in classes], "class")
    return classes


def _traffic(raw: Any, has_classes: bool) -> dict[str, Any] | None:
    if raw is not None and not isinstance(raw, dict):
        raise TemplateProblem("traffic must be {arrivals: [...]}")
    arrivals = (raw or {}).get("arrivals")
    if not arrivals:
        return None
    kept = []
    for i, item in enumerate(arrivals):
        pattern = item.get("pattern") if isinstance(item, dict) else None
        if not (
            isinstance(item, dict)
            and item.get("nodeId")
            and isinstance(pattern, dict)
            and pattern.get("kind")
        ):
            raise TemplateProblem(f"traffic.arrivals[{i}] needs nodeId and pattern.kind")
        if has_classes and not item.get("classId"):
            raise TemplateProblem(f"traffic.arrivals[{i}] needs a classId")
        kept.append(
            {
                "nodeId": item["nodeId"],
                "classId": item.get("classId") or "*",
                "pattern": {k: pattern[k] for k in ("kind", "ratePerBin", "rate") if k in pattern},
            }
        )
    return {"arrivals": kept}


def _provenance(
    raw: Any,
    template_id: str,
    template_version: str,
    mode: str,
    parameters: Mapping[str, Any],
    substituted_text: str,
) -> dict[str, Any]:
    generator = raw.get("generator") if isinstance(raw, dict) else None
    provenance: dict[str, Any] = {
        "generator": generator or "flowtime-sim",
        "templateId": template_id,
        "templateVersion": template_version,
        "mode": mode,
        "modelId": hashlib.sha256(substituted_text.encode("utf-8")).hexdigest(),
    }
    if parameters:
        provenance["parameters"] = dict(parameters)
    return provenance
