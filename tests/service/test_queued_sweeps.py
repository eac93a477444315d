"""``POST /sim/sweeps`` with ``queue``: models stored in the request, runs by
``flowtime-sim worker``, and the sweep stored by the worker that lands its last run."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI

from flowtime_sim.core import Flowtime
from flowtime_sim.service import create_app
from tests.scenarios.test_queue import jobs_of, rows, workers
from tests.service.conftest import LOCAL_USER, Client, bearer, problem

SWEEP: dict[str, Any] = {
    "template": "checkout",
    "set": {"bins": 1440},
    "grid": {"peak_factor": [1, 2], "base_capacity": [200, 300]},
    "queue": True,
}


@pytest.fixture
def team(pg_url: str, artifacts_root: Path) -> dict[str, str]:
    return {
        **os.environ,
        "FLOWTIME_ARTIFACTS_ROOT": str(artifacts_root),
        "FLOWTIME_SIM_INDEX": pg_url,
    }


@pytest.fixture
def pg_ft(pg_url: str, artifacts_root: Path) -> Iterator[Flowtime]:
    flowtime = Flowtime(root=str(artifacts_root), index=pg_url, owner=LOCAL_USER)
    yield flowtime
    flowtime.close()


@pytest.fixture
def pg_app(pg_ft: Flowtime, tokens_file: Path) -> FastAPI:
    return create_app(pg_ft, tokens_file=tokens_file)


@pytest.fixture
def pg_client(pg_app: FastAPI) -> Iterator[Client]:
    c = Client(pg_app)
    yield c
    c.close()


@pytest.mark.slow
def test_a_queued_sweep_answers_202_and_the_worker_stores_it(
    pg_client: Client, team: dict[str, str], pg_url: str, artifacts_root: Path
) -> None:
    alice, carol = bearer("alice"), bearer("carol")
    posted = pg_client.post("/sim/sweeps", json=SWEEP, headers=alice)
    assert posted.status_code == 202, posted.text
    body = posted.json()
    sweep_id = body["sweep_id"]
    assert posted.headers["location"] == f"/sim/sweeps/{sweep_id}"
    assert (body["status"], body["runs_stored"], body["runs_total"]) == ("queued", 0, 4)
    assert (body["jobs_open"], body["models_created"]) == (1, 4)
    assert len(jobs_of(pg_url, artifacts_root)) == 1

    again = pg_client.post("/sim/sweeps", json=SWEEP, headers=alice)  # nothing queued twice
    assert (again.status_code, again.json()["jobs_open"]) == (202, 1)
    assert len(jobs_of(pg_url, artifacts_root)) == 1

    seen = pg_client.get(f"/sim/sweeps/{sweep_id}", headers=alice)
    assert seen.status_code == 200, seen.text
    view = seen.json()
    assert (view["status"], view["catalog"]["owner"]) == ("queued", "alice")
    assert view["progress"] == {
        "runs_stored": 0,
        "runs_total": 4,
        "jobs_waiting": 1,
        "jobs_running": 0,
        "jobs_failed": 0,
        "failures": {},
    }
    assert [r["run_id"] for r in view["runs"]] == body["runs"]
    assert {r["status"] for r in view["runs"]} == {"queued"}
    problem(pg_client.get(f"/sim/sweeps/{sweep_id}", headers=carol), 404, "sweep_id")
    taken = pg_client.post("/sim/sweeps", json=SWEEP, headers=carol)
    assert problem(taken, 409, "grid")["detail"] == (
        f"sweep {sweep_id} is already queued by someone whose artifacts you cannot see; "
        "change the grid or the seed"
    )

    (out,) = workers(team, 1)
    assert out.splitlines()[-2:] == [
        f"stored sweep {sweep_id}: 4 scenarios",
        "worker stopped: 4 run(s) created, 0 already stored, 0 failed",
    ]
    assert rows(pg_url, artifacts_root, "sweep") == [(sweep_id, 0, "visible")]
    done = pg_client.get(f"/sim/sweeps/{sweep_id}", headers=alice).json()
    assert (done["status"], done["progress"]) == ("complete", None)
    assert [r["run_id"] for r in done["runs"]] == body["runs"]
    assert {r["status"] for r in done["runs"]} == {"stored"}
    assert (done["catalog"]["owner"], done["catalog"]["visibility"]) == ("alice", "private")
    problem(pg_client.get(f"/sim/sweeps/{sweep_id}", headers=carol), 404, "sweep_id")

    stored = pg_client.post("/sim/sweeps", json=SWEEP, headers=alice)  # complete: as today
    assert (stored.status_code, stored.json()["status"]) == (200, "unchanged")


def test_queue_needs_a_postgresql_index(secured: Client) -> None:
    doc = problem(secured.post("/sim/sweeps", json=SWEEP, headers=bearer("alice")), 422, "queue")
    assert doc["detail"] == (
        "queue needs a PostgreSQL index, where the job queue lives: start the service with "
        "--index postgresql://USER@HOST/DB or FLOWTIME_SIM_INDEX set, or post without queue"
    )


def test_a_queued_sweep_may_be_larger_than_one_run_in_the_request(secured: Client) -> None:
    grid = {"peak_factor": list(range(1, 101)), "base_capacity": list(range(100, 160))}
    doc = problem(
        secured.post("/sim/sweeps", json={**SWEEP, "grid": grid}, headers=bearer("alice")),
        422,
        "grid",
    )
    assert doc["detail"] == (
        "the grid makes 6000 scenarios, more than the 5000 one queued request may store; "
        "use 'flowtime-sim sweep --queue' for larger sweeps"
    )
    grid = {"peak_factor": list(range(1, 11)), "base_capacity": list(range(100, 160))}
    doc = problem(  # 600 would be too many in the request, but not queued: the index is next
        secured.post("/sim/sweeps", json={**SWEEP, "grid": grid}, headers=bearer("alice")),
        422,
        "queue",
    )


def test_a_queued_sweep_cannot_add_versions_to_a_hidden_model(pg_client: Client) -> None:
    """The models of a queued sweep are stored as its caller, under the rules of POST /sim/new."""
    parameters = {**SWEEP["set"], "peak_factor": 1, "base_capacity": 200}
    body = {
        "template": "checkout",
        "parameters": parameters,
        "name": "checkout-peak-factor-1-base-capacity-200",  # the sweep's name for it
    }
    mine = pg_client.post("/sim/new", json=body, headers=bearer("alice"))
    assert mine.status_code == 201, mine.text
    taken = pg_client.post("/sim/sweeps", json=SWEEP, headers=bearer("carol"))
    model_id = mine.json()["model_id"]
    assert problem(taken, 400)["detail"] == (
        "1 of 4 scenarios failed (3 are stored; running the sweep again fills the gaps); the "
        f"first, peak_factor=1, base_capacity=200: the model id {model_id} is already used by "
        "a model you cannot see; choose another name"
    )
    versions = pg_client.get(
        f"/sim/models/{mine.json()['model_id']}/versions", headers=bearer("alice")
    )
    assert [v["version"] for v in versions.json()["versions"]] == [1]
