"""FlowTime-Sim templates in the upstream format, loaded unchanged and converted to models."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from flowtime_sim.builtin.upstream import FORMAT, UpstreamTemplates
from flowtime_sim.core import Flowtime
from flowtime_sim.errors import ParameterError, TemplateError, UserError
from flowtime_sim.model import parse_model
from flowtime_sim.plugins import create_plugin_host
from flowtime_sim.types import ParameterSources
from flowtime_sim.upstream import load_upstream_file

UPSTREAM = Path(__file__).parent / "fixtures" / "upstream"
CALL_CENTER = UPSTREAM / "call-center.yaml"

EXPECTED_MODEL: dict[str, Any] = {
    "schemaVersion": 1,
    "grid": {"bins": 6, "binSize": 60, "binUnit": "minutes"},
    "rng": {"kind": "pcg32", "seed": 42},
    "nodes": [
        {"id": "inbound_calls", "kind": "const", "values": [120, 180, 240, 210, 150, 90]},
        {"id": "agent_capacity", "kind": "const", "values": [150, 150, 200, 200, 150, 100]},
        {
            "id": "handle_minutes",
            "kind": "pmf",
            "pmf": {"values": [3, 6, 12], "probabilities": [0.5, 0.35, 0.15]},
        },
        {"id": "answered", "kind": "expr", "expr": "MIN(inbound_calls, agent_capacity)"},
        {"id": "waiting", "kind": "expr", "expr": "MAX(0, inbound_calls - answered)"},
        {"id": "abandoned", "kind": "expr", "expr": "waiting * 0.25"},
        {"id": "callbacks", "kind": "expr", "expr": "SHIFT(waiting - abandoned, 1)"},
        {"id": "talk_minutes", "kind": "expr", "expr": "answered * handle_minutes"},
    ],
    "outputs": [
        {"series": "inbound_calls", "as": "voice_inbound.csv"},
        {"series": "answered", "as": "answered.csv"},
        {"series": "abandoned", "as": "abandoned.csv"},
        {"series": "callbacks", "as": "callbacks.csv"},
    ],
}


def flowtime(*paths: Path) -> Flowtime:
    return Flowtime(host=create_plugin_host(load_entry_points=False), template_paths=paths)


def write(tmp_path: Path, text: str, name: str = "t.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_the_manifest_comes_from_metadata_and_parameters() -> None:
    tpl = load_upstream_file(CALL_CENTER)
    m = tpl.manifest
    assert (m.id, m.version, m.title, tpl.format, tpl.origin) == (
        "call-center",
        "1.1.0",
        "Call Center",
        FORMAT,
        str(CALL_CENTER),
    )
    assert m.description == "Inbound calls against agent capacity, with abandonment and callbacks"
    assert m.tags == ("beginner", "call-center", "queue", "capacity")
    assert m.parameters == {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "bins": {
                "type": "integer",
                "title": "Time Periods",
                "default": 6,
                "minimum": 1,
                "maximum": 6,
                "description": "Number of time periods to simulate",
            },
            "binSize": {
                "type": "integer",
                "title": "Minutes per Period",
                "default": 60,
                "minimum": 15,
                "maximum": 480,
                "description": "Duration of each time period",
            },
            "callPattern": {
                "type": "array",
                "title": "Inbound Calls",
                "default": [120, 180, 240, 210, 150, 90],
                "items": {"type": "number", "minimum": 0, "maximum": 10000},
                "description": "Calls arriving in each time period",
            },
            "agentCapacity": {
                "type": "array",
                "title": "Agent Capacity",
                "default": [150, 150, 200, 200, 150, 100],
                "items": {"type": "number", "minimum": 1},
                "description": "Calls the agents can answer in each time period",
            },
            "abandonRate": {
                "type": "number",
                "title": "Abandon Rate",
                "default": 0.25,
                "minimum": 0.0,
                "maximum": 1.0,
                "description": "Share of waiting callers who hang up (0.0-1.0)",
            },
            "channel": {
                "type": "string",
                "title": "Channel",
                "default": "voice",
                "enum": ["voice", "chat"],
                "description": "Which queue the model describes",
            },
            "rngSeed": {"type": "integer", "title": "Seed", "default": 42},
        },
    }


def test_defaults_render_the_converted_model() -> None:
    rendered = flowtime(CALL_CENTER).render("call-center")
    assert yaml.safe_load(rendered.text) == EXPECTED_MODEL
    assert parse_model(rendered.text).grid.bins == 6
    assert rendered.template.plugin == "templates-dir"


def test_parameters_are_substituted_with_their_types() -> None:
    sets = {
        "bins": 2,
        "binSize": 30,
        "callPattern": [5, 7],
        "agentCapacity": [6.5, 6.5],
        "abandonRate": 0.5,
        "channel": "chat",
        "rngSeed": 7,
    }
    model = yaml.safe_load(
        flowtime(CALL_CENTER).render("call-center", ParameterSources(sets=sets)).text
    )
    assert model["grid"] == {"bins": 2, "binSize": 30, "binUnit": "minutes"}
    assert model["rng"] == {"kind": "pcg32", "seed": 7}
    assert model["nodes"][0]["values"] == [5, 7]
    assert model["nodes"][1]["values"] == [6.5, 6.5]
    assert model["nodes"][5]["expr"] == "waiting * 0.5"
    assert model["outputs"][0] == {"series": "inbound_calls", "as": "chat_inbound.csv"}


def test_parameters_are_validated_against_the_converted_schema() -> None:
    with pytest.raises(ParameterError) as err:
        flowtime(CALL_CENTER).render(
            "call-center",
            ParameterSources(
                sets={
                    "callPattern": [1, -2, 3, 4, 5, 6],
                    "channel": "fax",
                    "abandonRate": 2,
                    "queue": 1,
                }
            ),
        )
    assert err.value.problems == [
        "unknown parameter(s) 'queue'; known parameters: abandonRate, agentCapacity, binSize, "
        "bins, callPattern, channel, rngSeed (template call-center 1.1.0)",
        "parameter 'abandonRate' = 2 is above the maximum 1.0 (template call-center 1.1.0)",
        "parameter 'callPattern[1]' = -2 is below the minimum 0 (template call-center 1.1.0)",
        "parameter 'channel' = 'fax' is not one of 'voice', 'chat' (template call-center 1.1.0)",
    ]


def test_a_value_never_changes_the_structure(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
metadata: {id: labels, title: Labels}
parameters:
  - {name: label, type: string, default: x}
grid: {bins: 1, binSize: 1, binUnit: hours}
nodes:
  - {id: a, kind: const, values: [1]}
  - {id: b, kind: expr, expression: "a"}
outputs:
  - {id: a, source: a, filename: "${label}"}
  - {id: b, source: b, filename: "copy of ${label}.csv"}
""",
    )
    hostile = "x.csv\nnodes: []\n- {id: evil}\n# ${label}: {{ }}"
    text = flowtime(path).render("labels", ParameterSources(sets={"label": hostile})).text
    model = parse_model(text)
    assert [n.id for n in model.nodes] == ["a", "b"]
    assert [o.as_ for o in model.outputs] == [hostile, f"copy of {hostile}.csv"]


def test_upstream_spellings_are_only_renamed_where_they_belong(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
metadata: {id: spellings, title: Spellings, description: "uses ${undeclared} in prose"}
parameters: []
schemaVersion: 1
grid: {bins: 2, binMinutes: 15}
nodes:
  - {id: source, kind: const, values: [1, 2], description: "inputs"}
  - {id: filename, kind: expr, expression: "source * 2", dependencies: [source]}
outputs:
  - {id: out, source: filename, filename: out.csv, description: doubled}
""",
    )
    model = yaml.safe_load(flowtime(path).render("spellings").text)
    assert model == {
        "schemaVersion": 1,
        "grid": {"bins": 2, "binSize": 15, "binUnit": "minutes"},
        "nodes": [
            {"id": "source", "kind": "const", "values": [1, 2]},
            {"id": "filename", "kind": "expr", "expr": "source * 2"},
        ],
        "outputs": [{"series": "filename", "as": "out.csv"}],
    }


def test_a_parameter_without_default_is_required(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
metadata: {id: needs, title: Needs, version: 2.0.0}
parameters:
  - {name: level, type: number}
grid: {bins: 1, binSize: 1, binUnit: days}
nodes:
  - {id: a, kind: const, values: ["${level}"]}
""",
    )
    ft = flowtime(path)
    assert ft.template("needs").manifest.parameters["required"] == ["level"]
    with pytest.raises(ParameterError) as err:
        ft.render("needs")
    assert str(err.value) == "parameter 'level' is required (template needs 2.0.0)"
    model = parse_model(ft.render("needs", ParameterSources(sets={"level": 4})).text)
    assert model.nodes[0].values == (4.0,)  # type: ignore[union-attr]


def test_an_undeclared_placeholder_is_a_template_error(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
metadata: {id: typo, title: Typo}
parameters:
  - {name: bins, type: integer, default: 2}
grid: {bins: "${binz}", binSize: "${size}", binUnit: hours}
nodes: []
""",
    )
    with pytest.raises(TemplateError) as err:
        flowtime(path).render("typo")
    assert str(err.value) == "template typo 1.0.0 uses undeclared parameter(s) binz, size"


def test_an_invalid_converted_model_names_the_template(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
metadata: {id: short, title: Short}
parameters:
  - {name: bins, type: integer, default: 3}
grid: {bins: "${bins}", binSize: 1, binUnit: hours}
nodes:
  - {id: a, kind: const, values: [1, 2]}
""",
    )
    with pytest.raises(TemplateError) as err:
        flowtime(path).render("short")
    assert str(err.value).startswith("template short 1.0.0 rendered an invalid model: ")
    assert "'a'" in str(err.value)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "nodes: []\n",
            "template file {} has no 'metadata' mapping; is it a FlowTime-Sim template?",
        ),
        ("- 1\n", "template file {} has no 'metadata' mapping; is it a FlowTime-Sim template?"),
        (
            "metadata: [1\n",
            "template file {} is not valid YAML: while parsing a flow sequence, did not find "
            "expected ',' or ']' at line 2, column 1",
        ),
        (
            "metadata: {id: Bad_Id}\n",
            "template file {}: template id 'bad_id' must match "
            "^[a-z0-9][a-z0-9-]{{0,63}}$ (lower-case letters, digits and "
            "'-')",
        ),
        (
            "metadata: {id: x, version: 1.0}\n",
            "template file {}: template 'x': version '1.0' is not a semantic version such as 1.2.0",
        ),
        (
            "metadata: {id: x}\nparameters: [{type: integer}]\n",
            "template file {}: every entry of 'parameters' needs a name",
        ),
    ],
)
def test_bad_upstream_files(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(UserError) as err:
        load_upstream_file(path)
    assert str(err.value) == message.format(repr(str(path)))


def test_missing_upstream_file(tmp_path: Path) -> None:
    with pytest.raises(UserError) as err:
        load_upstream_file(tmp_path / "gone.yaml")
    assert str(err.value) == (
        f"cannot read template file {str(tmp_path / 'gone.yaml')!r}: No such file or directory"
    )


def test_a_folder_offers_its_yaml_files(tmp_path: Path) -> None:
    write(tmp_path, CALL_CENTER.read_text(encoding="utf-8"), "call-center.yml")
    write(
        tmp_path, "metadata: {id: other, title: Other, version: 0.2.0}\nnodes: []\n", "other.yaml"
    )
    write(tmp_path, "not a template", "notes.txt")
    found = UpstreamTemplates([tmp_path]).flowtime_templates()
    assert sorted((t.id, t.version) for t in found) == [
        ("call-center", "1.1.0"),
        ("other", "0.2.0"),
    ]
    assert [t.id for t in UpstreamTemplates([CALL_CENTER]).flowtime_templates()] == ["call-center"]


def test_a_missing_path_or_bad_file_is_a_template_problem(tmp_path: Path) -> None:
    with pytest.raises(UserError) as err:
        UpstreamTemplates([tmp_path / "nowhere"]).flowtime_templates()
    assert str(err.value) == f"template path {str(tmp_path / 'nowhere')!r} does not exist"
    bad = write(tmp_path, "nodes: []\n", "bad.yaml")
    ft = flowtime(bad)
    assert ft.templates.problems == [
        f"plugin 'templates-dir': flowtime_templates failed: template file {str(bad)!r} has "
        "no 'metadata' mapping; is it a FlowTime-Sim template?"
    ]
