"""``sweep``: every combination a model and a run, the sweep an artifact, reruns fill gaps."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import jsonschema
import pytest

from tests.scenarios.conftest import Cli, folders, model_versions

CLI = str(Path(sys.executable).parent / "flowtime-sim")
SCHEMA = Path(__file__).resolve().parents[2] / "docs" / "catalog.schema.json"
GRID = ("--grid", "peak_factor=1,1.5,2", "--grid", "base_capacity=200..500:100")


def test_a_3_by_4_sweep_makes_12_models_12_runs_and_one_sweep(
    sim: Cli, artifacts_root: Path
) -> None:
    out = json.loads(sim("sweep", "-t", "checkout", *GRID, "--jobs", "2", "--json").stdout)
    assert out["status"] == "created"
    assert (out["scenarios"], out["models_created"], out["runs_created"]) == (12, 12, 12)
    assert len(model_versions(artifacts_root)) == 12
    assert all(v.endswith("/v1") for v in model_versions(artifacts_root))
    assert len(folders(artifacts_root, "runs")) == 12
    assert folders(artifacts_root, "sweeps") == [out["sweep_id"]]
    assert out["sweep_id"].startswith("checkout-sweep_")

    catalog = json.loads(
        (artifacts_root / "sweeps" / out["sweep_id"] / "catalog.json").read_bytes()
    )
    jsonschema.validate(catalog, json.loads(SCHEMA.read_text()))
    assert catalog["grid"] == [
        {"parameter": "peak_factor", "values": [1, 1.5, 2]},
        {"parameter": "base_capacity", "values": [200, 300, 400, 500]},
    ]
    assert [s["parameters"] for s in catalog["scenarios"]][:2] == [
        {"peak_factor": 1, "base_capacity": 200},
        {"peak_factor": 1, "base_capacity": 300},
    ]
    assert sorted(s["run_id"] for s in catalog["scenarios"]) == sorted(out["runs"])
    model = json.loads(sim("show", catalog["scenarios"][5]["model_id"], "--json").stdout)
    assert (model["parameters"]["peak_factor"], model["parameters"]["base_capacity"]) == (1.5, 300)
    assert model["name"] == "checkout peak_factor=1.5, base_capacity=300"

    listed = json.loads(sim("list", "--kind", "sweep", "--json").stdout)
    assert [a["id"] for a in listed["artifacts"]] == [out["sweep_id"]]
    sim("reindex")
    listed = json.loads(sim("list", "--kind", "sweep", "--json").stdout)
    assert [a["id"] for a in listed["artifacts"]] == [out["sweep_id"]]
    assert "checked 25 artifact folder(s)" in sim("verify").stdout


def test_running_a_sweep_again_creates_nothing(sim: Cli, artifacts_root: Path) -> None:
    first = sim("sweep", "-t", "checkout", *GRID, "--jobs", "1")
    assert first.stdout.splitlines()[0].startswith("created sweep checkout-sweep_")
    assert first.stdout.splitlines()[0].endswith(
        ": 12 scenarios, 12 model(s) and 12 run(s) created"
    )
    before = sorted(
        p.relative_to(artifacts_root) for p in artifacts_root.rglob("*") if ".index" not in p.parts
    )
    again = sim("sweep", "-t", "checkout", *GRID)
    sweep_id = first.stdout.split()[2].rstrip(":")
    assert again.stdout.splitlines()[0] == (
        f"unchanged sweep {sweep_id}: 12 scenarios, nothing created"
    )
    after = sorted(
        p.relative_to(artifacts_root) for p in artifacts_root.rglob("*") if ".index" not in p.parts
    )
    assert after == before
    table = again.stdout.splitlines()[2:]
    assert table[0] == "peak_factor\tbase_capacity\tmodel\trun"
    assert len(table) == 13


def test_a_deleted_run_is_reported_not_silently_listed(sim: Cli, sim_json) -> None:
    out = sim_json("sweep", "-t", "checkout", "--grid", "peak_factor=1,2", "--jobs", "1")
    sim("delete", out["runs"][1])
    again = sim("sweep", "-t", "checkout", "--grid", "peak_factor=1,2", "--jobs", "1")
    # run ids are deterministic and a deleted id stays taken: the sweep cannot make it again
    assert again.stderr == (
        f"warning: run {out['runs'][1]} (peak_factor=2) was deleted and "
        "keeps its id; the sweep lists it, but it cannot be read\n"
    )
    assert again.stdout.splitlines()[0] == (
        f"unchanged sweep {out['sweep_id']}: 2 scenarios, nothing created"
    )


@pytest.mark.slow
def test_a_killed_sweep_resumes_without_duplicates(artifacts_root: Path) -> None:
    args = [CLI, "sweep", "-t", "checkout", "--set", "bins=1440", *GRID, "--jobs", "1", "--json"]
    proc = subprocess.Popen(
        args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True
    )
    try:
        while len(folders(artifacts_root, "runs")) < 3 and proc.poll() is None:
            time.sleep(0.005)
    finally:
        with contextlib.suppress(ProcessLookupError):  # it may have ended on its own
            os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
    runs_at_kill = folders(artifacts_root, "runs")
    assert 3 <= len(runs_at_kill) < 12, "the sweep finished before it could be killed"
    assert folders(artifacts_root, "sweeps") == []

    done = subprocess.run(args, capture_output=True, text=True, check=True)
    out = json.loads(done.stdout)
    assert out["status"] == "created"
    assert out["runs_created"] == 12 - len(runs_at_kill)
    assert len(folders(artifacts_root, "runs")) == 12
    assert set(runs_at_kill) <= set(out["runs"])
    versions = model_versions(artifacts_root)
    assert len(versions) == 12 and all(v.endswith("/v1") for v in versions)
    assert folders(artifacts_root, "sweeps") == [out["sweep_id"]]
    listed = subprocess.run(
        [CLI, "list", "--kind", "run", "--limit", "100", "--json"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert sorted(a["id"] for a in json.loads(listed)["artifacts"]) == sorted(out["runs"])


def test_a_sweep_from_a_model_derives_each_scenario(sim_json) -> None:
    base = sim_json("new", "-t", "checkout", "--name", "Shop", "--set", "bins=24")
    out = sim_json("sweep", "--from", base["model_id"], "--grid", "peak_factor=2,3", "--jobs", "1")
    assert out["sweep_id"].startswith("shop-sweep_")
    first = sim_json("show", out["models"][0])
    assert first["derived_from"] == f"{base['model_id']}@v1"
    assert first["parameters"]["bins"] == 24
    assert first["parameters"]["peak_factor"] == 2


def test_seed_mode_and_fixed_values_make_another_sweep(sim_json) -> None:
    a = sim_json("sweep", "-t", "checkout", "--grid", "peak_factor=1,2", "--jobs", "1")
    b = sim_json(
        "sweep",
        "-t",
        "checkout",
        "--grid",
        "peak_factor=1,2",
        "--jobs",
        "1",
        "--sample",
        "--seed",
        "7",
    )
    c = sim_json(
        "sweep", "-t", "checkout", "--grid", "peak_factor=1,2", "--jobs", "1", "--set", "bins=24"
    )
    assert len({a["sweep_id"], b["sweep_id"], c["sweep_id"]}) == 3
    assert b["models_created"] == 0 and b["runs_created"] == 2  # same models, sampled runs


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--grid", "peak_factor=1"), "error: give exactly one of --template T and --from ID\n"),
        (
            ("-t", "checkout", "--from", "x_1", "--grid", "peak_factor=1"),
            "error: give exactly one of --template T and --from ID\n",
        ),
        (
            ("-t", "checkout", "--grid", "peak_factor=1,-1,-2"),
            "error: the grid has invalid values: parameter 'peak_factor' = -1 is below the "
            "minimum 0 (template checkout 1.2.0); parameter 'peak_factor' = -2 is below the "
            "minimum 0 (template checkout 1.2.0)\n",
        ),
        (
            ("-t", "checkout", "--set", "peak_factor=2", "--grid", "peak_factor=1"),
            "error: peak_factor is given both in --set and in --grid; give it in one of them\n",
        ),
        (("--from", "nope_12345678", "--grid", "peak_factor=1"), None),
        (("--from", "x_1", "--version", "1.0.0", "--grid", "peak_factor=1"), None),
    ],
)
def test_mistakes_are_one_line_errors(sim: Cli, args: tuple[str, ...], message: str | None) -> None:
    result = sim("sweep", *args, code=1)
    if message is not None:
        assert result.stderr == message
    else:
        assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1
    assert result.stdout == ""


@pytest.mark.slow
def test_a_sweep_shows_a_progress_bar_on_a_terminal(tmp_path: Path) -> None:
    import pty

    from tests.cli.test_run_cli import _read_until_exit

    env = {
        **os.environ,
        "FLOWTIME_ARTIFACTS_ROOT": str(tmp_path / "root"),
        "COLUMNS": "120",
        "TERM": "xterm",
    }
    pid, fd = pty.fork()
    if pid == 0:  # the child: its stdout and stderr are the pseudo-terminal
        os.execve(
            CLI, [CLI, "sweep", "-t", "checkout", "--set", "bins=2880", *GRID, "--jobs", "2"], env
        )
    try:
        screen = _read_until_exit(fd, pid, timeout=300).decode("utf-8", "replace")
    finally:
        os.close(fd)
        _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, screen
    assert "scenarios" in screen and "━" in screen  # rich's bar, drawn while scenarios run
    assert "created sweep checkout-sweep_" in screen
