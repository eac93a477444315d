"""Runs written in FlowTime's run layout (``run --format flowtime``)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result

from flowtime_sim.errors import UserError
from flowtime_sim.flowtime_layout import (
    flowtime_run_files,
    number_text,
    read_binned_csv,
    series_kind,
    write_run_folder,
)

Cli = Callable[..., Result]

MODEL = """\
schemaVersion: 1
grid: {bins: 3, binSize: 60, binUnit: minutes, start: 2025-01-01T00:00:00Z}
nodes:
  - {id: demand, kind: const, values: [10, 20, 30]}
  - {id: served, kind: expr, expr: "demand * 0.1"}
outputs:
  - {series: served}
  - {series: demand}
"""


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (10.0, "10"),
        (0.1 + 0.2, "0.30000000000000004"),
        (1e20, "100000000000000000000"),
        (1e-7, "0.0000001"),
        (-0.0, "-0"),
        (float("nan"), "NaN"),
        (float("inf"), "inf"),
        (float("-inf"), "-inf"),
        (2.5, "2.5"),
    ],
)
def test_numbers_as_flowtime_writes_them(value: float, text: str) -> None:
    assert number_text(value) == text


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("hub_queue", "stock"),
        ("backlog_depth", "stock"),
        ("WipCount", "stock"),
        ("desk_utilization", "ratio"),
        ("flow_efficiency", "ratio"),
        ("q_ratio", "ratio"),
        ("cycle_time_ms", "time"),
        ("latency_min", "time"),
        ("x_kingman_wq", "time"),
        ("served", "flow"),
    ],
)
def test_series_kinds(name: str, kind: str) -> None:
    assert series_kind(name) == kind


def test_the_files_of_a_run() -> None:
    text = MODEL.replace(
        "outputs:",
        """\
classes: [{id: Gold, displayName: Gold tier}]
topology:
  nodes:
    - id: Desk
      kind: service
      semantics:
        arrivals: demand
        served: 'served'
provenance: {templateId: desk, templateVersion: 1.0.0, parameters: {rate: 0.1}}
outputs:""",
    )
    import yaml

    files = flowtime_run_files(
        run_id="run_x",
        model_text=text,
        model=yaml.safe_load(text),
        series={
            "served": [1.0, 2.0, 3.0],
            "served@Gold": [0.5, 1.0, 1.5],
            "demand": [10.0, 20.0, 30.0],
        },
        created_utc="2026-01-01T00:00:00Z",
        engine_version="flowtime-sim/1.0.0",
        inputs_hash="sha256:ab",
        seed=None,
        warnings=["pmf 'x' renormalised"],
    )
    assert sorted(files) == [
        "manifest.json",
        "model/metadata.json",
        "model/model.yaml",
        "run.json",
        "series/demand@DEMAND@DEFAULT.csv",
        "series/index.json",
        "series/served@SERVED@DEFAULT.csv",
        "series/served@SERVED@Gold.csv",
        "spec.yaml",
    ]
    assert files["series/served@SERVED@Gold.csv"] == b"bin_index,value\n0,0.5\n1,1\n2,1.5\n"
    model_hash = "sha256:" + hashlib.sha256(text.encode()).hexdigest()
    index = json.loads(files["series/index.json"])
    assert index["grid"] == {"bins": 3, "binSize": 60, "binUnit": "minutes"}
    assert index["classes"] == [{"id": "Gold", "displayName": "Gold tier", "description": ""}]
    assert index["classesCoverage"] == "full"
    gold = files["series/served@SERVED@Gold.csv"]
    assert index["series"][1] == {
        "id": "served@SERVED@Gold",
        "kind": "flow",
        "path": "series/served@SERVED@Gold.csv",
        "unit": "entities/bin",
        "componentId": "SERVED",
        "class": "Gold",
        "classKind": "specific",
        "points": 3,
        "hash": "sha256:" + hashlib.sha256(gold).hexdigest(),
    }
    assert index["series"][0]["classKind"] == "fallback"
    run = json.loads(files["run.json"])
    assert (run["runId"], run["modelHash"], run["inputHash"], run["source"]) == (
        "run_x",
        model_hash,
        "sha256:ab",
        "engine",
    )
    assert run["grid"] == {
        "bins": 3,
        "binSize": 60,
        "binUnit": "minutes",
        "timezone": "UTC",
        "align": "left",
    }
    assert run["warnings"] == [
        {"nodeId": "", "code": "warning", "message": "pmf 'x' renormalised", "severity": "warning"}
    ]
    manifest = json.loads(files["manifest.json"])
    assert manifest["seriesHashes"]["served@SERVED@Gold"] == index["series"][1]["hash"]
    assert manifest["provenance"] == {
        "hasProvenance": True,
        "templateId": "desk",
        "inputHash": "sha256:ab",
    }
    assert manifest["rng"] == {"kind": "none", "seed": 0}
    metadata = json.loads(files["model/metadata.json"])
    assert (metadata["templateId"], metadata["templateVersion"], metadata["parameters"]) == (
        "desk",
        "1.0.0",
        {"rate": 0.1},
    )
    assert files["model/model.yaml"] == text.encode()
    spec = files["spec.yaml"].decode()
    assert '        arrivals: "file:series/demand@DEMAND@DEFAULT.csv"\n' in spec
    assert '        served: "file:series/served@SERVED@DEFAULT.csv"\n' in spec
    assert "  - {id: demand, kind: const" in spec  # list items are left alone


def test_the_folder_is_written_once(tmp_path: Path) -> None:
    folder = write_run_folder(
        {"run.json": b"{}", "series/a@A@DEFAULT.csv": b"x"}, tmp_path / "runs" / "run_a"
    )
    assert sorted(str(p.relative_to(folder)) for p in folder.rglob("*")) == [
        "aggregates",
        "run.json",
        "series",
        "series/a@A@DEFAULT.csv",
    ]
    with pytest.raises(UserError) as err:
        write_run_folder({"run.json": b"{}"}, folder)
    assert str(err.value) == (
        f"FlowTime run folder {str(folder)!r} already exists; remove it "
        "or choose another --flowtime-dir"
    )
    with pytest.raises(UserError) as err:
        write_run_folder({"series/../../x.csv": b"x"}, tmp_path / "runs" / "run_b")
    assert str(err.value) == "series name 'series/../../x.csv' would leave the run folder"
    assert sorted(p.name for p in (tmp_path / "runs").iterdir()) == ["run_a"]


def test_read_binned_csv() -> None:
    data = b"bin,time_bin,series,value\n0,,a,1\n1,,a,0.5\n0,,b@X,2\n1,,b@X,3\n"
    assert read_binned_csv(data) == {"a": [1.0, 0.5], "b@X": [2.0, 3.0]}


def test_run_format_flowtime_from_a_file(cli: Cli, tmp_path: Path) -> None:
    (tmp_path / "hello.yaml").write_text(MODEL, encoding="utf-8")
    result = cli(
        "run",
        "--file",
        "hello.yaml",
        "--root",
        "arts",
        "--format",
        "flowtime",
        "--flowtime-dir",
        "ft",
    )
    assert result.exit_code == 0, result.output
    run_id = result.stdout.split()[2]
    folder = Path("ft") / f"run_{run_id}"
    assert result.stdout.endswith(f"  FlowTime run: {folder}\n")
    assert (tmp_path / folder / "series" / "served@SERVED@DEFAULT.csv").read_text() == (
        "bin_index,value\n0,1\n1,2\n2,3\n"
    )
    again = cli(
        "run",
        "--file",
        "hello.yaml",
        "--root",
        "arts",
        "--format",
        "flowtime",
        "--flowtime-dir",
        "ft",
    )
    assert again.exit_code == 1
    assert again.stderr.strip().endswith(
        f"FlowTime run folder {str(folder)!r} already exists; "
        "remove it or choose another --flowtime-dir"
    )


def test_run_format_flowtime_of_a_stored_model_as_json(cli: Cli, tmp_path: Path) -> None:
    (tmp_path / "hello.yaml").write_text(MODEL, encoding="utf-8")
    made = cli("new", "--template-file", str(_template(tmp_path)), "--root", "arts", "--json")
    assert made.exit_code == 0, made.output
    model_id = json.loads(made.stdout)["model_id"]
    result = cli(
        "run",
        "--model",
        model_id,
        "--root",
        "arts",
        "--format",
        "flowtime",
        "--flowtime-dir",
        "ft",
        "--json",
    )
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    folder = tmp_path / out["flowtime_run"]
    assert out["flowtime_run"] == f"ft/run_{out['run_id']}"
    metadata = json.loads((folder / "model" / "metadata.json").read_text())
    assert metadata["templateId"] == "adhoc-model"  # a 2025 template records no provenance
    assert (folder / "model" / "model.yaml").read_text() == (
        tmp_path / "arts" / "models" / model_id / "v1" / "model.yaml"
    ).read_text()


def _template(folder: Path) -> Path:
    path = folder / "tiny.yaml"
    path.write_text(
        """\
metadata: {id: tiny, title: Tiny, version: 1.0.0}
parameters: [{name: level, type: number, default: 2}]
grid: {bins: 2, binSize: 1, binUnit: hours}
nodes: [{id: a, kind: const, values: [1, "${level}"]}]
""",
        encoding="utf-8",
    )
    return path
