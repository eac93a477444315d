"""Placeholders anywhere — flow collections, quoted expressions, keys — with FlowTime-Sim's
meaning, and no value able to change a document's structure."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from flowtime_sim.upstream.placeholders import format_number, format_value, hide_placeholders
from tests.upstream.conftest import converted, write

FLOW_2025 = """\
metadata: {id: flow, title: Flow, version: 1.0.0}
parameters:
  - {name: bins, type: integer, default: 3}
  - {name: baseLoad, type: array, default: [10, 20, 30]}
  - {name: rate, type: number, default: 0.25}
  - {name: label, type: string, default: load}
  - {name: level, type: integer, default: 4}
grid: {bins: ${bins}, binSize: 1, binUnit: hours}
nodes:
  - {id: load, kind: const, values: ${baseLoad}}
  - {id: floor, kind: const, values: [${level}, "${level}", ${level}]}
  - {id: served, kind: expr, expression: "MIN(load, 20) * ${rate}"}
  - {id: spare, kind: expr, expression: 'load - ${level}'}
  - id: plain
    kind: expr
    expression: MAX(0, load - ${level})
outputs:
  - {source: served, filename: "${label}_served.csv"}
  - {source: load, filename: ${label}.csv}
"""


def test_placeholders_in_flow_collections_and_quoted_expressions(tmp_path: Path) -> None:
    model = converted(write(tmp_path, FLOW_2025))
    assert model == {
        "schemaVersion": 1,
        "grid": {"bins": 3, "binSize": 1, "binUnit": "hours"},
        "nodes": [
            {"id": "load", "kind": "const", "values": [10, 20, 30]},
            {"id": "floor", "kind": "const", "values": [4, 4, 4]},
            {"id": "served", "kind": "expr", "expr": "MIN(load, 20) * 0.25"},
            {"id": "spare", "kind": "expr", "expr": "load - 4"},
            {"id": "plain", "kind": "expr", "expr": "MAX(0, load - 4)"},
        ],
        "outputs": [
            {"series": "served", "as": "load_served.csv"},
            {"series": "load", "as": "load.csv"},
        ],
    }


HOSTILE = [
    "x\nnodes: []",
    "x}\n- {id: evil, kind: const}",
    "x'\"]], evil: [1",
    "${label}: {{ }} # comment",
    "a, b: c",
    "--- !!python/object:os.system\n...",
]


@pytest.mark.parametrize("hostile", HOSTILE)
def test_a_hostile_string_never_changes_the_structure(tmp_path: Path, hostile: str) -> None:
    """The string goes to a key, a whole flow value, a quoted value, the middle of a
    quoted expression, a plain scalar and a flow sequence item."""
    path = write(
        tmp_path,
        """\
generator: flowtime-sim
metadata: {id: hostile, title: Hostile, version: 1.0.0}
window: {start: 2025-01-01T00:00:00Z, timezone: UTC}
parameters:
  - {name: s, type: string, default: x}
grid: {bins: 1, binSize: 1, binUnit: hours}
nodes:
  - {id: a, kind: const, values: [1], metadata: {${s}: "${s}", tag: ${s}, pair: [${s}, '${s}']}}
  - {id: b, kind: expr, expr: "a * 2 # ${s}"}
outputs:
  - {series: a, as: ${s}}
  - {series: b, as: "b ${s}.csv"}
provenance: {generator: "flowtime-sim ${s}"}
""",
    )
    model = converted(path, s=hostile)
    assert list(model) == ["schemaVersion", "grid", "nodes", "outputs", "provenance"]
    assert [n["id"] for n in model["nodes"]] == ["a", "b"]
    assert model["nodes"][0]["metadata"] == {
        hostile: hostile,
        "tag": hostile,
        "pair": str([hostile, hostile]),
    }
    assert model["nodes"][1]["expr"] == f"a * 2 # {hostile}"
    assert model["outputs"] == [
        {"series": "a", "as": hostile},
        {"series": "b", "as": f"b {hostile}.csv"},
    ]
    assert model["provenance"]["generator"] == f"flowtime-sim {hostile}"


def test_a_spliced_plain_scalar_reads_as_it_would_after_substitution(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
metadata: {id: splice, title: Splice}
parameters:
  - {name: major, type: integer, default: 2}
  - {name: flag, type: string, default: "tr"}
grid: {bins: ${major}0, binSize: 1, binUnit: hours}
nodes:
  - {id: a, kind: const, values: [${major}.5, "${major}.5"], note: ${flag}ue}
""",
    )
    model = converted(path)
    assert model["grid"]["bins"] == 20
    assert model["nodes"][0]["values"] == [2.5, "2.5"]
    assert model["nodes"][0]["note"] is True


def test_sentinels_never_collide_with_the_text() -> None:
    text = "a: ftsimPLH0x0Z ${x}\nb: '${y}'\n"
    hidden, sentinels = hide_placeholders(text)
    assert sentinels.prefix == "ftsimPLH1x"
    assert hidden == "a: ftsimPLH0x0Z ftsimPLH1x0Z\nb: 'ftsimPLH1x1Z'\n"
    assert sentinels.names == ("x", "y")


def test_placeholders_in_comments_and_metadata_are_not_parameters(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
metadata: {id: notes, title: "Uses ${nothing}", description: "${nothing} either"}
parameters: []
# ${undeclared} in a comment
grid: {bins: 1, binSize: 1, binUnit: hours}
nodes: [{id: a, kind: const, values: [1]}]
""",
    )
    from flowtime_sim.upstream import load_upstream_file

    tpl = load_upstream_file(path)
    assert (tpl.manifest.title, tpl.manifest.description) == (
        "Uses ${nothing}",
        "${nothing} either",
    )
    assert converted(tpl)["nodes"] == [{"id": "a", "kind": "const", "values": [1]}]


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, "null"),
        (True, "true"),
        (False, "false"),
        (288, "288"),
        (288.0, "288"),
        (0.25, "0.25"),
        (0.1 + 0.2, "0.30000000000000004"),
        (1e15, "1E+15"),
        (1.5e15, "1.5E+15"),
        (123456789012345.0, "123456789012345"),
        (1e-5, "1E-05"),
        (1.25e-7, "1.25E-07"),
        (0.0001, "0.0001"),
        (-0.0, "-0"),
        (-2.5, "-2.5"),
        ([120, 135.5], "[120, 135.5]"),
        ([], "[]"),
        ("plain", "plain"),
        ("", '""'),
        ("two words", '"two words"'),
        ("a:b", '"a:b"'),
        ("#x", '"#x"'),
        ("[1, 2]", "[1, 2]"),
        ('"quoted here"', '"quoted here"'),
    ],
)
def test_values_are_formatted_as_flowtime_sim_formats_them(value: Any, text: str) -> None:
    assert format_value(value) == text


def test_non_finite_numbers_format_as_dotnet_does() -> None:
    assert [format_number(v) for v in (float("nan"), float("inf"), -float("inf"))] == [
        "NaN",
        "Infinity",
        "-Infinity",
    ]


def test_a_flow_style_template_through_the_cli(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = write(tmp_path, FLOW_2025, "flow.yaml")
    result = cli("new", "--template-file", str(path), "--set", "rate=0.5", "--out", "m.yaml")
    assert result.exit_code == 0, result.output
    assert result.stdout == "wrote m.yaml (template flow 1.0.0)\n"
    text = (tmp_path / "m.yaml").read_text(encoding="utf-8")
    assert "expr: MIN(load, 20) * 0.5" in text
