"""``list`` shows name, tags and visibility; ``show RUN`` summarises every series."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from click.testing import Result

from flowtime_sim.run_summary import summarise_binned_csv

MODEL = """\
schemaVersion: 1
grid: {bins: 4, binSize: 1, binUnit: hours, start: 2025-01-01T00:00:00Z}
nodes:
  - {id: demand, kind: const, values: [1, 5, 2, 5]}
  - {id: served, kind: expr, expr: "MIN(demand, 3)"}
"""


def test_list_shows_name_tags_and_visibility(cli: Callable[..., Result]) -> None:
    made = json.loads(
        cli(
            "new",
            "--template",
            "checkout",
            "--name",
            "Evening rush",
            "--tag",
            "demo",
            "--visibility",
            "team",
            "--json",
        ).stdout
    )
    lines = cli("list").stdout.splitlines()
    assert lines[0].split("\t") == [
        "id",
        "kind",
        "ver",
        "name",
        "from",
        "tags",
        "visibility",
        "created (UTC)",
    ]
    row = lines[1].split("\t")
    assert row[:5] == [made["model_id"], "model", "v1", "Evening rush", "checkout"]
    assert row[5].split(", ")[-1] == "demo" and row[6] == "team"


def test_show_run_summarises_each_series(cli: Callable[..., Result], tmp_path: Path) -> None:
    (tmp_path / "m.yaml").write_text(MODEL, encoding="utf-8")
    run_id = json.loads(cli("run", "--file", "m.yaml", "--json").stdout)["id"]
    lines = cli("show", run_id).stdout.splitlines()
    at = lines.index("# Series")
    assert lines[at + 1 : at + 4] == [
        "series\ttotal\tmin\tmax\tmean\tpeak bin",
        "demand\t13\t1\t5\t3.25\t1 (2025-01-01T01:00:00Z)",
        "served\t9\t1\t3\t2.25\t1 (2025-01-01T01:00:00Z)",
    ]
    doc = json.loads(cli("show", run_id, "--json").stdout)
    assert doc["summary"][1] == {
        "series": "served",
        "bins": 4,
        "total": 9.0,
        "min": 1.0,
        "max": 3.0,
        "mean": 2.25,
        "peak_bin": 1,
        "peak_time": "2025-01-01T01:00:00Z",
    }


def test_a_series_name_with_a_comma_and_no_start() -> None:
    rows = [b"bin,time_bin,series,value\n", b"0,,a,b,2\n", b"1,,a,b,-1\n", b"\n"]
    (only,) = summarise_binned_csv(rows)
    assert only.as_dict() == {
        "series": "a,b",
        "bins": 2,
        "total": 1.0,
        "min": -1.0,
        "max": 2.0,
        "mean": 0.5,
        "peak_bin": 0,
        "peak_time": None,
    }
