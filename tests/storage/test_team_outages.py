"""Outages of a team's services, by stopping and restarting real servers: the index database
(down, then hung) and the bucket."""

from __future__ import annotations

import asyncio
import os
import re
import secrets
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from kit import make

from flowtime_sim.cli import main
from flowtime_sim.registry import Query

pytestmark = pytest.mark.slow

DB_DOWN = re.compile(
    r"^error: the index database at 127\.0\.0\.1:\d+/postgres (did not answer "
    r"within 2 s; check that PostgreSQL is running and reachable, then try "
    r"again|failed: .+; try again once it is back)$"
)


@pytest.fixture
def own_pg(pg_url: str) -> Iterator[Any]:
    """A PostgreSQL server of this test's own, which it may stop (``pg_url`` has checked that
    the binaries are there)."""
    from flowtime_sim.testing.postgres import LoopbackPostgres, server_binaries

    if server_binaries() is None:
        pytest.skip("stopping a database needs PostgreSQL's server binaries")
    server = LoopbackPostgres().start()
    yield server
    server.close()


def _list(root: Path, index: str) -> Any:
    return CliRunner().invoke(main, ["list", "--root", str(root), "--index", index, "--json"])


def _app_listing(app: Any) -> Any:
    import httpx

    async def call() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            return await client.get("/v1/artifacts")

    return asyncio.run(call())


def test_database_down_fails_in_one_line_and_recovers_without_restart(
    own_pg: Any, tmp_path: Path
) -> None:
    from flowtime_sim.service import create_app

    root = tmp_path / "root"
    ft = make(str(root), index=own_pg.url)
    model = ft.create_model("tiny").artifact
    app = create_app(make(str(root), index=own_pg.url), tokens_file="")
    assert _app_listing(app).status_code == 200
    own_pg.stop()
    result = _list(root, own_pg.url)
    assert result.exit_code == 1
    assert DB_DOWN.match(result.stderr.rstrip("\n")), result.stderr
    assert result.stderr.count("\n") == 1
    down = _app_listing(app)
    assert down.status_code == 503
    assert down.headers["content-type"] == "application/problem+json"
    assert DB_DOWN.match("error: " + down.json()["detail"])
    own_pg.start()
    assert [a["id"] for a in _app_listing(app).json()["artifacts"]] == [model.id]
    assert [c["id"] for c in ft.list(Query()).items] == [model.id]
    assert _list(root, own_pg.url).exit_code == 0


def _postgres_processes(server: Any) -> list[int]:
    postmaster = int((server.data / "postmaster.pid").read_text().split()[0])
    children = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == postmaster:
                children.append(int(entry.name))
    return [postmaster, *children]


def test_a_hung_database_fails_a_command_within_the_connect_timeout(
    own_pg: Any, tmp_path: Path
) -> None:
    root = tmp_path / "root"
    make(str(root), index=own_pg.url).create_model("tiny")
    processes = _postgres_processes(own_pg)
    for pid in processes:
        os.kill(pid, signal.SIGSTOP)
    try:
        done = subprocess.run(
            [
                sys.executable,
                "-c",
                "from flowtime_sim.cli import main; main()",
                "list",
                "--root",
                str(root),
                "--index",
                own_pg.url,
            ],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    finally:
        for pid in processes:
            os.kill(pid, signal.SIGCONT)
    assert done.returncode == 1
    assert DB_DOWN.match(done.stderr.rstrip("\n")), done.stderr
    assert done.stdout == ""


def test_a_hung_database_answers_503_from_a_running_service_and_it_recovers(
    own_pg: Any, tmp_path: Path
) -> None:
    """The service's pooled connections are open before the database stops answering: each
    statement has a deadline, so a request fails instead of holding its thread for ever."""
    from flowtime_sim.service import create_app

    root = tmp_path / "root"
    model = make(str(root), index=own_pg.url).create_model("tiny").artifact
    app = create_app(make(str(root), index=own_pg.url), tokens_file="")
    assert _app_listing(app).status_code == 200  # the pool holds an open connection now
    processes = _postgres_processes(own_pg)
    for pid in processes:
        os.kill(pid, signal.SIGSTOP)
    try:
        hung = _app_listing(app)
    finally:
        for pid in processes:
            os.kill(pid, signal.SIGCONT)
    assert hung.status_code == 503
    assert hung.headers["content-type"] == "application/problem+json"
    assert DB_DOWN.match("error: " + hung.json()["detail"]), hung.json()
    assert [a["id"] for a in _app_listing(app).json()["artifacts"]] == [model.id]


def test_bucket_down_keeps_listings_and_show_and_fails_creation_cleanly(
    s3_env: Any, pg_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from flowtime_sim_s3.testing import LoopbackS3

    bucket_server = LoopbackS3().start()  # shares the moto backend, on a port of its own
    port = bucket_server.endpoint.rsplit(":", 1)[1]
    monkeypatch.setenv("AWS_ENDPOINT_URL", bucket_server.endpoint)
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    bucket = bucket_server.create_bucket(f"outage-{secrets.token_hex(6)}")
    root = f"s3://{bucket}/team"
    ft = make(root, {"cache_dir": str(tmp_path / "cache")}, index=pg_url)
    model = ft.create_model("tiny").artifact
    bucket_server.stop()
    try:
        assert [c["id"] for c in ft.list(Query()).items] == [model.id]
        assert ft.artifact(model.id).catalog == model.catalog
        assert ft.read_file(model, "catalog.json").startswith(b'{"kind":"model"')
        from flowtime_sim.types import ParameterSources

        with pytest.raises(
            Exception,
            match=rf"^cannot reach the S3 endpoint "
            rf"http://127\.0\.0\.1:{port} to create ",
        ):
            ft.create_model("tiny", ParameterSources(sets={"level": 4}))
        assert ft.list(Query()).total == 1
    finally:
        bucket_server = LoopbackS3(int(port)).start()
    again = ft.create_model("tiny", ParameterSources(sets={"level": 4})).artifact
    assert ft.list(Query()).total == 2
    assert ft.registry().verify() == (2, [])
    assert again.version == 2  # the failed attempt's number stays taken
    bucket_server.stop()
