"""``flowtime-sim serve``: options, the exposure warning, and a real server process."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from flowtime_sim.cli import main
from flowtime_sim.cli.serve_cmd import is_loopback
from tests.service.conftest import TOKENS


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.8.0.1", True),
        ("::1", True),
        ("[::1]", True),
        ("localhost", True),
        ("0.0.0.0", False),
        ("::", False),
        ("192.168.1.20", False),
        ("example.com", False),
    ],
)
def test_loopback_hosts(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """Capture what ``serve`` would hand to uvicorn instead of serving."""
    import uvicorn

    seen: dict[str, Any] = {}

    def fake_run(app: Any, **kwargs: Any) -> None:
        seen.update(kwargs, app=app)

    monkeypatch.setattr(uvicorn, "run", fake_run)
    # whatever else listens on this machine's ports, these tests never bind one
    monkeypatch.setattr("flowtime_sim.cli.serve_cmd.check_listenable", lambda host, port: None)
    return seen


def test_serve_binds_to_loopback_by_default(
    runner: CliRunner, served: dict[str, Any], artifacts_root: Path
) -> None:
    result = runner.invoke(main, ["serve"])
    assert result.exit_code == 0, result.output
    assert (served["host"], served["port"]) == ("127.0.0.1", 8080)
    assert served["app"].state.context.root == str(artifacts_root)
    assert served["app"].state.context.tokens is None
    assert f"flowtime-sim serving {artifacts_root} on http://127.0.0.1:8080/" in result.stdout
    assert "warning" not in result.stderr


def test_serving_beyond_loopback_warns(
    runner: CliRunner, served: dict[str, Any], tmp_path: Path, tokens_file: Path
) -> None:
    result = runner.invoke(
        main, ["serve", "--host", "0.0.0.0", "--port", "9000", "--root", str(tmp_path / "r")]
    )
    assert result.exit_code == 0, result.output
    assert result.stderr == (
        "warning: serving on 0.0.0.0, which is reachable from other "
        "machines: there is no tokens file, so anyone who can reach it "
        "sees and creates everything; pass --tokens FILE\n"
    )
    assert served["app"].state.context.root == str(tmp_path / "r")
    result = runner.invoke(main, ["serve", "--host", "::", "--tokens", str(tokens_file)])
    assert result.stderr == (
        "warning: serving on ::, which is reachable from other machines: "
        f"every request needs a bearer token from {tokens_file}\n"
    )
    assert "http://[::]:8080/" in result.stdout
    assert served["app"].state.context.tokens is not None


def test_the_tokens_file_comes_from_the_environment(
    runner: CliRunner, served: dict[str, Any], tokens_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FLOWTIME_SIM_TOKENS", str(tokens_file))
    assert runner.invoke(main, ["serve"]).exit_code == 0
    assert served["app"].state.context.tokens is not None


def test_a_missing_tokens_file_is_a_user_error(
    runner: CliRunner, served: dict[str, Any], tmp_path: Path
) -> None:
    result = runner.invoke(main, ["serve", "--tokens", str(tmp_path / "none.yaml")])
    assert result.exit_code == 1
    assert result.stderr == f"error: tokens file '{tmp_path / 'none.yaml'}' does not exist\n"
    bad = tmp_path / "bad.yaml"
    bad.write_text("short: {identity: x}\n")
    result = runner.invoke(main, ["serve", "--tokens", str(bad)])
    assert result.exit_code == 1
    assert "token shor... must be at least 16 characters" in result.stderr
    assert served == {}


def test_a_port_in_use_is_one_line_before_serving(runner: CliRunner, artifacts_root: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = runner.invoke(main, ["serve", "--port", str(port)])
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == (
        f"error: cannot listen on 127.0.0.1:{port}: Address already in "
        "use; stop what uses it or pass another --port or --host\n"
    )


def test_a_host_that_does_not_resolve_is_one_line(runner: CliRunner, artifacts_root: Path) -> None:
    result = runner.invoke(main, ["serve", "--host", "no-such-host.invalid", "--port", "8080"])
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.startswith("error: cannot listen on no-such-host.invalid:8080: ")
    assert result.stderr.count("\n") == 1


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.slow
def test_a_real_server_process(tmp_path: Path, tokens_file: Path) -> None:
    root, port = tmp_path / "root", _free_port()
    exe = Path(sys.executable).with_name("flowtime-sim")
    env = {**os.environ, "FLOWTIME_ARTIFACTS_ROOT": str(root)}
    made = subprocess.run(
        [str(exe), "new", "-t", "checkout", "--visibility", "public", "--json"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    model_id = json.loads(made.stdout)["model_id"]
    server = subprocess.Popen(
        [
            str(exe),
            "serve",
            "--port",
            str(port),
            "--tokens",
            str(tokens_file),
            "--log-level",
            "warning",
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"{base}/healthz", timeout=2) as r:
                    assert json.load(r)["status"] == "ok"
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        token = next(iter(TOKENS))
        request = urllib.request.Request(
            f"{base}/sim/models/{model_id}", headers={"Authorization": f"Bearer {token}"}
        )
        with urllib.request.urlopen(request, timeout=10) as r:
            assert json.load(r)["id"] == model_id
        with pytest.raises(urllib.error.HTTPError) as caught:
            urllib.request.urlopen(f"{base}/sim/models/{model_id}", timeout=10)
        with caught.value as refused:
            assert refused.code == 401
            assert refused.headers["Content-Type"] == "application/problem+json"
    finally:
        server.terminate()
        out, err = server.communicate(timeout=30)
    assert f"flowtime-sim serving {root} on http://127.0.0.1:{port}/" in out
    assert "warning:" not in err
