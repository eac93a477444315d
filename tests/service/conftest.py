"""Fixtures for the service: an app over a fresh root, with and without a tokens file.

Models come from the bundled ``checkout`` pack (installed with the host's test environment).
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from fastapi import FastAPI

from flowtime_sim.core import Flowtime
from flowtime_sim.registry import Created
from flowtime_sim.service import create_app
from flowtime_sim.types import ParameterSources

LOCAL_USER = "local-user"
#: alice and bob share the team "pricing", bob and dave "ops"; carol is in no team with them.
TOKENS = {
    "alice-token-0123456789": {"identity": "alice", "teams": ["pricing"]},
    "bob-token-0123456789ab": {"identity": "bob", "teams": ["pricing", "ops"]},
    "carol-token-0123456789": {"identity": "carol", "teams": ["support"]},
    "dave-token-0123456789a": {"identity": "dave", "teams": ["ops"]},
}
TOKEN_OF = {entry["identity"]: token for token, entry in TOKENS.items()}


class Client:
    """A synchronous face on ``httpx.AsyncClient`` over ``httpx.ASGITransport``: requests go
    to the app in-process, exceptions the app does not handle propagate into the test."""

    def __init__(self, app: FastAPI, headers: dict[str, str] | None = None) -> None:
        self._loop = asyncio.new_event_loop()
        self._client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://testserver", headers=headers
        )

    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        return self._loop.run_until_complete(self._client.request(method, url, **kwargs))

    def get(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("POST", url, **kwargs)

    def forget_cookies(self) -> None:
        self._client.cookies.clear()

    def close(self) -> None:
        self._loop.run_until_complete(self._client.aclose())
        self._loop.close()


def bearer(identity: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {TOKEN_OF[identity]}"}


@pytest.fixture(autouse=True)
def _no_tokens_from_the_shell(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FLOWTIME_SIM_TOKENS", raising=False)
    monkeypatch.delenv("FLOWTIME_OWNER", raising=False)


@pytest.fixture
def ft(artifacts_root: Path) -> Iterator[Flowtime]:
    flowtime = Flowtime(root=str(artifacts_root), owner=LOCAL_USER)
    yield flowtime
    flowtime.close()


@pytest.fixture
def app(ft: Flowtime) -> FastAPI:
    return create_app(ft, tokens_file="")


@pytest.fixture
def client(app: FastAPI) -> Iterator[Client]:
    c = Client(app)
    yield c
    c.close()


@pytest.fixture
def tokens_file(tmp_path: Path) -> Path:
    path = tmp_path / "tokens.yaml"
    path.write_text(yaml.safe_dump(TOKENS), encoding="utf-8")
    return path


@pytest.fixture
def secured_app(ft: Flowtime, tokens_file: Path) -> FastAPI:
    return create_app(ft, tokens_file=tokens_file)


@pytest.fixture
def secured(secured_app: FastAPI) -> Iterator[Client]:
    """A client of the app that requires bearer tokens (send ``headers=bearer("alice")``)."""
    c = Client(secured_app)
    yield c
    c.close()


MakeModel = Callable[..., Created]


@pytest.fixture
def make_model(ft: Flowtime) -> MakeModel:
    """Create a checkout model directly through the façade, owned by whoever is named."""

    def make(
        owner: str = LOCAL_USER,
        visibility: str = "private",
        name: str | None = None,
        tags: tuple[str, ...] = (),
        **parameters: Any,
    ) -> Created:
        return ft.create_model(
            "checkout",
            ParameterSources(sets=parameters),
            name=name,
            tags=tags,
            visibility=visibility,
            owner=owner,
        )

    return make


def problem(response: Any, status: int, field: str | None = None) -> dict[str, Any]:
    """Assert ``response`` is an RFC 9457 problem with ``status`` (and ``field``)."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    doc: dict[str, Any] = response.json()
    assert doc["status"] == status
    assert doc["type"] == "about:blank"
    assert doc["title"] and doc["detail"]
    if field is not None:
        assert doc.get("field") == field, doc
    return doc


@contextmanager
def live_server(app: FastAPI) -> Iterator[str]:
    """Serve ``app`` with a real uvicorn server on a free loopback port; yields its base URL."""
    import uvicorn

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        app, log_level="warning", lifespan="off", ws="none", server_header=False
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the uvicorn server did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=20)
        sock.close()
