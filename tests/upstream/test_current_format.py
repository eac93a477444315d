"""Today's FlowTime-Sim template format, converted as FlowTime-Sim's model builder does.

Every assertion is on the converted document, so none of these tests needs an engine that
evaluates topology."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from flowtime_sim.core import Flowtime
from flowtime_sim.errors import ParameterError, TemplateError, UserError
from flowtime_sim.plugins import create_plugin_host
from flowtime_sim.types import ParameterSources
from flowtime_sim.upstream import load_upstream_file
from flowtime_sim.upstream.topology import snake
from tests.upstream.conftest import CLINIC, converted, write

# three-shift resampled to 4 bins (see test_profiles.py): hours 0, 5-6, 11-12, 17-18
_RAW = [0.9, 0.98 + (1.0 - 0.98) * 0.75, 1.15 + (1.12 - 1.15) * 0.5, 0.98 + (0.96 - 0.98) * 0.25]
WALK_INS = [10 * w / (sum(_RAW) / 4) for w in _RAW]


def test_the_manifest_of_a_current_template() -> None:
    tpl = load_upstream_file(CLINIC)
    m = tpl.manifest
    assert (m.id, m.version, m.title, m.tags) == (
        "clinic-intake",
        "1.2.0",
        "Clinic Intake",
        ("health", "queue"),
    )
    assert m.description == (
        "Walk-in patients through triage into a treatment queue\n\n"
        "Patients arrive over the day; triage sends most of them on to "
        "treatment."
    )
    assert m.parameters == {
        "type": "object",
        "additionalProperties": False,
        "required": ["seed"],
        "properties": {
            "bins": {"type": "integer", "default": 4, "minimum": 2, "maximum": 12},
            "binSize": {
                "type": "integer",
                "title": "Minutes per bin",
                "default": 60,
                "minimum": 15,
                "maximum": 120,
            },
            "treatShare": {
                "type": "number",
                "title": "Treated share",
                "default": 0.8,
                "minimum": 0,
                "maximum": 1,
                "description": "Share of triaged patients sent to treatment",
            },
            "triageOpen": {"type": "boolean", "default": True},
            "label": {"type": "string", "default": "walk-ins"},
            "staffing": {
                "type": "array",
                "default": [3, 3, 4, 4],
                "items": {"type": "integer", "minimum": 0, "maximum": 10},
            },
            "arrivalsSource": {
                "type": "string",
                "default": "",
                "description": "Optional file:// URI of observed arrivals",
            },
            "seed": {"type": "integer", "default": 7},
        },
    }


def test_the_converted_model() -> None:
    model = converted(CLINIC)
    assert list(model) == [
        "schemaVersion",
        "grid",
        "classes",
        "traffic",
        "nodes",
        "outputs",
        "rng",
        "topology",
        "provenance",
    ]
    assert model["grid"] == {
        "bins": 4,
        "binSize": 60,
        "binUnit": "minutes",
        "start": "2025-03-01T08:00:00Z",
    }
    assert model["classes"] == [
        {"id": "Urgent", "displayName": "Urgent care", "description": "Seen first"},
        {"id": "Routine"},
    ]
    assert model["traffic"] == {
        "arrivals": [
            {
                "nodeId": "walk_ins",
                "classId": "Urgent",
                "pattern": {"kind": "constant", "ratePerBin": 2},
            },
            {
                "nodeId": "walk_ins",
                "classId": "Routine",
                "pattern": {"kind": "constant", "ratePerBin": 8},
            },
        ]
    }
    nodes = {n["id"]: n for n in model["nodes"]}
    assert list(nodes) == [
        "walk_ins",
        "triage_capacity",
        "triaged",
        "to_treatment",
        "treat_capacity",
        "treated",
        "left_unseen",
        "ward_split",
        "discharge_served",
    ]
    walk_ins = nodes["walk_ins"]
    assert walk_ins["kind"] == "const"
    assert walk_ins["values"] == pytest.approx(WALK_INS, rel=1e-12)
    assert walk_ins["metadata"] == {
        "origin.kind": "pmf",
        "profile.kind": "builtin",
        "profile.name": "three-shift",
        "pmf.expected": "10",
    }
    assert nodes["triage_capacity"] == {
        "id": "triage_capacity",
        "kind": "const",
        "values": [3, 3, 4, 4],
        "metadata": {"open": "true"},
    }
    assert nodes["triaged"] == {
        "id": "triaged",
        "kind": "expr",
        "expr": "MIN(walk_ins, triage_capacity * 4)",
    }
    assert nodes["to_treatment"]["expr"] == "triaged * 0.8"
    assert nodes["treat_capacity"] == {
        "id": "treat_capacity",
        "kind": "pmf",
        "pmf": {"values": [5, 7], "probabilities": [0.5, 0.5]},
    }
    routes = [{"target": "ward_a", "weight": 3}, {"target": "ward_b", "weight": 1}]
    assert nodes["ward_split"] == {
        "id": "ward_split",
        "kind": "router",
        "inputs": {"queue": "treated"},
        "routes": routes,
        "router": {"inputs": {"queue": "treated"}, "routes": routes},
    }
    assert nodes["discharge_served"] == {
        "id": "discharge_served",
        "kind": "expr",
        "expr": "MAX(0, treated - left_unseen)",
        "metadata": {"graph.hidden": "true"},
    }
    assert model["outputs"] == [
        {"series": "treated", "as": "walk-ins-treated.csv"},
        {"series": "walk_ins"},
        {"series": "triaged"},
        {"series": "triage_capacity"},
        {"series": "to_treatment"},
        {"series": "left_unseen"},
        {"series": "treatment_queue_queue"},
        {"series": "discharge_served"},
    ]
    assert model["rng"] == {"kind": "pcg32", "seed": 7}
    assert model["provenance"]["generator"] == "flowtime-sim/tests"
    assert model["provenance"]["parameters"] == {
        "bins": 4,
        "binSize": 60,
        "treatShare": 0.8,
        "triageOpen": True,
        "label": "walk-ins",
        "staffing": [3, 3, 4, 4],
        "arrivalsSource": "",
        "seed": 7,
    }
    assert (
        model["provenance"]["templateId"],
        model["provenance"]["templateVersion"],
        model["provenance"]["mode"],
    ) == ("clinic-intake", "1.2.0", "simulation")
    assert len(model["provenance"]["modelId"]) == 64


def test_the_converted_topology() -> None:
    topology = converted(CLINIC)["topology"]
    assert topology["nodes"] == [
        {
            "id": "Triage",
            "kind": "service",
            "nodeRole": "entry",
            "group": "front",
            "ui": {"x": 10, "y": 20},
            "constraints": ["doctors"],
            "semantics": {
                "arrivals": "walk_ins",
                "served": "triaged",
                "capacity": "triage_capacity",
            },
        },
        {
            "id": "TreatmentQueue",
            "kind": "queue",
            "dispatchSchedule": {
                "kind": "time-based",
                "periodBins": 2,
                "phaseOffset": 1,
                "capacitySeries": "treat_capacity",
            },
            "semantics": {
                "arrivals": "to_treatment",
                "served": "treated",
                "errors": "left_unseen",
                "queueDepth": "treatment_queue_queue",
            },
            "initialCondition": {"queueDepth": 3},
        },
        {
            "id": "Discharge",
            "kind": "sink",
            "semantics": {
                "arrivals": "treated",
                "served": "discharge_served",
                "errors": "left_unseen",
            },
        },
    ]
    assert topology["edges"] == [
        {
            "id": "triage_to_treatment",
            "from": "Triage:served",
            "to": "TreatmentQueue:arrivals",
            "source": "Triage",
            "target": "TreatmentQueue",
            "weight": 1.0,
        },
        {
            "id": "treatment_to_discharge",
            "from": "TreatmentQueue:served",
            "to": "Discharge",
            "source": "TreatmentQueue",
            "target": "Discharge",
            "weight": 0.5,
            "measure": "served",
        },
    ]
    assert topology["constraints"] == [
        {"id": "doctors", "semantics": {"arrivals": "walk_ins", "served": "triage_capacity"}}
    ]


def test_parameters_reach_every_section() -> None:
    model = converted(
        CLINIC,
        bins=2,
        binSize=30,
        treatShare=0.5,
        triageOpen=False,
        label="night",
        staffing=[1, 2],
        seed=99,
    )
    assert model["grid"]["bins"] == 2 and model["grid"]["binSize"] == 30
    assert model["rng"]["seed"] == 99
    nodes = {n["id"]: n for n in model["nodes"]}
    assert nodes["triage_capacity"]["values"] == [1, 2]
    assert nodes["triage_capacity"]["metadata"] == {"open": "false"}
    assert nodes["to_treatment"]["expr"] == "triaged * 0.5"
    assert len(nodes["walk_ins"]["values"]) == 2
    assert model["outputs"][0]["as"] == "night-treated.csv"


def flowtime(*paths: Path) -> Flowtime:
    return Flowtime(host=create_plugin_host(load_entry_points=False), template_paths=paths)


def test_parameter_bounds_are_enforced_scalars_included() -> None:
    from flowtime_sim.rendering import resolve_parameters

    ft = flowtime(CLINIC)
    with pytest.raises(ParameterError) as err:
        resolve_parameters(
            ft.host,
            ft.template("clinic-intake"),
            ParameterSources(
                sets={
                    "bins": 13,
                    "binSize": 10,
                    "treatShare": 1.5,
                    "triageOpen": "yes",
                    "staffing": [1, 11, 2, 2.5],
                }
            ),
        )
    where = "(template clinic-intake 1.2.0)"
    assert err.value.problems == [
        f"parameter 'binSize' = 10 is below the minimum 15 {where}",
        f"parameter 'bins' = 13 is above the maximum 12 {where}",
        f"parameter 'staffing[1]' = 11 is above the maximum 10 {where}",
        f"parameter 'staffing[3]' = 2.5 is not of type 'integer' {where}",
        f"parameter 'treatShare' = 1.5 is above the maximum 1 {where}",
        f"parameter 'triageOpen' = 'yes' is not of type 'boolean' {where}",
    ]


def test_templates_show_the_typed_parameters(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    result = cli("templates", "--template-file", str(CLINIC), "show", "clinic-intake", "--json")
    assert result.exit_code == 0, result.output
    shown = json.loads(result.stdout)
    assert shown["parameters"]["properties"]["staffing"]["items"] == {
        "type": "integer",
        "minimum": 0,
        "maximum": 10,
    }
    table = cli("templates", "--template-file", str(CLINIC), "show", "clinic-intake").stdout
    assert "treatShare\tnumber\t0.8\t≥ 0, ≤ 1\tShare of triaged patients sent to treatment" in (
        table
    )


def test_a_telemetry_source_becomes_a_const_series(tmp_path: Path) -> None:
    folder = tmp_path / "t"
    folder.mkdir()
    path = write(folder, CLINIC.read_text(encoding="utf-8"), "clinic.yaml")
    (folder / "data").mkdir()
    (folder / "data" / "arrivals.csv").write_text(
        "bin_index,value\n0,4\n1,5.5\n2,6\n3,0\n", encoding="utf-8"
    )
    model = converted(path, arrivalsSource="file:data/arrivals.csv")
    assert model["nodes"][0] == {
        "id": "walk_ins",
        "kind": "const",
        "values": [4.0, 5.5, 6.0, 0.0],
        "metadata": {"origin.kind": "telemetry", "telemetry.source": "file:data/arrivals.csv"},
    }
    with pytest.raises(TemplateError) as err:
        converted(path, arrivalsSource="file://data/missing.csv")
    missing = str(folder / "data" / "missing.csv")
    assert str(err.value) == (
        f"template clinic-intake 1.2.0: node 'walk_ins': telemetry file {missing!r} does not exist"
    )
    with pytest.raises(TemplateError) as err:
        converted(path, arrivalsSource="https://example.com/a.csv")
    assert str(err.value) == (
        "template clinic-intake 1.2.0: node 'walk_ins': telemetry source "
        "'https://example.com/a.csv' is not supported; use "
        "file:path/to/series.csv"
    )


def test_queue_names_avoid_taken_names_and_keep_named_nodes(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        MINIMAL.replace(
            "TOPOLOGY",
            """
  nodes:
    - {id: A, kind: serviceWithBuffer, semantics: {arrivals: a, served: a, queueDepth: self}}
    - {id: B, kind: dlq, semantics: {arrivals: a, capacity: a}}
    - {id: C, kind: queue, semantics: {arrivals: a, served: a, queueDepth: depth}}
    - {id: D, kind: queue, semantics: {arrivals: a, served: a, queueDepth: a}}
    - {id: E, kind: Sink, semantics: {arrivals: a}}
  edges:
    - {source: A, target: B}
""",
        ),
    )
    model = converted(path)
    sem = [n["semantics"] for n in model["topology"]["nodes"]]
    assert [s.get("queueDepth") for s in sem] == ["a_queue_1", "b_queue", "depth", "a", None]
    assert sem[0]["parallelism"] == 1  # serviceWithBuffer
    assert sem[4]["served"] == "a"
    assert model["topology"]["edges"] == [
        {"from": "A", "to": "B", "source": "A", "target": "B", "weight": 1.0}
    ]


MINIMAL = """\
generator: flowtime-sim
metadata: {id: minimal, title: Minimal, version: 1.0.0}
window: {start: 2025-01-01T00:00:00Z, timezone: UTC}
grid: {bins: 2, binSize: 1, binUnit: hours}
nodes:
  - {id: a, kind: const, values: [1, 2]}
  - {id: a_queue, kind: expr, expr: "a"}
outputs:
  - {series: a}
topology: TOPOLOGY
"""


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            "generator: flowtime-sim",
            "generator: other",
            "generator 'other' must start with 'flowtime-sim'",
        ),
        (
            "topology: TOPOLOGY",
            "extras: 1",
            "unknown key 'extras' at the top level; allowed keys: "
            "schemaVersion, generator, mode, metadata, window, parameters, grid, classes, traffic, "
            "topology, nodes, outputs, rng, provenance",
        ),
        ("timezone: UTC", "timezone: CET", "window.timezone must be UTC, got 'CET'"),
        (
            "start: 2025-01-01T00:00:00Z",
            "start: 2025-01-01T00:00:00+01:00",
            "window.start '2025-01-01T00:00:00+01:00' must be in UTC (offset 0 or Z)",
        ),
        (
            "start: 2025-01-01T00:00:00Z, ",
            "",
            "window.start is required (an ISO-8601 UTC time such as 2025-01-01T00:00:00Z)",
        ),
        ("bins: 2,", "bins: 0,", "grid.bins must be a whole number greater than 0, got 0"),
        (
            "binUnit: hours",
            "binUnit: hours, end: 3",
            "unknown key 'end' in grid; allowed keys: bins, binSize, binUnit, start",
        ),
        (
            "kind: const, values: [1, 2]",
            "kind: stock",
            "node 'a': kind 'stock' must be one of const, pmf, expr, serviceWithBuffer, router",
        ),
        ("values: [1, 2]", "values: [1]", "node 'a': values has 1 entries but grid.bins is 2"),
        ("{id: a_queue,", "{id: a,", "node id 'a' is used twice"),
        ("  - {series: a}", "  - {as: a.csv}", "outputs[0] needs a series"),
        ('expr: "a"', "expr: [a]", "node 'a_queue': an expr node needs expr text"),
        (
            "topology: TOPOLOGY",
            "topology: {nodes: [{id: Q, kind: queue, semantics: {served: a}}]}",
            "topology node 'Q': a queue needs semantics.arrivals",
        ),
        (
            "topology: TOPOLOGY",
            "topology: {nodes: [{id: Q, kind: queue, semantics: {arrivals: a}}]}",
            "topology node 'Q': a queue needs semantics.served or capacity",
        ),
        (
            "topology: TOPOLOGY",
            "topology: {nodes: [{id: S, kind: sink, semantics: {arrivals: a, served: a_queue}}]}",
            "topology node 'S': a sink's served must equal its arrivals unless it has errors",
        ),
        (
            "topology: TOPOLOGY",
            "topology: {nodes: [{id: S, kind: service}]}",
            "topology node 'S' needs semantics",
        ),
        (
            "topology: TOPOLOGY",
            "topology: {nodes: [{id: S, semantics: {}}]}",
            "topology node 'S' needs a kind",
        ),
        (
            "topology: TOPOLOGY",
            "topology: {nodes: [{id: S, kind: service, semantics: {}}], "
            "edges: [{from: 'S:out', to: 'T:in'}]}",
            "topology.edges[0].to 'T:in' is not a topology node",
        ),
        ("topology: TOPOLOGY", "rng: {kind: mt}", "rng must be {kind: pcg32, seed: N}"),
        ("topology: TOPOLOGY", "mode: live", "mode 'live' must be simulation or telemetry"),
        ("topology: TOPOLOGY", "classes: [{id: A}, {id: A}]", "class id 'A' is used twice"),
        (
            "topology: TOPOLOGY",
            "classes: [{id: A}]\ntraffic: {arrivals: [{nodeId: a, pattern: {kind: constant}}]}",
            "traffic.arrivals[0] needs a classId",
        ),
        (
            "{id: a, kind: const, values: [1, 2]}",
            "{id: a, kind: pmf, pmf: {values: [1, 2], probabilities: [0.5, 0.6]}}",
            "node 'a': pmf probabilities add up to 1.1, not 1",
        ),
        (
            "{id: a, kind: const, values: [1, 2]}",
            "{id: a, kind: pmf, pmf: {values: [1], probabilities: [1]}, profile: {name: lunch}}",
            "node 'a': unknown built-in profile "
            "'lunch'; built-in profiles: hub-rush-hour, three-shift, weekday-office",
        ),
        (
            "{id: a, kind: const, values: [1, 2]}",
            "{id: a, kind: pmf, pmf: {values: [1], "
            "probabilities: [1]}, profile: {kind: inline, weights: [1]}}",
            "node 'a': inline profile has 1 weights but grid.bins is 2",
        ),
        (
            "{id: a, kind: const, values: [1, 2]}",
            "{id: a, kind: router, inputs: {queue: a_queue}, routes: [{target: b}]}",
            "node 'a': routes[0] needs classes or a weight",
        ),
    ],
)
def test_template_errors(tmp_path: Path, old: str, new: str, message: str) -> None:
    text = (
        MINIMAL.replace(
            "topology: TOPOLOGY",
            "topology: {nodes: [{id: T, kind: service, semantics: {arrivals: a, served: a}}]}",
        )
        if old != ("topology: TOPOLOGY")
        else MINIMAL
    )
    assert old in text
    path = write(tmp_path, text.replace(old, new, 1))
    with pytest.raises(TemplateError) as err:
        converted(path)
    assert str(err.value) == f"template minimal 1.0.0: {message}"


@pytest.mark.parametrize(
    ("meta", "message"),
    [
        ("{id: m, title: M}", "metadata.version is required"),
        ("{id: m, version: 1.0.0}", "metadata.title is required"),
    ],
)
def test_current_metadata_needs_id_title_version(tmp_path: Path, meta: str, message: str) -> None:
    path = write(tmp_path, MINIMAL.replace("{id: minimal, title: Minimal, version: 1.0.0}", meta))
    with pytest.raises(UserError) as err:
        load_upstream_file(path)
    assert str(err.value) == f"template file {str(path)!r}: {message}"


def test_the_provenance_model_id_hashes_the_substituted_text() -> None:
    import hashlib

    from flowtime_sim.builtin.parameters import schema_defaults
    from flowtime_sim.upstream.placeholders import substitute_text

    text = CLINIC.read_text(encoding="utf-8")
    values = schema_defaults(load_upstream_file(CLINIC).manifest.parameters)
    substituted = substitute_text(text, values)
    assert "staffing\n    type: array" in substituted and "values: [3, 3, 4, 4]" in substituted
    assert 'as: "walk-ins-treated.csv"' in substituted
    assert (
        converted(CLINIC)["provenance"]["modelId"]
        == hashlib.sha256(substituted.encode()).hexdigest()
    )


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("HubQueue", "hub_queue"),
        ("DLQ", "d_l_q"),
        ("HTTPService", "h_t_t_p_service"),
        ("AirportStrandedDlq", "airport_stranded_dlq"),
        ("Pack Staging", "pack_staging"),
        ("a-b", "a_b"),
        ("--", "--"),
    ],
)
def test_snake_case_as_flowtime_sim_writes_it(name: str, expected: str) -> None:
    assert snake(name) == expected


def test_the_converted_model_is_plain_yaml() -> None:
    """No anchors or aliases even where one value is used twice (the parameters)."""
    tpl = load_upstream_file(CLINIC)
    from flowtime_sim.upstream import render_upstream

    text = render_upstream(
        tpl,
        {
            "bins": 4,
            "binSize": 60,
            "treatShare": 0.8,
            "triageOpen": True,
            "label": "x",
            "staffing": [3, 3, 4, 4],
            "arrivalsSource": "",
            "seed": 7,
        },
    )
    assert "&id" not in text and "*id" not in text
    assert "values: [3, 3, 4, 4]" in text
    assert yaml.safe_load(text)["provenance"]["parameters"]["staffing"] == [3, 3, 4, 4]


A = "{id: a, kind: const, values: [1, 2]}"
T = "topology: TOPOLOGY"


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            "nodes:\n  - " + A + '\n  - {id: a_queue, kind: expr, expr: "a"}',
            "nodes: []",
            "nodes must list at least one node",
        ),
        (
            "nodes:\n  - " + A + '\n  - {id: a_queue, kind: expr, expr: "a"}',
            "nodes: {a: 1}",
            "nodes must be a list",
        ),
        (A, "{kind: const, values: [1, 2]}", "nodes[0] needs an id"),
        (
            A,
            "{id: a, kind: expr, source: 'file:x.csv', expr: '1'}",
            "node 'a': a telemetry source needs a const or pmf node",
        ),
        (A, "{id: a, kind: const}", "node 'a': a const node needs values or a source"),
        (
            A,
            "{id: a, kind: serviceWithBuffer, outflow: a_queue}",
            "node 'a': a serviceWithBuffer node needs inflow",
        ),
        (
            A,
            "{id: a, kind: const, values: [1, 2], metadata: [x]}",
            "node 'a': metadata must map names to text",
        ),
        (
            A,
            "{id: a, kind: pmf, pmf: {values: [1, 2], probabilities: [1]}}",
            "node 'a': pmf needs values and probabilities of the same length",
        ),
        (
            A,
            "{id: a, kind: pmf, pmf: {values: [x], probabilities: [1]}}",
            "node 'a': pmf values and probabilities must be numbers",
        ),
        (
            A,
            "{id: a, kind: pmf, pmf: {values: [1, 2], probabilities: [1.5, -0.5]}}",
            "node 'a': pmf probabilities must not be negative",
        ),
        (
            A,
            "{id: a, kind: pmf, pmf: {values: [1], probabilities: [1]}, profile: flat}",
            "node 'a': profile must be {kind: builtin, name: ...} or "
            "{kind: inline, weights: [...]}",
        ),
        (
            A,
            "{id: a, kind: pmf, pmf: {values: [1], probabilities: [1]}, profile: {kind: inline}}",
            "node 'a': inline profile needs a list of numeric weights",
        ),
        (
            A,
            "{id: a, kind: pmf, pmf: {values: [1], probabilities: [1]}, profile: {kind: curve}}",
            "node 'a': profile kind 'curve' must be builtin or inline",
        ),
        (
            A,
            "{id: a, kind: router, routes: [{target: b, weight: 1}]}",
            "node 'a': a router needs inputs.queue",
        ),
        (
            A,
            "{id: a, kind: router, inputs: {queue: a_queue}, routes: []}",
            "node 'a': a router needs at least one route",
        ),
        (
            A,
            "{id: a, kind: router, router: {inputs: {queue: a_queue}, routes: [{weight: 1}]}}",
            "node 'a': routes[0] needs a target",
        ),
        (T, "topology: [1]", "topology must be {nodes, edges, constraints}"),
        (T, "topology: {nodes: [{kind: queue}]}", "topology.nodes[0] needs an id"),
        (
            T,
            "topology: {nodes: [{id: S, kind: sink, semantics: {served: a}}]}",
            "topology node 'S': a sink needs semantics.arrivals",
        ),
        (
            T,
            "topology: {nodes: [{id: S, kind: service, semantics: {}}], edges: [x]}",
            "topology.edges[0] must be {from, to}",
        ),
        (
            T,
            "topology: {nodes: [], constraints: [{id: c}]}",
            "topology.constraints[0] needs an id and semantics",
        ),
        (T, "classes: [{displayName: A}]", "classes[0] needs an id"),
        (T, "traffic: [1]", "traffic must be {arrivals: [...]}"),
        (
            T,
            "traffic: {arrivals: [{nodeId: a}]}",
            "traffic.arrivals[0] needs nodeId and pattern.kind",
        ),
        (
            "grid: {bins: 2, binSize: 1, binUnit: hours}",
            "grid: 2",
            "grid must be {bins, binSize, binUnit}",
        ),
        ("binUnit: hours", "binUnit: ''", "grid.binUnit is required (minutes, hours or days)"),
        (
            "binUnit: hours",
            "binUnit: hours, start: soon",
            "grid.start 'soon' is not an ISO-8601 time",
        ),
    ],
)
def test_more_template_errors(tmp_path: Path, old: str, new: str, message: str) -> None:
    assert old in MINIMAL
    path = write(tmp_path, MINIMAL.replace(old, new, 1).replace(T, ""))
    with pytest.raises(TemplateError) as err:
        converted(path)
    assert str(err.value) == f"template minimal 1.0.0: {message}"


@pytest.mark.parametrize(
    ("parameters", "message"),
    [
        ("{a: 1}", "'parameters' must be a list of {name, type, default, ...}"),
        ("[{name: 1x}]", "parameter name '1x' must match [A-Za-z_][A-Za-z0-9_]*"),
        ("[{name: a, default: 1}, {name: a, default: 2}]", "parameter 'a' is declared twice"),
        (
            "[{name: a, type: decimalArray}]",
            "parameter 'a' has unknown type 'decimalArray'; use "
            "integer, number, boolean, string or array",
        ),
        (
            "[{name: a, type: number, minimum: low}]",
            "parameter 'a': minimum must be a number, got 'low'",
        ),
    ],
)
def test_bad_parameter_declarations(tmp_path: Path, parameters: str, message: str) -> None:
    path = write(tmp_path, MINIMAL.replace(T, f"parameters: {parameters}"))
    with pytest.raises(UserError) as err:
        load_upstream_file(path)
    assert str(err.value) == f"template file {str(path)!r}: {message}"


def test_a_template_that_is_not_a_mapping_when_rendered(tmp_path: Path) -> None:
    path = write(tmp_path, MINIMAL.replace(T, ""))
    tpl = load_upstream_file(path)
    path.write_text("- just a list\n", encoding="utf-8")
    with pytest.raises(TemplateError) as err:
        converted(tpl)
    assert str(err.value) == "template minimal 1.0.0 is not a mapping of sections"
    path.write_text("a: [1\n", encoding="utf-8")
    with pytest.raises(TemplateError) as err:
        converted(tpl)
    assert str(err.value) == (
        "template minimal 1.0.0 is not valid YAML: while parsing a flow sequence, did not find "
        "expected ',' or ']' at line 2, column 1"
    )
