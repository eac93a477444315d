"""Many writers sharing one PostgreSQL index, as real processes: 32 creators of one model, 32
creators of distinct versions of one model, three service instances behind a round-robin
client, and a thousand create-on-one, list-on-another pairs."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from worker import make

from flowtime_sim.registry import Query

HERE = Path(__file__).resolve().parent

pytestmark = pytest.mark.slow


def _spawn(root: Path, index: str, mode: str, arg: int, start_at: float) -> Any:
    return subprocess.Popen(
        [sys.executable, str(HERE / "worker.py"), str(root), mode, str(arg)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "START_AT": str(start_at), "FLOWTIME_SIM_INDEX": index},
    )


def _listed(root: Path, index: str) -> list[tuple[str, int]]:
    ft = make(str(root))
    ft.index = index
    page = ft.list(Query(all_versions=True, limit=1000))
    return sorted((str(a["id"]), int(a["version"])) for a in page.items)


def _results_of_both(procs: list[Any]) -> list[list[dict[str, Any]]]:
    out = []
    for p in procs:
        stdout, stderr = p.communicate(timeout=180)
        assert p.returncode == 0, stderr
        out.append([json.loads(line) for line in stdout.strip().splitlines()])
    return out


def test_32_processes_creating_one_model_and_distinct_versions_of_it(
    tmp_path: Path, pg_url: str
) -> None:
    """Each process first creates the same inputs (one version for all of them), then inputs
    of its own (one version each): 33 versions of one model, no number twice."""
    root = tmp_path / "root"
    start = time.time() + 3.0 + 0.12 * 32
    results = _results_of_both([_spawn(root, pg_url, "both", i, start) for i in range(1, 33)])
    same = [r[0] for r in results]
    own = [r[1] for r in results]
    assert len({r["id"] for r in same + own}) == 1
    model_id = same[0]["id"]
    assert len({r["version"] for r in same}) == 1
    assert sum(not r["unchanged"] for r in same) == 1
    assert not any(r["unchanged"] for r in own)
    assert sorted(r["version"] for r in [*own, same[0]]) == list(range(1, 34))
    assert _listed(root, pg_url) == [(model_id, n) for n in range(1, 34)]
    ft = make(str(root))
    ft.index = pg_url
    assert ft.registry().verify() == (33, [])


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_three_service_instances_behind_a_round_robin_client(tmp_path: Path, pg_url: str) -> None:
    import httpx

    root = tmp_path / "root"
    ports = [_free_port() for _ in range(3)]
    servers = [
        subprocess.Popen(
            [sys.executable, str(HERE / "serve_worker.py"), str(root), pg_url, str(port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        for port in ports
    ]
    try:
        for server, port in zip(servers, ports, strict=True):
            deadline = time.monotonic() + 60
            while True:
                try:
                    httpx.get(f"http://127.0.0.1:{port}/v1/artifacts", timeout=5)
                    break
                except httpx.TransportError:
                    assert server.poll() is None, server.communicate()[1]
                    assert time.monotonic() < deadline, "a service did not start"
                    time.sleep(0.2)
        calls = iter(range(10**6))

        def post(body: dict[str, Any]) -> dict[str, Any]:
            port = ports[next(calls) % 3]  # round robin
            response = httpx.post(f"http://127.0.0.1:{port}/sim/new", json=body, timeout=60)
            assert response.status_code in (200, 201), response.text
            return dict(response.json())

        with ThreadPoolExecutor(12) as pool:
            same = list(pool.map(post, [{"template": "tiny", "parameters": {"level": 9}}] * 24))
            distinct = list(
                pool.map(post, [{"template": "tiny", "version": f"1.{i}.0"} for i in range(24)])
            )
        assert {(r["model_id"], r["version"]) for r in same} == {(same[0]["model_id"], 1)}
        assert sum(r["status"] == "created" for r in same) == 1
        assert len({r["model_id"] for r in distinct}) == 1
        assert sorted(r["version"] for r in distinct) == list(range(1, 25))
        # every instance lists every write at once
        model_id = distinct[0]["model_id"]
        for port in ports:
            listing = httpx.get(f"http://127.0.0.1:{port}/v1/artifacts", timeout=10).json()
            assert {a["id"] for a in listing["artifacts"]} == {model_id, same[0]["model_id"]}
            versions = httpx.get(
                f"http://127.0.0.1:{port}/sim/models/{model_id}/versions", timeout=10
            ).json()
            assert [v["version"] for v in versions["versions"]] == list(range(1, 25))
    finally:
        for server in servers:
            server.terminate()
            server.communicate(timeout=30)


def test_a_thousand_creates_on_one_machine_are_listed_at_once_on_another(
    tmp_path: Path, pg_url: str
) -> None:
    from flowtime_sim.catalogs import model_draft

    root = str(tmp_path / "root")
    a, b = make(root), make(root)
    a.index = b.index = pg_url
    a.storage_options = {"durable": "false"}  # no fsync: the index is what is under test
    rendered = a.render("tiny")
    preview = a.preview(rendered.model)
    misses = 0
    for n in range(1000):  # rendered once: the pairs, not the rendering, are under test
        draft = model_draft(
            rendered, name=f"m{n}", tags=[], visibility="private", owner="tester", preview=preview
        )
        created = a.registry().create_model(draft).artifact
        page = b.list(Query(text=created.id, limit=1))
        misses += [c["id"] for c in page.items] != [created.id]
    assert misses == 0
    assert b.list(Query()).total == 1000
