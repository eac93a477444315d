"""Runs stored as artifacts: ids, idempotency, catalogs, listing."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from flowtime_sim.canonical import canonical_hash, file_hash
from flowtime_sim.engine import ENGINE_VERSION
from flowtime_sim.errors import ModelError, NotFoundError
from flowtime_sim.registry import Query
from flowtime_sim.registry.catalog import catalog_schema


def test_run_writes_csv_and_catalog(ft, root: Path) -> None:
    model = ft.create_model("tiny", name="Tiny").artifact
    created = ft.run_model(model.id, seed=42)
    run = created.artifact
    folder = root / "runs" / run.id
    catalog = json.loads((folder / "catalog.json").read_text())
    jsonschema.Draft202012Validator(catalog_schema()).validate(catalog)
    # the seed changes nothing in expected mode, so it is no part of the run's identity
    expected = canonical_hash(
        {
            "model_hash": model.catalog["model_hash"],
            "mode": "expected",
            "engine_version": ENGINE_VERSION,
        }
    )
    assert catalog["inputs_hash"] == expected
    assert run.id == f"tiny-run_{expected[7:15]}"
    assert catalog["model_id"] == model.id and catalog["model_version"] == 1
    assert catalog["seed"] == 0 and catalog["mode"] == "expected"
    assert catalog["files"] == {"binned_v0.csv": file_hash((folder / "binned_v0.csv").read_bytes())}
    assert catalog["series"] == ["served"]
    assert catalog["grid"] == {"bins": 4, "binSize": 1, "binUnit": "hours"}
    csv = (folder / "binned_v0.csv").read_bytes()
    assert csv.splitlines()[:3] == [b"bin,time_bin,series,value", b"0,,served,15", b"1,,served,15"]
    again = ft.run_model(model.id, seed=42)
    assert again.unchanged and again.artifact.id == run.id
    assert ft.run_model(model.id, seed=43).artifact.id == run.id
    assert ft.run_model(model.id).unchanged
    sample = ft.run_model(model.id, seed=42, mode="sample").artifact
    assert sample.id != run.id and sample.catalog["mode"] == "sample"
    assert sample.catalog["seed"] == 42
    assert sample.catalog["inputs_hash"] == canonical_hash(
        {
            "model_hash": model.catalog["model_hash"],
            "seed": 42,
            "mode": "sample",
            "engine_version": ENGINE_VERSION,
        }
    )
    other = ft.run_model(model.id, seed=43, mode="sample").artifact
    assert other.id not in (run.id, sample.id)
    all_runs = {run.id, sample.id, other.id}
    assert {r["id"] for r in ft.list(Query(kind="run")).items} == all_runs
    assert {r["id"] for r in ft.registry().runs_of(model.id)} == all_runs


def test_run_text_uses_the_file_stem(ft) -> None:
    text = (
        "schemaVersion: 1\ngrid: {bins: 2, binSize: 1, binUnit: hours}\n"
        "nodes:\n  - {id: a, kind: const, values: [1, 2]}\n"
    )
    run = ft.run_text(text, name="My Model").artifact
    assert run.id.startswith("my-model-run_")
    assert run.catalog["model_id"] is None and run.catalog["seed"] == 0


def test_run_errors(ft) -> None:
    with pytest.raises(NotFoundError, match="no model 'missing_00000000'"):
        ft.run_model("missing_00000000")
    with pytest.raises(ModelError, match="unknown node 'b'"):
        ft.run_text(
            "schemaVersion: 1\ngrid: {bins: 2, binSize: 1, binUnit: hours}\n"
            'nodes:\n  - {id: a, kind: expr, expr: "b + 1"}\n',
            name="bad",
        )
    model = ft.create_model("tiny").artifact
    with pytest.raises(Exception, match="mode 'fancy' must be 'expected' or 'sample'"):
        ft.run_model(model.id, mode="fancy")
