"""Running converted current-format templates. These need an engine that evaluates SPEC §5a
(topology, queues, routers, classes accepted), unlike every other test of this folder, which
asserts on the converted document only."""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result

from tests.upstream.conftest import CLINIC, FIXTURES

Cli = Callable[..., Result]
PACKING = FIXTURES / "packing-line.yaml"


def binned(folder: Path) -> dict[str, list[float]]:
    rows = csv.DictReader(io.StringIO((folder / "binned_v0.csv").read_text(encoding="utf-8")))
    out: dict[str, list[float]] = {}
    for row in rows:
        out.setdefault(row["series"], []).append(float(row["value"]))
    return out


def create_and_run(cli: Cli, template: Path, *extra: str) -> tuple[dict[str, str], Path]:
    made = cli("new", "--template-file", str(template), "--root", "arts", "--json")
    assert made.exit_code == 0, made.output
    model_id = json.loads(made.stdout)["model_id"]
    ran = cli("run", "--model", model_id, "--root", "arts", "--json", *extra)
    assert ran.exit_code == 0, ran.output
    out: dict[str, str] = json.loads(ran.stdout)
    return out, Path("arts") / "runs" / out["run_id"]


def test_a_queue_under_a_dispatch_schedule(cli: Cli, tmp_path: Path) -> None:
    """Q[-1] = 5, inflow 10 per bin, 15 released in bins 1 and 3 (period 2, phase 1):
    15, 10, 20, 15."""
    _, folder = create_and_run(cli, PACKING)
    series = binned(tmp_path / folder)
    assert series["staging_queue"] == [15, 10, 20, 15]
    assert series["packed"] == [15, 15, 15, 15]


def test_the_clinic_runs_with_its_router_classes_and_sink(cli: Cli, tmp_path: Path) -> None:
    _, folder = create_and_run(cli, CLINIC)
    series = binned(tmp_path / folder)
    assert {"treatment_queue_queue", "discharge_served", "walk_ins"} <= set(series)


def test_a_current_template_run_in_flowtime_layout(cli: Cli, tmp_path: Path) -> None:
    out, _ = create_and_run(cli, PACKING, "--format", "flowtime", "--flowtime-dir", "ft")
    folder = tmp_path / out["flowtime_run"]
    assert (folder / "series" / "staging_queue@STAGING_QUEUE@DEFAULT.csv").read_text() == (
        "bin_index,value\n0,15\n1,10\n2,20\n3,15\n"
    )
    index = json.loads((folder / "series" / "index.json").read_text())
    kinds = {s["id"]: s["kind"] for s in index["series"]}
    assert kinds["staging_queue@STAGING_QUEUE@DEFAULT"] == "stock"
    metadata = json.loads((folder / "model" / "metadata.json").read_text())
    assert (metadata["templateId"], metadata["templateVersion"]) == ("packing-line", "1.0.0")
    assert (
        'queueDepth: "file:series/staging_queue@STAGING_QUEUE@DEFAULT.csv"'
        in (folder / "spec.yaml").read_text()
    )


def test_an_edited_current_template_is_the_next_model_version(cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "packing.yaml"
    path.write_text(PACKING.read_text(encoding="utf-8"), encoding="utf-8")
    first = json.loads(cli("new", "--template-file", str(path), "--root", "arts", "--json").stdout)
    path.write_text(
        path.read_text(encoding="utf-8").replace("version: 1.0.0", "version: 1.1.0"),
        encoding="utf-8",
    )
    second = json.loads(cli("new", "--template-file", str(path), "--root", "arts", "--json").stdout)
    assert (second["model_id"], second["version"]) == (first["model_id"], 2)


_DIR = os.environ.get("FLOWTIME_TEMPLATES_DIR", "")
CURATED = sorted(Path(_DIR).glob("*.yaml")) if _DIR else []


@pytest.mark.skipif(not CURATED, reason="FLOWTIME_TEMPLATES_DIR not set")
@pytest.mark.parametrize("path", CURATED, ids=[p.stem for p in CURATED])
def test_a_curated_template_runs_with_its_defaults(cli: Cli, tmp_path: Path, path: Path) -> None:
    _, folder = create_and_run(cli, path)
    assert binned(tmp_path / folder)
