"""``show SWEEP_ID`` and ``delete SWEEP_ID``: a sweep is shown and deleted like a run."""

from __future__ import annotations

import json
from pathlib import Path

from tests.scenarios.conftest import Cli, folders

GRID = ("--grid", "peak_factor=1,2")


def test_show_prints_a_sweep_and_its_scenarios(sim: Cli) -> None:
    made = json.loads(sim("sweep", "-t", "checkout", *GRID, "--jobs", "1", "--json").stdout)
    sweep_id = made["sweep_id"]
    text = sim("show", sweep_id).stdout.splitlines()
    assert text[:2] == ["kind\tsweep", f"id\t{sweep_id}"]
    assert "template_id\tcheckout" in text
    grid = text.index("# Grid")
    assert text[grid : grid + 3] == ["# Grid", "parameter\tvalues", "peak_factor\t[1, 2]"]
    table = text[text.index("peak_factor\tmodel\trun") :]
    assert table[1:] == [
        f"1\t{made['models'][0]}\t{made['runs'][0]}",
        f"2\t{made['models'][1]}\t{made['runs'][1]}",
    ]

    shown = json.loads(sim("show", sweep_id, "--json").stdout)
    assert (shown["kind"], shown["id"], shown["missing_runs"]) == ("sweep", sweep_id, [])
    assert [s["run_id"] for s in shown["scenarios"]] == made["runs"]

    sim("delete", made["runs"][1])
    gone = sim("show", sweep_id)
    assert gone.stderr == f"warning: run {made['runs'][1]} of the sweep is gone (deleted)\n"
    assert json.loads(sim("show", sweep_id, "--json").stdout)["missing_runs"] == [made["runs"][1]]


def test_a_sweep_has_no_versions(sim: Cli, artifacts_root: Path) -> None:
    made = json.loads(sim("sweep", "-t", "checkout", *GRID, "--jobs", "1", "--json").stdout)
    result = sim("show", f"{made['sweep_id']}@v1", code=1)
    assert result.stderr == (
        f"error: no model {made['sweep_id']!r} in {artifacts_root}; see 'flowtime-sim list'\n"
    )


def test_delete_hides_a_sweep_and_keeps_its_models_and_runs(sim: Cli, artifacts_root: Path) -> None:
    made = json.loads(sim("sweep", "-t", "checkout", *GRID, "--jobs", "1", "--json").stdout)
    sweep_id = made["sweep_id"]
    assert sim("delete", sweep_id).stdout == (
        f"deleted sweeps/{sweep_id} (files are purged by 'flowtime-sim gc' after its grace "
        "period)\n"
    )
    assert json.loads(sim("list", "--kind", "sweep", "--json").stdout)["artifacts"] == []
    listed = json.loads(sim("list", "--json").stdout)["artifacts"]
    assert sorted(a["kind"] for a in listed) == ["model", "model", "run", "run"]
    assert sim("show", sweep_id, code=1).stderr == (
        f"error: no model {sweep_id!r} in {artifacts_root}; see 'flowtime-sim list'\n"
    )
    assert sim("delete", sweep_id, code=1).stderr == (
        f"error: no model {sweep_id!r} in {artifacts_root}; see 'flowtime-sim list'\n"
    )
    sim("compare", made["runs"][0], made["runs"][1])  # the runs are there to compare

    again = sim("sweep", "-t", "checkout", *GRID, "--jobs", "1", code=1)
    assert again.stderr == (
        f"error: sweep {sweep_id} was deleted and keeps its id; its models and runs are still "
        "stored: compare or show them by their ids, or change the grid, --set or --seed for "
        "a new sweep\n"
    )

    sim("reindex")  # the tombstone keeps it out of a rebuilt listing
    assert json.loads(sim("list", "--kind", "sweep", "--json").stdout)["artifacts"] == []
    assert "checked 5 artifact folder(s)" in sim("verify").stdout
    assert sim("gc", "--grace", "0").stdout.startswith("purged 1 deleted artifact(s)")
    assert folders(artifacts_root, "sweeps") == []
    assert "checked 4 artifact folder(s)" in sim("verify").stdout
