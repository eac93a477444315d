"""Two machines sharing one bucket and one PostgreSQL index: every write seen at once, no local
cache, no reindex between them.

The end-to-end test runs the real CLI in separate processes (installed packs and plugins, as a
user has them); the other tests use two façades in this process.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from kit import make

from flowtime_sim.registry import Query
from flowtime_sim.types import ParameterSources


@pytest.fixture
def bucket_root(s3_env: Any, pg_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("FLOWTIME_SIM_INDEX", pg_url)  # every machine below shares the index
    return f"s3://{s3_env.create_bucket(f'machines-{secrets.token_hex(6)}')}/team"


def _machine(root: str, cache: Path) -> Any:
    return make(root, {"cache_dir": str(cache)})


def test_what_one_machine_creates_the_other_lists_shows_and_runs(
    bucket_root: str, tmp_path: Path
) -> None:
    a, b = _machine(bucket_root, tmp_path / "a"), _machine(bucket_root, tmp_path / "b")
    model = a.create_model("tiny", name="shop", tags=["east"]).artifact
    assert [c["id"] for c in b.list(Query()).items] == [model.id]
    assert b.artifact(model.id).catalog == model.catalog
    run = b.run_model(model.id).artifact
    assert [c["id"] for c in a.list(Query(kind="run")).items] == [run.id]
    assert [r["id"] for r in a.registry().runs_of(model.id)] == [run.id]
    # the other machine creating the same model gets the stored version back
    again = b.create_model("tiny", name="shop", tags=["east"])
    assert again.unchanged and again.artifact.ref == model.ref
    # a delete on one machine hides the artifact on the other
    assert a.delete(run.id) == [run.key]
    assert b.list(Query(kind="run")).total == 0
    assert b.list(Query(kind="model")).total == 1


def test_versions_made_on_two_machines_interleave(bucket_root: str, tmp_path: Path) -> None:
    a, b = _machine(bucket_root, tmp_path / "a"), _machine(bucket_root, tmp_path / "b")
    first = a.create_model("tiny", ParameterSources(sets={"level": 1})).artifact
    second = b.create_model("tiny", ParameterSources(sets={"level": 2})).artifact
    assert first.id != second.id
    for machine in (a, b):
        assert {c["id"] for c in machine.list(Query()).items} == {first.id, second.id}
    assert a.registry().reindex() == 2
    assert b.registry().verify() == (2, [])


def test_the_service_lists_and_serves_an_s3_root(bucket_root: str, tmp_path: Path) -> None:
    import httpx

    from flowtime_sim.service import create_app

    model = _machine(bucket_root, tmp_path / "a").create_model("tiny").artifact
    app = create_app(_machine(bucket_root, tmp_path / "b"), tokens_file="")

    async def calls() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            return [
                await client.get("/v1/artifacts"),
                await client.get(f"/sim/models/{model.id}/v1/files/model.yaml"),
                await client.post("/sim/run", json={"model_id": model.id}),
            ]

    listing, source, run = asyncio.run(calls())
    assert [c["id"] for c in listing.json()["artifacts"]] == [model.id]
    assert source.status_code == 200 and source.text.startswith("schemaVersion: 1")
    assert run.status_code == 201 and run.json()["run_id"].startswith("tiny-run_")


# -- separate processes, real CLI ---------------------------------------------------------------


def _cli(env: dict[str, str], *args: str) -> Any:
    proc = subprocess.run(
        [sys.executable, "-c", "from flowtime_sim.cli import main; main()", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout) if "--json" in args else proc.stdout


@pytest.mark.slow
def test_two_processes_share_one_bucket_through_the_cli(
    s3_env: Any, bucket_root: str, pg_url: str, tmp_path: Path
) -> None:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "FLOWTIME_"))}
    base["FLOWTIME_OWNER"] = "tester"
    # machine A finds the endpoint and the index in the environment, machine B is told on the
    # command line
    env_a = {
        **base,
        **s3_env.env,
        "FLOWTIME_SIM_CACHE_DIR": str(tmp_path / "a"),
        "FLOWTIME_SIM_INDEX": pg_url,
    }
    env_b = {
        **base,
        **{k: v for k, v in s3_env.env.items() if k != "AWS_ENDPOINT_URL"},
        "FLOWTIME_SIM_CACHE_DIR": str(tmp_path / "b"),
    }
    b_opts = ("--storage-option", f"endpoint_url={s3_env.endpoint}")
    root = ("--root", bucket_root)
    b_root = ("--root", bucket_root, "--index", pg_url)

    created = _cli(env_a, "new", "--template", "checkout", "--name", "shop", *root, "--json")
    model_id = created["model_id"]
    assert (
        created["status"] == "created" and created["path"] == f"{bucket_root}/models/{model_id}/v1"
    )

    listed = _cli(env_b, *b_opts, "list", *b_root, "--json")
    assert [a["id"] for a in listed["artifacts"]] == [model_id]
    shown = _cli(env_b, *b_opts, "show", model_id, *b_root, "--json")
    assert shown["template_id"] == "checkout" and shown["runs"] == []
    assert [
        v["version"] for v in _cli(env_b, *b_opts, "versions", model_id, *b_root, "--json")
    ] == [1]
    run = _cli(env_b, *b_opts, "run", "--model", model_id, *b_root, "--json")
    derived = _cli(
        env_b,
        *b_opts,
        "derive",
        "--from",
        model_id,
        "--name",
        "shop-copy",
        "--out",
        bucket_root,
        "--index",
        pg_url,
        "--json",
    )

    listed = _cli(env_a, "list", *root, "--json")
    assert {a["id"] for a in listed["artifacts"]} == {model_id, run["run_id"], derived["model_id"]}
    assert _cli(env_a, "show", model_id, *root, "--json")["runs"] == [run["run_id"]]
    assert _cli(env_a, "verify", *root, "--json") == {"checked": 3, "problems": []}
    assert _cli(env_a, "reindex", *root, "--json") == {"indexed": 3, "refused": []}
    assert _cli(env_a, "gc", *root, "--json") == {"removed": []}
    assert "indexed 3 artifact(s) from " + bucket_root in _cli(env_b, *b_opts, "reindex", *b_root)
    _serve_and_list(
        env_b, b_opts, bucket_root, pg_url, {model_id, run["run_id"], derived["model_id"]}
    )


def _serve_and_list(
    env: dict[str, str], options: tuple[str, ...], root: str, index: str, expected: set[str]
) -> None:
    import socket
    import time

    import httpx

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from flowtime_sim.cli import main; main()",
            *options,
            "serve",
            "--root",
            root,
            "--index",
            index,
            "--port",
            str(port),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/v1/artifacts", timeout=5)
                break
            except httpx.TransportError:
                assert server.poll() is None, server.communicate()[1]
                assert time.monotonic() < deadline, "the service did not start"
                time.sleep(0.2)
        assert response.status_code == 200
        assert {a["id"] for a in response.json()["artifacts"]} == expected
    finally:
        server.terminate()
        server.communicate(timeout=30)
