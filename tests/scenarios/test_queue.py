"""``sweep --queue`` and ``worker``: runs through the PostgreSQL job queue, published once
however often a job is delivered."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from flowtime_sim.scenarios.jobqueue import QueuedRun, batches, queue_name
from tests.scenarios.conftest import Cli, folders, model_versions

CLI = str(Path(sys.executable).parent / "flowtime-sim")
GRID = ("--grid", "peak_factor=1,2", "--grid", "base_capacity=200,300")
SWEEP = ("sweep", "-t", "checkout", "--set", "bins=1440", *GRID, "--queue")
NO_PG = (
    "needs a PostgreSQL index, where the job queue lives: give --index "
    "postgresql://USER@HOST/DB or set FLOWTIME_SIM_INDEX\n"
)


@pytest.fixture
def team(pg_url: str, artifacts_root: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The environment of this test's root with the shared PostgreSQL index (each root has
    its own queue, so tests sharing the database never run each other's jobs)."""
    monkeypatch.setenv("FLOWTIME_SIM_INDEX", pg_url)
    return {**os.environ, "FLOWTIME_ARTIFACTS_ROOT": str(artifacts_root)}


def workers(env: dict[str, str], count: int) -> list[str]:
    """``count`` worker processes started together, each until the queue is empty; their
    standard output."""
    procs = [
        subprocess.Popen(
            [CLI, "worker", "--until-empty"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(count)
    ]
    outs = []
    for proc in procs:
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
        assert err.startswith("note: worker for "), err
        outs.append(out)
    return outs


def rows(pg_url: str, root: Path, kind: str) -> list[tuple[str, int, str]]:
    import psycopg

    with psycopg.connect(pg_url, autocommit=True) as conn:
        found = conn.execute(
            "SELECT id, version, state FROM flowtime_artifacts WHERE root=%s AND kind=%s "
            "ORDER BY id, version",
            (str(root), kind),
        ).fetchall()
    return [(str(i), int(v), str(s)) for i, v, s in found]


def jobs_of(pg_url: str, root: Path) -> list[Any]:
    import psycopg

    with psycopg.connect(pg_url, autocommit=True) as conn:
        return [
            r[0]
            for r in conn.execute(
                "SELECT args FROM procrastinate_jobs WHERE queue_name=%s ORDER BY id",
                (queue_name(str(root)),),
            )
        ]


def defer_again(pg_url: str, root: Path, args: list[Any]) -> None:
    """The same jobs once more, as a redelivery or a second deferral would bring them."""
    import psycopg
    from psycopg.types.json import Jsonb

    with psycopg.connect(pg_url, autocommit=True) as conn:
        for a in args:
            conn.execute(
                "INSERT INTO procrastinate_jobs (queue_name, task_name, args) VALUES (%s, %s, %s)",
                (queue_name(str(root)), "flowtime_sim.sweep_runs", Jsonb(a)),
            )


@pytest.mark.slow
def test_a_queued_sweep_is_run_by_two_workers_and_each_run_is_published_once(
    sim: Cli, team: dict[str, str], pg_url: str, artifacts_root: Path
) -> None:
    out = json.loads(sim(*SWEEP, "--no-wait", "--batch", "1", "--json").stdout)
    assert (out["status"], out["scenarios"], out["stored"]) == ("queued", 4, 0)
    assert (out["jobs_queued"], out["jobs_open"], out["models_created"]) == (4, 4, 4)
    assert folders(artifacts_root, "runs") == []
    sweep_id = out["sweep_id"]

    again = sim(*SWEEP, "--no-wait")  # the jobs are waiting: nothing is queued twice
    assert again.stdout == (
        f"queued sweep {sweep_id}: 4 scenarios, 0 run(s) stored, 4 job(s) waiting or running\n"
        "  start 'flowtime-sim worker' with the same --root and --index to run them; the "
        "worker that stores the last run stores the sweep\n"
        "  (run this sweep again to see how far it got)\n"
    )
    assert len(jobs_of(pg_url, artifacts_root)) == 4

    outs = workers(team, 2)
    created = [line.split()[2] for o in outs for line in o.splitlines() if "created run" in line]
    assert sorted(created) == sorted(out["runs"])  # every run made once, by one of them
    assert sum(int(o.splitlines()[-1].split()[2]) for o in outs) == 4
    assert jobs_of(pg_url, artifacts_root) == []  # finished jobs are removed
    # the worker that stored the last run stored the sweep (--no-wait: no sweeper waits)
    stored = [line for o in outs for line in o.splitlines() if line.startswith("stored sweep")]
    assert stored == [f"stored sweep {sweep_id}: 4 scenarios"]
    assert rows(pg_url, artifacts_root, "sweep") == [(sweep_id, 0, "visible")]

    assert sim(*SWEEP).stdout.splitlines()[0] == (
        f"unchanged sweep {sweep_id}: 4 scenarios, nothing created"
    )
    assert rows(pg_url, artifacts_root, "run") == [(r, 0, "visible") for r in sorted(out["runs"])]
    assert len(folders(artifacts_root, "runs")) == 4
    assert all(v.endswith("/v1") for v in model_versions(artifacts_root))
    assert rows(pg_url, artifacts_root, "sweep") == [(sweep_id, 0, "visible")]
    shown = json.loads(sim("show", sweep_id, "--json").stdout)
    assert (shown["kind"], shown["missing_runs"]) == ("sweep", [])
    assert [s["run_id"] for s in shown["scenarios"]] == out["runs"]
    assert "checked 9 artifact folder(s)" in sim("verify").stdout

    assert sim("delete", sweep_id, "--json").stdout == (
        json.dumps({"deleted": [f"sweeps/{sweep_id}"]}, indent=2) + "\n"
    )
    assert rows(pg_url, artifacts_root, "sweep") == [(sweep_id, 0, "deleted")]
    listed = json.loads(sim("list", "--json").stdout)["artifacts"]
    assert sorted(a["kind"] for a in listed) == ["model"] * 4 + ["run"] * 4


@pytest.mark.slow
def test_a_job_delivered_again_publishes_nothing_twice(
    sim: Cli, team: dict[str, str], pg_url: str, artifacts_root: Path
) -> None:
    out = json.loads(sim(*SWEEP, "--no-wait", "--batch", "2", "--json").stdout)
    assert out["jobs_queued"] == 2
    jobs = jobs_of(pg_url, artifacts_root)
    assert [len(j["runs"]) for j in jobs] == [2, 2]
    defer_again(pg_url, artifacts_root, jobs)  # every job twice, run at the same time

    outs = workers(team, 2)
    lines = [line for o in outs for line in o.splitlines() if " run " in line]
    assert sorted(line.split()[2] for line in lines if line.startswith("created")) == sorted(
        out["runs"]
    )
    assert len(lines) == 8  # each run twice: once created, once found stored
    stored = [line for o in outs for line in o.splitlines() if line.startswith("stored sweep")]
    assert stored == [f"stored sweep {out['sweep_id']}: 4 scenarios"]  # once, by one of them

    defer_again(pg_url, artifacts_root, jobs)  # and again, after they all succeeded
    (late,) = workers(team, 1)
    assert late.splitlines()[-1] == "worker stopped: 0 run(s) created, 4 already stored, 0 failed"

    assert rows(pg_url, artifacts_root, "run") == [(r, 0, "visible") for r in sorted(out["runs"])]
    assert len(folders(artifacts_root, "runs")) == 4
    assert "checked 9 artifact folder(s)" in sim("verify").stdout  # and the sweep, once
    done = sim(*SWEEP, "--json")
    assert json.loads(done.stdout)["status"] == "unchanged"


@pytest.mark.slow
def test_a_failing_scenario_is_recorded_and_the_others_go_on(
    sim: Cli, team: dict[str, str], pg_url: str, artifacts_root: Path
) -> None:
    from flowtime_sim.core import Flowtime
    from flowtime_sim.scenarios.jobqueue import SweepQueue

    out = json.loads(sim(*SWEEP, "--no-wait", "--json").stdout)
    assert out["jobs_queued"] == 1  # four short runs: one job is worth its overhead
    model_id = out["models"][1].partition("@")[0]
    stored = artifacts_root / "models" / model_id / "v1" / "model.yaml"
    good = stored.read_bytes()
    stored.write_bytes(b"grid: [")  # the worker cannot read this scenario's model

    proc = subprocess.run(
        [CLI, "worker", "--until-empty"], env=team, capture_output=True, text=True, check=True
    )
    assert proc.stdout.splitlines()[-1] == (
        "worker stopped: 3 run(s) created, 0 already stored, 1 failed"
    )
    reason = (
        f"malformed YAML in model {out['models'][1]} at line 2, column 1: while parsing a "
        "flow node, did not find expected node content"
    )
    assert proc.stderr.splitlines()[1:] == [
        f"warning: sweep {out['sweep_id']}: scenario 1 failed: {reason}"
    ]
    ft = Flowtime(index=team["FLOWTIME_SIM_INDEX"])
    with SweepQueue(ft.registry()) as queue:
        assert queue.failures(out["sweep_id"]) == {1: reason}

    stored.write_bytes(good)
    again = json.loads(sim(*SWEEP, "--no-wait", "--json").stdout)
    assert (again["stored"], again["jobs_queued"]) == (3, 1)  # only the gap is queued
    (worked,) = workers(team, 1)
    assert worked.splitlines() == [
        f"created run {out['runs'][1]} (sweep {out['sweep_id']})",
        f"stored sweep {out['sweep_id']}: 4 scenarios",
        "worker stopped: 1 run(s) created, 0 already stored, 0 failed",
    ]
    with SweepQueue(ft.registry()) as queue:
        assert queue.failures(out["sweep_id"]) == {}
        assert queue.manifest(out["sweep_id"]) is None  # stored: the record is gone
    assert json.loads(sim(*SWEEP, "--json").stdout)["status"] == "unchanged"
    ft.close()


def test_queue_without_a_postgresql_index_is_one_line_and_stores_nothing(
    sim: Cli, artifacts_root: Path
) -> None:
    result = sim(*SWEEP, code=1)
    assert result.stderr == "error: sweep --queue " + NO_PG
    assert result.stdout == ""
    assert folders(artifacts_root, "models") == []
    assert sim("worker", "--until-empty", code=1).stderr == "error: the worker " + NO_PG


def test_no_wait_and_batch_belong_to_queue(sim: Cli) -> None:
    result = sim("sweep", "-t", "checkout", *GRID, "--no-wait", code=1)
    assert result.stderr == "error: --no-wait and --batch apply only to a sweep with --queue\n"


def test_jobs_hold_a_fixed_count_or_about_two_million_cells() -> None:
    runs = [QueuedRun(i, f"m_{i}@v1", f"r_{i}", None, "expected") for i in range(5)]
    assert [[r.index for r in b] for b in batches(runs, [1] * 5, size=2)] == [[0, 1], [2, 3], [4]]
    # a job takes scenarios while it stays within 2 million cells; a bigger one is alone
    cells = [1_500_000, 400_000, 200_000, 3_000_000, 1]
    assert [len(b) for b in batches(runs, cells)] == [2, 1, 1, 1]
    many = [QueuedRun(i, f"m_{i}@v1", f"r_{i}", None, "expected") for i in range(250)]
    assert [len(b) for b in batches(many, [100] * 250)] == [100, 100, 50]
    assert QueuedRun.from_json(runs[3].as_json()) == runs[3]


@pytest.mark.slow
def test_a_waiting_sweep_is_stored_once_a_running_worker_is_done_and_sigterm_stops_it(
    sim: Cli, team: dict[str, str], artifacts_root: Path
) -> None:
    import signal

    worker = subprocess.Popen(
        [CLI, "worker", "--concurrency", "2"],
        env=team,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        done = sim(*SWEEP, "--batch", "1")
    finally:
        worker.send_signal(signal.SIGTERM)
        out, err = worker.communicate(timeout=60)
    sweep_id = done.stdout.split()[2].rstrip(":")
    assert done.stdout.splitlines()[0] == (
        f"created sweep {sweep_id}: 4 scenarios, 4 model(s) and 4 run(s) created"
    )
    assert done.stderr == (
        f"note: sweep {sweep_id}: 4 run(s) in 4 job(s) on the queue; waiting for workers "
        "(start 'flowtime-sim worker' with the same --root and --index to run them)\n"
    )
    assert worker.returncode == 0, err
    assert out.splitlines()[-1] == "worker stopped: 4 run(s) created, 0 already stored, 0 failed"
    assert len(folders(artifacts_root, "runs")) == 4
