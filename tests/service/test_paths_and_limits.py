"""URLs that try to leave the root, and request bodies over the size limit.

An audit hook records every file the process opens or lists while the hostile requests run,
so the tests assert that nothing outside the root was even read — not just that nothing was
served.
"""

from __future__ import annotations

import http.client
import os
import socket
import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from flowtime_sim.core import Flowtime
from flowtime_sim.service import create_app
from tests.service.conftest import Client, MakeModel, live_server, problem

SECRET = "TOP-SECRET-BESIDE-THE-ROOT"
_opened: list[str] | None = None


def _audit(event: str, args: tuple[object, ...]) -> None:
    if _opened is not None and event in {"open", "os.scandir", "os.listdir"} and args:
        target = args[0]
        if isinstance(target, str | bytes | os.PathLike):
            _opened.append(os.fsdecode(target))


sys.addaudithook(_audit)


@contextmanager
def files_touched() -> Iterator[list[str]]:
    global _opened
    _opened = []
    try:
        yield _opened
    finally:
        _opened = None


@pytest.fixture
def secret(artifacts_root: Path) -> Path:
    """A file beside the root that no URL may ever reach."""
    path = artifacts_root.parent / "secret.txt"
    path.write_text(SECRET, encoding="utf-8")
    (artifacts_root.parent / "models").mkdir(exist_ok=True)
    (artifacts_root.parent / "models" / "catalog.json").write_text(SECRET, encoding="utf-8")
    return path


def _hostile_paths(model_id: str, run_id: str) -> list[str]:
    return [
        "/v1/artifacts/%2e%2e",
        "/v1/artifacts/%2e%2e%2fsecret.txt",
        "/v1/artifacts/%2e%2e/files/secret.txt",
        "/v1/artifacts/%252e%252e/files/secret.txt",
        "/v1/artifacts/..%5csecret.txt",
        "/v1/artifacts/%5c..%5c..%5csecret.txt/files/x",
        f"/v1/artifacts/{run_id}/files/%2e%2e",
        f"/v1/artifacts/{run_id}/files/..%5c..%5csecret.txt",
        f"/v1/artifacts/{run_id}/files/%2e%2e%2f%2e%2e%2fsecret.txt",
        "/sim/models/%2e%2e/v1/files/catalog.json",
        "/sim/models/%2e%2e/versions",
        "/sim/models/..%2f..%2fmodels",
        f"/sim/models/{model_id}/v1/files/%2e%2e",
        f"/sim/models/{model_id}/v1/files/%2e%2e%5c%2e%2e%5csecret.txt",
        f"/sim/models/{model_id}/v1/files/%252e%252e%252fsecret.txt",
        f"/sim/models/{model_id}%2f..%2f..%2f..%2fsecret.txt",
        "/models/%2e%2e",
        "/runs/%2e%2e%5csecret.txt",
        "/static/%2e%2e/%2e%2e/secret.txt",
        "/static/..%2f..%2f..%2fsecret.txt",
        "/static/%252e%252e/secret.txt",
    ]


def test_encoded_traversal_never_leaves_the_root(
    client: Client, make_model: MakeModel, ft: Flowtime, secret: Path, artifacts_root: Path
) -> None:
    mid = make_model().artifact.id
    rid = ft.run_model(mid).artifact.id
    with files_touched() as touched:
        for path in _hostile_paths(mid, rid):
            response = client.get(path)
            assert response.status_code in {404, 422}, (path, response.status_code)
            assert SECRET not in response.text, path
        # The hook does see reads: a legitimate file read shows up.
        assert client.get(f"/sim/models/{mid}/v1/files/model.yaml").status_code == 200
    assert any(p.endswith("model.yaml") for p in touched)
    outside = [
        p
        for p in touched
        if Path(p).resolve().is_relative_to(artifacts_root.parent)
        and not Path(p).resolve().is_relative_to(artifacts_root.resolve())
    ]
    assert outside == [], f"read outside the root: {outside}"


def test_raw_dot_segments_on_a_real_server(
    ft: Flowtime, make_model: MakeModel, secret: Path, artifacts_root: Path
) -> None:
    mid = make_model().artifact.id
    rid = ft.run_model(mid).artifact.id
    raw = [
        f"/v1/artifacts/{rid}/files/..",
        "/v1/artifacts/../../secret.txt",
        f"/sim/models/{mid}/v1/files/../../../../secret.txt",
        "/sim/models/../v1/files/x",
        "/v1/artifacts/..\\..\\secret.txt",
        "/static/../../secret.txt",
        *_hostile_paths(mid, rid),
    ]
    with live_server(create_app(ft, tokens_file="")) as url, files_touched() as touched:
        host = urlsplit(url)
        for path in raw:
            conn = http.client.HTTPConnection(host.hostname or "", host.port, timeout=10)
            conn.request("GET", path)  # sent as is: no client normalises the dots away
            response = conn.getresponse()
            body = response.read().decode("utf-8", "replace")
            conn.close()
            assert response.status in {400, 404, 422}, (path, response.status)
            assert SECRET not in body, path
    outside = [
        p
        for p in touched
        if Path(p).resolve().is_relative_to(artifacts_root.parent)
        and not Path(p).resolve().is_relative_to(artifacts_root.resolve())
    ]
    assert outside == [], f"read outside the root: {outside}"


def test_a_body_over_the_limit_is_refused(ft: Flowtime) -> None:
    small = Client(create_app(ft, tokens_file="", max_body_bytes=1000))
    try:
        big = {"template": "checkout", "name": "x" * 10, "parameters": {"pad": "y" * 2000}}
        doc = problem(small.post("/sim/new", json=big), 413, "body")
        assert doc["detail"] == (
            "the request body is larger than the limit of 1000 bytes; "
            "send less (a model as YAML, parameters as JSON)"
        )
        sent = []

        async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: counted as it reads
            for i in range(100):
                sent.append(i)
                yield b"x" * 100

        problem(
            small.post("/sim/run", content=chunks(), headers={"Content-Type": "application/json"}),
            413,
            "body",
        )
        assert len(sent) < 100, "the whole body was read before it was refused"
        assert small.post("/sim/new", json={"template": "checkout"}).status_code == 201
    finally:
        small.close()


def test_a_declared_oversized_body_is_refused_before_it_is_sent(ft: Flowtime) -> None:
    with live_server(create_app(ft, tokens_file="", max_body_bytes=1000)) as url:
        host = urlsplit(url)
        with socket.create_connection((host.hostname or "", host.port or 0), timeout=10) as s:
            s.sendall(
                b"POST /sim/new HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                b"Content-Length: 50000000\r\n\r\n{"
            )
            reply = s.recv(4096).decode()  # answered at once; the 50 MB never come
        assert reply.startswith("HTTP/1.1 413 ")
        assert "application/problem+json" in reply
