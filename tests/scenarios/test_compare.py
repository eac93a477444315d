"""``compare`` and ``diff``: figures per series, the bins where runs differ, charts."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from flowtime_sim.scenarios.compare import bin_ranges, differing_bins
from tests.scenarios.conftest import Cli


@pytest.fixture
def swept(sim_json: Any) -> dict[str, Any]:
    out: dict[str, Any] = sim_json(
        "sweep",
        "-t",
        "checkout",
        "--set",
        "bins=24",
        "--set",
        "bin_minutes=60",
        "--grid",
        "peak_factor=1,2,3",
        "--grid",
        "peak_start_hour=6",
        "--jobs",
        "1",
    )
    return out


def test_compare_a_sweep_as_json(sim_json: Any, swept: dict[str, Any]) -> None:
    doc = sim_json("compare", swept["sweep_id"], "--series", "arrivals", "--series", "orders")
    assert [r["run_id"] for r in doc["runs"]] == swept["runs"]
    assert [r["label"] for r in doc["runs"]] == [
        "peak_factor=1, peak_start_hour=6",
        "peak_factor=2, peak_start_hour=6",
        "peak_factor=3, peak_start_hour=6",
    ]
    assert [s["series"] for s in doc["series"]] == ["arrivals", "orders"]
    arrivals = doc["series"][0]
    totals = [r["total"] for r in arrivals["runs"]]
    assert totals[0] < totals[1] < totals[2]
    assert arrivals["differing_bins"] == [6, 7, 8]  # the 3-hour peak from 06:00
    assert arrivals["differs"] == "6-8"
    first = arrivals["runs"][2]
    assert (first["peak_bin"], first["peak_time"]) == (8, "2025-01-06T08:00:00Z")


def test_compare_runs_as_tables(sim: Cli, swept: dict[str, Any]) -> None:
    a, b = swept["runs"][0], swept["runs"][1]
    out = sim("compare", a, b, a, "--series", "capacity", "--series", "arrivals").stdout
    blocks = out.split("\n\n")
    assert blocks[0].splitlines() == [
        "# capacity",
        "run\ttotal\tpeak\tpeak bin",
        f"{a}\t7,200\t300\t0 (2025-01-06T00:00:00Z)",
        f"{b}\t7,200\t300\t0 (2025-01-06T00:00:00Z)",
        "  the same in every bin",
    ]
    assert blocks[1].splitlines()[-1] == "  differs in bins 6-8"


def test_compare_mistakes(sim: Cli, swept: dict[str, Any]) -> None:
    run = swept["runs"][0]
    assert sim("compare", run, "--series", "nope", code=1).stderr.startswith(
        "error: no series 'nope' in these runs; their series: arrivals, capacity, served,"
    )
    assert sim("compare", "nope_1", code=1).stderr == (
        "error: no run or sweep 'nope_1'; see 'flowtime-sim list'\n"
    )
    assert sim("compare", "../x", code=1).stderr.startswith("error: invalid run or sweep id '../x'")
    assert sim("compare", run, "--plot", "x.pdf", code=1).stderr == (
        "error: --plot 'x.pdf': the file must end in .svg, .png or .html\n"
    )


def test_plot_writes_one_svg_per_series(sim: Cli, swept: dict[str, Any], tmp_path: Path) -> None:
    out = sim(
        "compare",
        swept["sweep_id"],
        "--series",
        "arrivals",
        "--series",
        "checkout_queue",
        "--plot",
        str(tmp_path / "cmp.svg"),
    ).stdout
    written = [tmp_path / "cmp-arrivals.svg", tmp_path / "cmp-checkout_queue.svg"]
    assert out.splitlines()[-2:] == [f"wrote {p}" for p in written]
    svg = written[0].read_text()
    assert svg.startswith('<svg xmlns="http://www.w3.org/2000/svg" class="ft-chart"')
    assert '<text class="x-title"' in svg and "time (minutes from 2025-01-06T00:00:00Z)" in svg
    assert svg.count('<g class="line"') == 3
    # each point's value as a tooltip, at its time in the grid's unit (bin 8 = 480 minutes)
    assert re.search(r"<title>peak_factor=3, peak_start_hour=6: [0-9.]+ at 480</title>", svg)
    one = tmp_path / "one.svg"
    sim("compare", swept["runs"][0], "--series", "orders", "--plot", str(one))
    assert one.read_text().count('<g class="line"') == 1


def test_plot_html_and_png(sim: Cli, swept: dict[str, Any], tmp_path: Path) -> None:
    page = tmp_path / "cmp.html"
    sim("compare", swept["sweep_id"], "--series", "orders", "--plot", str(page))
    html = page.read_text()
    assert html.startswith("<!doctype html>") and "Comparison of 3 runs" in html
    assert html.count("<svg") == 1 and "<script" not in html
    pytest.importorskip("matplotlib")
    png = tmp_path / "cmp.png"
    sim("compare", swept["sweep_id"], "--series", "orders", "--plot", str(png))
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_differing_bins_and_ranges() -> None:
    assert differing_bins([[1, 2, 3], [1, 2.5, 3], [1, 2, 3, 4]]) == [1, 3]
    assert differing_bins([[1.0], [1.0 + 1e-12]]) == []
    assert differing_bins([[1, 2]]) == []
    assert bin_ranges([0, 1, 2, 5, 7, 8]) == "0-2, 5, 7-8"
    assert bin_ranges([]) == ""


def test_diff_two_models_with_runs(sim: Cli, sim_json: Any, swept: dict[str, Any]) -> None:
    a, b = swept["models"][0], swept["models"][2]
    doc = sim_json("diff", a, b)
    assert doc["parameters"] == [{"name": "peak_factor", "a": 1, "b": 3, "only_in": None}]
    assert doc["nodes"] == {"added": [], "removed": [], "changed": []}
    assert doc["runs"] == [swept["runs"][0], swept["runs"][2]]
    arrivals = next(s for s in doc["series"] if s["series"] == "arrivals")
    assert arrivals["differs"] == "6-8"
    text = sim("diff", a, b).stdout.splitlines()
    assert text[:5] == [
        f"a: {a} (checkout 1.2.0)",
        f"b: {b} (checkout 1.2.0)",
        "# parameters",
        "name\ta\tb",
        "peak_factor\t1\t3",
    ]
    assert f"# series ({swept['runs'][0]} vs {swept['runs'][2]})" in text


def test_diff_across_template_versions_and_without_runs(sim: Cli, sim_json: Any) -> None:
    old = sim_json("new", "-t", "checkout", "--version", "1.0.0", "--name", "Shop")
    new = sim_json("new", "-t", "checkout", "--name", "Shop", "--set", "peak_factor=2")
    doc = sim_json("diff", f"{old['model_id']}@v1", new["model_id"])
    assert doc["template"] == {"a": "checkout 1.0.0", "b": "checkout 1.2.0"}
    assert {p["name"]: p["only_in"] for p in doc["parameters"]}["decline_rate"] == "b"
    assert {n["id"] for n in doc["nodes"]["added"]} >= {"declined", "retries"}
    assert doc["series"] is None
    assert doc["notes"] == ["series not compared: run both versions to see how their series differ"]
    same = sim("diff", old["model_id"], f"{old['model_id']}@v1").stdout
    assert "the two versions have the same template, parameters and topology" in same
    assert sim("diff", "nope_1", old["model_id"], code=1).stderr.startswith(
        "error: no model 'nope_1'"
    )


def test_a_sweeps_deleted_run_is_left_out_and_named(sim: Cli, swept: dict[str, Any]) -> None:
    gone = swept["runs"][1]
    sim("delete", gone)
    result = sim("compare", swept["sweep_id"], "--series", "orders", "--json")
    assert (
        result.stderr == f"warning: run {gone} of the sweep is gone (deleted); compared "
        "without it\n"
    )
    doc = json.loads(result.stdout)
    assert doc["missing_runs"] == [gone]
    assert [r["run_id"] for r in doc["runs"]] == [swept["runs"][0], swept["runs"][2]]
    assert sim("compare", gone, code=1).stderr == (
        f"error: no run or sweep {gone!r}; see 'flowtime-sim list'\n"
    )
