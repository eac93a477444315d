"""Reading and validating models (SPEC §5).

:func:`parse_model` is the one place where model input becomes a :class:`Model`: YAML text
(or bytes), or a mapping that was already loaded. It checks everything §5 asks for and stops
at the first problem with a :class:`ModelError` whose message names the node (when there is
one), the offending value and what to do. Decisions where §5 is silent:

- Unknown keys are errors anywhere (typos get caught), and so are duplicate keys in the YAML.
- Booleans are never numbers (YAML reads unquoted ``true``/``false`` as booleans); integers
  (``bins``, ``binSize``, ``rng.seed``) must be written as integers, not ``6.0``.
- ``grid.start`` is an ISO-8601 date or date-time (YAML timestamps stay text); without a UTC offset
  it is taken as UTC. The grid must end before the year 10000.
- ``rng.kind`` defaults to ``pcg32``, the only kind; ``rng.seed`` is any integer that fits in
  64 bits, signed or unsigned.
- ``expr`` must be a string (quote formulas that look like numbers).
- An output's ``as`` is a plain file name (no folders); a series or ``as`` name appears in
  ``outputs`` at most once. ``series: "*"`` is every series, ``series: "p/*"`` every series
  whose name starts with ``p``; ``exclude`` (a name, a pattern, or a list of them) leaves
  some out of a pattern. A pattern that matches nothing is an error; ``as`` on one is ignored.
- ``grid.start`` may also be spelled ``startTimeUtc`` (FlowTime's Rust spelling), not both.
- The stateful parts (SPEC §5a: topology, routers, queue nodes, classes, traffic) are read
  by :mod:`flowtime_sim.model.topology`; references to series and cycles are checked by the
  plan (:func:`flowtime_sim.plan.build_plan`), which ``parse_model`` builds.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any, Final

from flowtime_sim.errors import ModelError
from flowtime_sim.model.expr import (
    did_you_mean,
    format_number,
    parse_expr,
)
from flowtime_sim.model.types import (
    MINUTES_PER_UNIT,
    BinUnit,
    ConstNode,
    ExprNode,
    Grid,
    Model,
    Node,
    Output,
    PmfNode,
    Rng,
    Topology,
)
from flowtime_sim.yaml_dialect import MODEL_LIMITS, DuplicateKeyError, YamlError, load_yaml

MAX_BINS: Final = 100_000
NODE_KINDS: Final = ("const", "pmf", "expr", "router", "serviceWithBuffer")
_ID: Final = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_TOP_KEYS: Final = (
    "schemaVersion",
    "grid",
    "rng",
    "nodes",
    "outputs",
    "topology",
    "classes",
    "traffic",
    "provenance",
)
_GRID_KEYS: Final = ("bins", "binSize", "binUnit", "start", "startTimeUtc")
_RNG_KEYS: Final = ("kind", "seed")
_NODE_KEYS: Final = {
    "const": ("id", "kind", "values", "metadata"),
    "pmf": ("id", "kind", "pmf", "metadata"),
    "expr": ("id", "kind", "expr", "metadata"),
}
_PMF_KEYS: Final = ("values", "probabilities")
_OUTPUT_KEYS: Final = ("series", "as", "exclude")
_SEED_RANGE: Final = (-(2**63), 2**64 - 1)
_RENORMALISE_ABOVE: Final = 1e-6


def load_model_file(path: str | os.PathLike[str]) -> Model:
    """Read and validate the model file at ``path`` (see :func:`parse_model`)."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise ModelError(f"cannot read model file '{path}': {exc.strerror or exc}") from exc
    return parse_model(data, origin=str(path))


def load_model_document(source: str | bytes, *, origin: str = "model") -> Any:
    """The YAML document of a model, loaded with the same rules as :func:`parse_model`
    (duplicate keys refused, errors with line and column) but not validated."""
    return _load_yaml(source, origin)


def parse_model(source: str | bytes | Mapping[str, Any], *, origin: str = "model") -> Model:
    """Validate a model given as YAML text or bytes, or as an already-loaded mapping.

    ``origin`` names the input in messages about the document as a whole (a file path, say).
    Raises :class:`ModelError` for the first problem found; a valid model's non-fatal
    findings (renormalised PMFs) are in :attr:`Model.warnings`.
    """
    data = _load_yaml(source, origin) if isinstance(source, (str, bytes)) else source
    if data is None:
        raise ModelError(
            f"{origin} is empty; expected a mapping with schemaVersion, grid and nodes"
        )
    if not isinstance(data, Mapping):
        raise ModelError(
            f"{origin} must be a mapping with schemaVersion, grid and nodes, got {_describe(data)}"
        )
    _check_keys(data, _TOP_KEYS, "at the top level", field_prefix="")
    _schema_version(data)
    grid = _grid(data)
    rng = _rng(data.get("rng"))
    warnings: list[str] = []
    nodes = _nodes(data, grid, warnings)
    from flowtime_sim.model import topology as stateful
    from flowtime_sim.plan import with_plan

    topology: Topology | None = None
    if data.get("topology") is not None:
        topology = stateful.parse_topology(data["topology"])
    stateful.check_traffic(data.get("traffic"), stateful.check_classes(data.get("classes")))
    if data.get("provenance") is not None:
        _mapping(data["provenance"], "provenance", "{generator: flowtime-sim}", field="provenance")
    model = with_plan(
        Model(
            grid=grid,
            nodes=tuple(nodes),
            outputs=(),
            rng=rng,
            warnings=tuple(warnings),
            topology=topology,
        )
    )
    assert model.plan is not None
    routers = {n.id for n in nodes if n.kind == "router"}
    return replace(model, outputs=_outputs(data.get("outputs"), model.plan.series, routers))


# ---------------------------------------------------------------------------------------------
# YAML


def _load_yaml(source: str | bytes, origin: str) -> Any:
    """The host's one YAML dialect (:mod:`flowtime_sim.yaml_dialect`), with model limits."""
    try:
        return load_yaml(source, limits=MODEL_LIMITS, fast=True)
    except DuplicateKeyError as exc:
        raise ModelError(
            f"duplicate key {exc.key!r} in {origin} at {exc.where}; give each key once per mapping"
        ) from None
    except YamlError as exc:
        where = f" at {exc.where}" if exc.where else ""
        raise ModelError(f"malformed YAML in {origin}{where}: {exc.problem}") from None


# ---------------------------------------------------------------------------------------------
# Values


def _describe(value: object) -> str:
    """A value as a message shows it: YAML spellings for null and booleans, no long dumps."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"{str(value).lower()} (a boolean)"
    if isinstance(value, (int, float, str)):
        text = repr(value)
        return text if len(text) <= 60 else text[:50] + "..."
    if isinstance(value, Mapping):
        return "a mapping" if value else "an empty mapping"
    if isinstance(value, (list, tuple)):
        return "a list" if value else "an empty list"
    if isinstance(value, date):
        return value.isoformat()
    return f"a {type(value).__name__}"


def _quote_hint(value: object) -> str:
    """Where a name was expected, a boolean is an unquoted ``true`` or ``false``."""
    if isinstance(value, bool):
        return "; YAML reads unquoted true and false as booleans, so quote it"
    return ""


def _prefix(node: str | None) -> str:
    return f"node '{node}': " if node is not None else ""


def _fail(message: str, *, node: str | None = None, field: str | None = None) -> ModelError:
    return ModelError(_prefix(node) + message, node=node, field=field)


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _float(value: object) -> float | None:
    """``value`` as a finite float, or None when it is not a finite number."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        number = float(value)
    except OverflowError:  # an int beyond float range
        return None
    return number if math.isfinite(number) else None


def _numbers(raw: object, what: str, node: str, field: str) -> tuple[float, ...]:
    """A non-empty list of finite numbers, or an error naming the first bad entry."""
    if not isinstance(raw, (list, tuple)) or not raw:
        raise _fail(
            f"{what} must be a non-empty list of numbers, got {_describe(raw)}",
            node=node,
            field=field,
        )
    if set(map(type, raw)) <= {int, float}:  # the usual case, checked at C speed
        try:
            numbers = tuple(map(float, raw))
        except OverflowError:
            numbers = ()
        if numbers and all(map(math.isfinite, numbers)):
            return numbers
    for index, value in enumerate(raw):
        if _float(value) is None:
            raise _fail(
                f"{what}[{index}] must be a finite number, got {_describe(value)}",
                node=node,
                field=f"{field}[{index}]",
            )
    return tuple(float(v) for v in raw)  # number subclasses, e.g. from an already-loaded mapping


def _check_keys(
    mapping: Mapping[Any, Any],
    allowed: Sequence[str],
    where: str,
    *,
    field_prefix: str,
    node: str | None = None,
) -> None:
    for key in mapping:
        if key not in allowed:
            guess = did_you_mean(key, allowed) if isinstance(key, str) else ""
            listed = ", ".join(allowed)
            tail = f"{guess} Allowed keys: {listed}" if guess else f"; allowed keys: {listed}"
            raise _fail(
                f"unknown key {key!r} {where}{tail}", node=node, field=f"{field_prefix}{key}"
            )


def _mapping(
    raw: object, what: str, example: str, *, field: str, node: str | None = None
) -> Mapping[Any, Any]:
    if not isinstance(raw, Mapping):
        raise _fail(
            f"{what} must be a mapping like {example}, got {_describe(raw)}", node=node, field=field
        )
    return raw


# ---------------------------------------------------------------------------------------------
# schemaVersion, grid, rng


def _schema_version(data: Mapping[str, Any]) -> None:
    if "schemaVersion" not in data:
        raise _fail(
            "schemaVersion is missing; add 'schemaVersion: 1' to the model", field="schemaVersion"
        )
    version = data["schemaVersion"]
    if not (_is_int(version) and version == 1):
        raise _fail(f"schemaVersion must be 1, got {_describe(version)}", field="schemaVersion")


def _grid(data: Mapping[str, Any]) -> Grid:
    example = "{bins: 24, binSize: 1, binUnit: hours}"
    if "grid" not in data:
        raise _fail(f"grid is missing; add e.g. 'grid: {example}'", field="grid")
    raw = _mapping(data["grid"], "grid", example, field="grid")
    _check_keys(raw, _GRID_KEYS, "in grid", field_prefix="grid.")
    for key in ("bins", "binSize", "binUnit"):
        if key not in raw:
            raise _fail(f"grid.{key} is missing; e.g. 'grid: {example}'", field=f"grid.{key}")
    bins, bin_size, unit = raw["bins"], raw["binSize"], raw["binUnit"]
    if not (_is_int(bins) and 1 <= bins <= MAX_BINS):
        raise _fail(
            f"grid.bins must be an integer from 1 to {MAX_BINS}, got {_describe(bins)}",
            field="grid.bins",
        )
    if not (_is_int(bin_size) and bin_size >= 1):
        raise _fail(
            f"grid.binSize must be an integer of at least 1, got {_describe(bin_size)}",
            field="grid.binSize",
        )
    units = tuple(MINUTES_PER_UNIT)
    if not (isinstance(unit, str) and unit.lower() in units):
        raise _fail(
            f"grid.binUnit must be one of {', '.join(units)}, got {_describe(unit)}",
            field="grid.binUnit",
        )
    bin_unit: BinUnit = unit.lower()  # type: ignore[assignment]  # checked against the units
    if "start" in raw and "startTimeUtc" in raw:
        raise _fail(
            "grid.start and grid.startTimeUtc are two spellings of one field; give only one",
            field="grid.startTimeUtc",
        )
    start = _start(raw.get("start", raw.get("startTimeUtc")))
    grid = Grid(bins=bins, bin_size=bin_size, bin_unit=bin_unit, start=start)
    if grid.start is not None:
        try:
            grid.start + timedelta(minutes=grid.bins * grid.bin_minutes)
        except OverflowError:
            raise _fail(
                f"grid.start {grid.start:%Y-%m-%dT%H:%M:%SZ} is too late: {bins} bins of "
                f"{bin_size} {bin_unit} would run past the year 9999; choose an earlier start "
                "or a shorter grid",
                field="grid.start",
            ) from None
    return grid


def _start(raw: object) -> datetime | None:
    problem = (
        "grid.start must be an ISO-8601 date-time such as 2025-01-01T00:00:00Z, "
        f"got {_describe(raw)}"
    )
    if raw is None:
        return None
    if isinstance(raw, datetime):
        start = raw
    elif isinstance(raw, date):
        start = datetime.combine(raw, time())
    elif isinstance(raw, str):
        try:
            start = datetime.fromisoformat(raw.strip())
        except ValueError:
            raise _fail(problem, field="grid.start") from None
    else:
        raise _fail(problem, field="grid.start")
    if start.tzinfo is None:
        return start.replace(tzinfo=UTC)
    try:
        return start.astimezone(UTC)
    except OverflowError:
        raise _fail(problem, field="grid.start") from None


def _rng(raw: object) -> Rng | None:
    if raw is None:
        return None
    rng = _mapping(raw, "rng", "{kind: pcg32, seed: 42}", field="rng")
    _check_keys(rng, _RNG_KEYS, "in rng", field_prefix="rng.")
    kind = rng.get("kind", "pcg32")
    if not (isinstance(kind, str) and kind.lower() == "pcg32"):
        raise _fail(f"rng.kind must be pcg32, got {_describe(kind)}", field="rng.kind")
    if "seed" not in rng:
        raise _fail(
            "rng.seed is missing; give an integer seed, e.g. 'rng: {kind: pcg32, seed: 42}'",
            field="rng.seed",
        )
    seed = rng["seed"]
    low, high = _SEED_RANGE
    if not (_is_int(seed) and low <= seed <= high):
        raise _fail(
            f"rng.seed must be an integer from {low} to {high}, got {_describe(seed)}",
            field="rng.seed",
        )
    return Rng(kind="pcg32", seed=seed)


# ---------------------------------------------------------------------------------------------
# Nodes


def _nodes(data: Mapping[str, Any], grid: Grid, warnings: list[str]) -> list[Node]:
    if "nodes" not in data:
        raise _fail("nodes is missing; a model needs at least one node", field="nodes")
    raw = data["nodes"]
    if not isinstance(raw, (list, tuple)) or not raw:
        raise _fail(f"nodes must be a non-empty list of nodes, got {_describe(raw)}", field="nodes")
    nodes: list[Node] = []
    first_index: dict[str, int] = {}
    for index, item in enumerate(raw):
        where = f"nodes[{index}]"
        if not isinstance(item, Mapping):
            raise _fail(
                f"{where} must be a mapping with id and kind, got {_describe(item)}", field=where
            )
        node_id = _node_id(item, where)
        if node_id in first_index:
            raise ModelError(
                f"node '{node_id}' is defined twice (nodes[{first_index[node_id]}] and {where}); "
                "node ids must be unique",
                node=node_id,
                field=f"{where}.id",
            )
        first_index[node_id] = index
        nodes.append(_node(item, node_id, where, grid, warnings))
    return nodes


def _node_id(item: Mapping[str, Any], where: str) -> str:
    if "id" not in item:
        raise _fail(
            f"{where} has no id; give every node an id such as 'demand'", field=f"{where}.id"
        )
    node_id = item["id"]
    if not (isinstance(node_id, str) and _ID.fullmatch(node_id)):
        raise _fail(
            f"{where}.id must be a letter or '_' followed by letters, digits or '_', "
            f"got {_describe(node_id)}{_quote_hint(node_id)}",
            field=f"{where}.id",
        )
    return node_id


def _node(
    item: Mapping[str, Any], node_id: str, where: str, grid: Grid, warnings: list[str]
) -> Node:
    kinds = ", ".join(NODE_KINDS)
    if "kind" not in item:
        raise _fail(f"kind is missing; use one of {kinds}", node=node_id, field=f"{where}.kind")
    kind = item["kind"]
    if kind not in NODE_KINDS:
        raise _fail(
            f"unknown kind {_describe(kind)}; use one of {kinds}",
            node=node_id,
            field=f"{where}.kind",
        )
    if kind in ("router", "serviceWithBuffer"):
        from flowtime_sim.model import topology as stateful

        if kind == "router":
            return stateful.router_node(item, node_id, where)
        return stateful.queue_node(item, node_id, where)
    allowed = _NODE_KEYS[kind]
    _check_keys(item, allowed, f"for {_A[kind]} node", field_prefix=f"{where}.", node=node_id)
    if "metadata" in item:
        from flowtime_sim.model import topology as stateful

        stateful.node_metadata(item, node_id, where)
    content = allowed[2]
    if content not in item:
        raise _fail(
            f"{content} is missing; {_A[kind]} node needs {_NEEDS[kind]}",
            node=node_id,
            field=f"{where}.{content}",
        )
    if kind == "const":
        return _const(item["values"], node_id, where, grid)
    if kind == "pmf":
        return _pmf(item["pmf"], node_id, where, warnings)
    return _expr(item["expr"], node_id, where)


_A: Final = {"const": "a const", "pmf": "a pmf", "expr": "an expr"}
_NEEDS: Final = {
    "const": "one value per bin, e.g. 'values: [10, 12, 9]'",
    "pmf": "'pmf: {values: [1, 2], probabilities: [0.5, 0.5]}'",
    "expr": "a formula, e.g. 'expr: \"demand * 0.8\"'",
}


def _const(raw: object, node_id: str, where: str, grid: Grid) -> ConstNode:
    values = _numbers(raw, "values", node_id, f"{where}.values")
    if len(values) != grid.bins:
        raise _fail(
            f"values has {len(values)} entries but the grid has {grid.bins} bins; "
            "give exactly one value per bin",
            node=node_id,
            field=f"{where}.values",
        )
    return ConstNode(id=node_id, values=values)


def _pmf(raw: object, node_id: str, where: str, warnings: list[str]) -> PmfNode:
    example = "{values: [1, 2], probabilities: [0.5, 0.5]}"
    pmf = _mapping(raw, "pmf", example, field=f"{where}.pmf", node=node_id)
    _check_keys(pmf, _PMF_KEYS, "in pmf", field_prefix=f"{where}.pmf.", node=node_id)
    values = _numbers(pmf.get("values"), "pmf.values", node_id, f"{where}.pmf.values")
    field = f"{where}.pmf.probabilities"
    probabilities = _numbers(pmf.get("probabilities"), "pmf.probabilities", node_id, field)
    if len(values) != len(probabilities):
        raise _fail(
            f"pmf has {len(values)} values but {len(probabilities)} probabilities; "
            "give one probability per value",
            node=node_id,
            field=field,
        )
    for index, p in enumerate(probabilities):
        if p < 0:
            raise _fail(
                f"pmf.probabilities[{index}] must not be negative, got {_describe(p)}",
                node=node_id,
                field=f"{field}[{index}]",
            )
    seen: dict[float, int] = {}
    for index, v in enumerate(values):
        if v in seen:
            raise _fail(
                f"pmf value {format_number(v)} is listed twice (pmf.values[{seen[v]}] and "
                f"pmf.values[{index}]); list each value once and add up its probabilities",
                node=node_id,
                field=f"{where}.pmf.values[{index}]",
            )
        seen[v] = index
    total = math.fsum(probabilities)
    if total <= 0:
        raise _fail(
            "pmf probabilities sum to 0; at least one must be positive", node=node_id, field=field
        )
    if abs(total - 1) > _RENORMALISE_ABOVE:
        probabilities = tuple(p / total for p in probabilities)
        warnings.append(
            f"node '{node_id}': pmf probabilities sum to {format_number(total)}, not 1; "
            "they were rescaled to sum to 1"
        )
    return PmfNode(id=node_id, values=values, probabilities=probabilities)


def _expr(raw: object, node_id: str, where: str) -> ExprNode:
    if not isinstance(raw, str):
        raise _fail(
            f"expr must be a string (quote it), got {_describe(raw)}",
            node=node_id,
            field=f"{where}.expr",
        )
    return ExprNode(id=node_id, expr=raw, ast=parse_expr(raw, node=node_id, field=f"{where}.expr"))


# ---------------------------------------------------------------------------------------------
# Outputs


def _outputs(raw: object, names: Sequence[str], routers: set[str]) -> tuple[Output, ...]:
    if raw is None or (isinstance(raw, (list, tuple)) and not raw):
        return tuple(Output(series=name) for name in names)
    if not isinstance(raw, (list, tuple)):
        raise _fail(
            f"outputs must be a list like [{{series: served}}], got {_describe(raw)}",
            field="outputs",
        )
    known = frozenset(names)
    outputs: dict[str, Output] = {}
    series_at: dict[str, int] = {}
    file_at: dict[str, int] = {}
    for index, item in enumerate(raw):
        where = f"outputs[{index}]"
        entry = _mapping(item, where, "{series: served, as: served.csv}", field=where)
        _check_keys(entry, _OUTPUT_KEYS, f"in {where}", field_prefix=f"{where}.")
        if "series" not in entry:
            raise _fail(
                f"{where}.series is missing; name the node to output", field=f"{where}.series"
            )
        series = entry["series"]
        if isinstance(series, str) and _is_pattern(series):
            for name in _expand(series, entry, names, where):
                outputs.setdefault(name, Output(series=name))
            continue
        if "exclude" in entry:
            raise _fail(
                f"{where}.exclude only applies to a pattern such as '*' or 'queue/*'",
                field=f"{where}.exclude",
            )
        if not (isinstance(series, str) and series in known):
            hint = did_you_mean(series, names) if isinstance(series, str) else ""
            if series in routers:
                hint = "; a router has no series of its own, its route targets do"
            raise _fail(
                f"{where}.series {_describe(series)} is not a node{hint}{_quote_hint(series)}",
                field=f"{where}.series",
            )
        if series in series_at:
            raise _fail(
                f"{where}.series '{series}' is already listed in "
                f"outputs[{series_at[series]}]; list each series once",
                field=f"{where}.series",
            )
        series_at[series] = index
        file_name = entry.get("as")
        if file_name is not None:
            _check_file_name(file_name, where)
            if file_name in file_at:
                raise _fail(
                    f"{where}.as '{file_name}' is already used by outputs[{file_at[file_name]}]; "
                    "give each output its own file name",
                    field=f"{where}.as",
                )
            file_at[file_name] = index
        outputs[series] = Output(series=series, as_=file_name)
    return tuple(outputs.values())


def _is_pattern(series: str) -> bool:
    return series.strip() == "*" or series.strip().endswith("/*")


def _matches(pattern: str, name: str) -> bool:
    pattern = pattern.strip()
    return pattern == "*" or (pattern.endswith("/*") and name.startswith(pattern[:-2]))


def _expand(pattern: str, entry: Mapping[str, Any], names: Sequence[str], where: str) -> list[str]:
    """The series a pattern entry selects, after its ``exclude`` (an ``as`` on a pattern
    names no file, as in FlowTime's engines: it is ignored)."""
    raw_exclude = entry.get("exclude", [])
    excludes = [raw_exclude] if isinstance(raw_exclude, str) else raw_exclude
    if not isinstance(excludes, (list, tuple)) or not all(
        isinstance(x, str) and x.strip() for x in excludes
    ):
        raise _fail(
            f"{where}.exclude must be a series name, a pattern or a list of them, got "
            f"{_describe(raw_exclude)}",
            field=f"{where}.exclude",
        )
    for position, name in enumerate(excludes):
        if not _is_pattern(name) and name not in names:
            raise _fail(
                f"{where}.exclude[{position}] '{name}' is not a series{did_you_mean(name, names)}",
                field=f"{where}.exclude[{position}]",
            )
    selected = [
        name
        for name in names
        if _matches(pattern, name)
        and not any(_matches(x, name) if _is_pattern(x) else x == name for x in excludes)
    ]
    if not selected:
        raise _fail(
            f"{where}.series '{pattern}' selects no series; check the prefix "
            f"(series names start with node ids, e.g. '{names[0]}')",
            field=f"{where}.series",
        )
    return selected


def _check_file_name(name: object, where: str) -> None:
    if not (
        isinstance(name, str)
        and name.strip()
        and name not in (".", "..")
        and not any(c in name for c in "/\\\0")
    ):
        raise _fail(
            f"{where}.as must be a plain file name such as served.csv, got {_describe(name)}",
            field=f"{where}.as",
        )
