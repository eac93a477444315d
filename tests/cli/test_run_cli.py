"""``run`` and ``preview`` as a user meets them: real processes for reproducibility, the
terminal progress bar on a pseudo-terminal, and every error a run can end with."""

from __future__ import annotations

import json
import os
import pty
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from flowtime_sim.cli import main

CLI = str(Path(sys.executable).parent / "flowtime-sim")

SAMPLED = """\
schemaVersion: 1
grid: {bins: 500, binSize: 1, binUnit: hours, start: 2025-01-01T00:00:00Z}
nodes:
  - {id: size, kind: pmf, pmf: {values: [1, 2, 3], probabilities: [0.2, 0.5, 0.3]}}
  - {id: demand, kind: pmf, pmf: {values: [10, 20], probabilities: [0.5, 0.5]}}
  - {id: served, kind: expr, expr: "MIN(demand, 15) * size"}
"""


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("FLOWTIME_ARTIFACTS_ROOT", str(tmp_path / "root"))
    runner = CliRunner()

    def invoke(*args: str, code: int = 0):
        result = runner.invoke(main, list(args), catch_exceptions=False)
        assert result.exit_code == code, (result.stdout, result.stderr)
        return result

    return invoke


def _process_run(model: Path, root: Path, *args: str, hash_seed: str) -> tuple[dict, bytes]:
    env = {**os.environ, "PYTHONHASHSEED": hash_seed, "FLOWTIME_ARTIFACTS_ROOT": str(root)}
    out = subprocess.run(
        [CLI, "run", "--file", str(model), "--json", *args],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    summary = json.loads(out)
    return summary, (root / "runs" / summary["run_id"] / "binned_v0.csv").read_bytes()


@pytest.mark.slow
def test_sample_mode_is_byte_identical_across_processes(tmp_path: Path) -> None:
    model = tmp_path / "sampled.yaml"
    model.write_text(SAMPLED)
    first, csv_a = _process_run(model, tmp_path / "a", "--sample", "--seed", "42", hash_seed="1")
    second, csv_b = _process_run(
        model, tmp_path / "b", "--sample", "--seed", "42", hash_seed="4242"
    )
    assert first["run_id"] == second["run_id"]
    assert csv_a == csv_b
    other, csv_c = _process_run(model, tmp_path / "c", "--sample", "--seed", "43", hash_seed="1")
    assert other["run_id"] != first["run_id"] and csv_c != csv_a
    expected, csv_e = _process_run(model, tmp_path / "d", "--seed", "42", hash_seed="1")
    assert expected["run_id"] != first["run_id"] and csv_e != csv_a
    rows = csv_a.decode().splitlines()
    assert rows[0] == "bin,time_bin,series,value" and len(rows) == 1 + 3 * 500
    drawn = {r.split(",")[3] for r in rows[1:] if r.split(",")[2] == "size"}
    assert drawn == {"1", "2", "3"}  # draws, not the expected value 2.1


def test_sample_flag_is_recorded_in_the_run_catalog(cli, tmp_path: Path) -> None:
    model = tmp_path / "sampled.yaml"
    model.write_text(SAMPLED)
    sampled = json.loads(
        cli("run", "--file", str(model), "--sample", "--seed", "7", "--json").stdout
    )
    catalog = json.loads(
        (tmp_path / "root" / "runs" / sampled["run_id"] / "catalog.json").read_text()
    )
    assert (catalog["mode"], catalog["seed"]) == ("sample", 7)
    plain = json.loads(cli("run", "--file", str(model), "--seed", "7", "--json").stdout)
    plain_catalog = json.loads(
        (tmp_path / "root" / "runs" / plain["run_id"] / "catalog.json").read_text()
    )
    assert plain_catalog["mode"] == "expected"
    assert plain["run_id"] != sampled["run_id"]


def test_a_run_that_overflows_is_refused_and_writes_nothing(cli, tmp_path: Path) -> None:
    model = tmp_path / "boom.yaml"
    model.write_text(
        "schemaVersion: 1\ngrid: {bins: 2, binSize: 1, binUnit: hours}\n"
        "nodes:\n  - {id: x, kind: const, values: [1, 1e300]}\n"
        '  - {id: big, kind: expr, expr: "x * x"}\n'
    )
    result = cli("run", "--file", str(model), code=1)
    assert result.stderr == (
        "error: node 'big' overflowed to infinity at bin 1; check its inputs\n"
    )
    assert not (tmp_path / "root" / "runs").exists() or not any(
        (tmp_path / "root" / "runs").iterdir()
    )


def test_a_run_of_an_invalid_model_names_the_node(cli, tmp_path: Path) -> None:
    model = tmp_path / "bad.yaml"
    model.write_text(
        "schemaVersion: 1\ngrid: {bins: 2, binSize: 1, binUnit: hours}\n"
        'nodes:\n  - {id: served, kind: expr, expr: "demand * 2"}\n'
    )
    result = cli("run", "--file", str(model), code=1)
    assert result.stderr == (
        "error: node 'served': unknown node 'demand' at column 1 in expression \"demand * 2\"\n"
    )
    assert result.stderr.count("\n") == 1


def test_preview_of_a_stored_model(cli, tmp_path: Path) -> None:
    made = json.loads(cli("new", "--template", "checkout", "--json").stdout)
    stored = (Path(made["path"]) / "preview.svg").read_bytes()
    assert cli("preview", made["model_id"]).stdout_bytes == stored
    out = tmp_path / "latest.svg"
    cli("preview", f"{made['model_id']}@v1", "--out", str(out))
    assert out.read_bytes() == stored


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "error: give exactly one of ID[@vN] and --file model.yaml\n"),
        (
            ("x_00000000", "--file", "m.yaml"),
            "error: give exactly one of ID[@vN] and --file model.yaml\n",
        ),
        (("../etc",), "error: invalid model id '../etc'"),
        (("nope_00000000",), "error: no model 'nope_00000000' in "),
    ],
)
def test_preview_errors(cli, args: tuple[str, ...], message: str) -> None:
    assert cli("preview", *args, code=1).stderr.startswith(message)


def _read_until_exit(fd: int, pid: int, timeout: float) -> bytes:
    chunks: list[bytes] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.1)
        if ready:
            try:
                data = os.read(fd, 65536)
            except OSError:
                break
            if not data:
                break
            chunks.append(data)
        elif os.waitpid(pid, os.WNOHANG) != (0, 0):
            break
    return b"".join(chunks)


@pytest.mark.slow
def test_a_long_run_shows_a_progress_bar_on_a_terminal(tmp_path: Path) -> None:
    lines = [
        "schemaVersion: 1",
        "grid: {bins: 20000, binSize: 1, binUnit: minutes}",
        "nodes:",
        "  - {id: n0, kind: pmf, pmf: {values: [1, 2], probabilities: [0.5, 0.5]}}",
    ]
    lines += [
        f'  - {{id: n{i}, kind: expr, expr: "SHIFT(n{i - 1}, 1) + n0"}}' for i in range(1, 400)
    ]
    model = tmp_path / "long.yaml"
    model.write_text("\n".join(lines) + "\n")
    env = {
        **os.environ,
        "FLOWTIME_ARTIFACTS_ROOT": str(tmp_path / "root"),
        "COLUMNS": "100",
        "TERM": "xterm",
    }
    pid, fd = pty.fork()
    if pid == 0:  # the child: its stdout and stderr are the pseudo-terminal
        os.execve(CLI, [CLI, "run", "--file", str(model), "--sample"], env)
    try:
        screen = _read_until_exit(fd, pid, timeout=120).decode("utf-8", "replace")
    finally:
        os.close(fd)
        _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, screen
    assert "running" in screen and "━" in screen  # rich's bar, drawn while nodes evaluate
    assert "created run long-run_" in screen


def test_piped_output_has_no_progress_bar(cli, tmp_path: Path) -> None:
    model = tmp_path / "sampled.yaml"
    model.write_text(SAMPLED)
    result = cli("run", "--file", str(model))
    assert "running" not in result.stderr and result.stderr == ""
    assert result.stdout.startswith("created run sampled-run_")
