"""Where a command cannot write — a model file under /proc, a root below a file, a read-only
root — it says so in one line and exits 1, with no traceback."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result

CLI = str(Path(sys.executable).parent / "flowtime-sim")
MODEL = """\
schemaVersion: 1
grid: {bins: 2, binSize: 1, binUnit: hours}
nodes:
  - {id: a, kind: const, values: [1, 2]}
"""


def one_line_error(result: Result, message: str) -> None:
    assert result.exit_code == 1, result.output
    assert result.stderr == f"error: {message}\n"


def test_a_model_file_where_nothing_can_be_created(cli: Callable[..., Result]) -> None:
    one_line_error(
        cli("new", "--template", "checkout", "--out", "/proc/x.yaml"),
        "cannot write the model file '/proc/x.yaml': No such file or directory",
    )


def test_a_model_file_below_a_file(cli: Callable[..., Result], tmp_path: Path) -> None:
    assert cli("new", "--template", "checkout", "--out", "checkout.yaml").exit_code == 0
    one_line_error(
        cli("new", "--template", "checkout", "--out", "checkout.yaml/inner.yaml"),
        f"cannot write the model file 'checkout.yaml/inner.yaml': "
        f"'{tmp_path / 'checkout.yaml'}' is a file, not a folder",
    )


@pytest.mark.parametrize(
    "command",
    [
        ["new", "--template", "checkout"],
        ["run", "--file", "m.yaml"],
        ["reindex"],
        ["delete", "checkout_1c15d257"],
        ["list"],
    ],
)
def test_a_root_below_a_file(
    cli: Callable[..., Result], tmp_path: Path, command: list[str]
) -> None:
    (tmp_path / "m.yaml").write_text(MODEL, encoding="utf-8")
    (tmp_path / "plain.txt").write_text("x", encoding="utf-8")
    one_line_error(
        cli(*command, "--root", "plain.txt/root"),
        f"artifacts root '{tmp_path / 'plain.txt/root'}' cannot be created: "
        f"'{tmp_path / 'plain.txt'}' is a file, not a folder",
    )


@pytest.mark.parametrize("command", [["new", "--template", "checkout"], ["reindex"]])
def test_a_root_where_nothing_can_be_created(
    cli: Callable[..., Result], command: list[str]
) -> None:
    one_line_error(
        cli(*command, "--root", "/proc/self/flowtime"),
        "cannot open the listing index '/proc/self/flowtime/.index/registry.sqlite' "
        "of /proc/self/flowtime: No such file or directory: '/proc/self/flowtime'; "
        "the root must be writable",
    )


def test_a_root_whose_staging_cannot_be_made(cli: Callable[..., Result], tmp_path: Path) -> None:
    (tmp_path / "m.yaml").write_text(MODEL, encoding="utf-8")
    assert cli("list", "--root", "root").exit_code == 0  # the root and its index exist
    (tmp_path / "root" / ".staging").write_text("in the way", encoding="utf-8")
    result = cli("run", "--file", "m.yaml", "--root", "root")
    assert result.exit_code == 1
    assert result.stderr.startswith(
        f"error: cannot write to the artifacts root '{tmp_path / 'root'}': Not a directory: "
    )
    assert result.stderr.count("\n") == 1


def test_a_root_whose_tombstones_cannot_be_made(cli: Callable[..., Result], tmp_path: Path) -> None:
    created = cli("new", "--template", "checkout", "--root", "root", "--json")
    assert created.exit_code == 0
    (tmp_path / "root" / "tombstones").write_text("in the way", encoding="utf-8")
    result = cli("delete", "checkout_1c15d257", "--root", "root")
    assert result.exit_code == 1
    assert result.stderr.startswith(
        f"error: cannot write to the artifacts root '{tmp_path / 'root'}': "
    )
    assert result.stderr.count("\n") == 1


def _read_only(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run the CLI where ``root`` is mounted read-only (a private mount namespace)."""
    script = f'mount -o bind,ro "{root}" "{root}" && exec "$@"'
    return subprocess.run(
        ["unshare", "-rm", "sh", "-c", script, "sh", CLI, *args, "--root", str(root)],
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def read_only_root(tmp_path: Path) -> Path:
    root = tmp_path / "ro"
    root.mkdir()
    probe = ["unshare", "-rm", "sh", "-c", f'mount -o bind,ro "{root}" "{root}"']
    if shutil.which("unshare") is None or subprocess.run(probe, capture_output=True).returncode:
        pytest.skip("needs unshare -rm (user and mount namespaces) for a read-only mount")
    subprocess.run(
        [CLI, "new", "--template", "checkout", "--root", str(root)], check=True, capture_output=True
    )
    return root


@pytest.mark.parametrize(
    "command",
    [
        ["new", "--template", "checkout", "--name", "other"],
        ["run", "--model", "checkout_1c15d257"],
        ["reindex"],
        ["delete", "checkout_1c15d257"],
    ],
)
def test_a_read_only_root(read_only_root: Path, command: list[str]) -> None:
    done = _read_only(read_only_root, *command)
    assert done.returncode == 1, done.stderr
    assert done.stderr == (
        f"error: cannot open the listing index "
        f"'{read_only_root}/.index/registry.sqlite' of {read_only_root}: "
        "unable to open database file; the root must be writable\n"
    )


def test_any_other_file_system_refusal_is_one_line(
    cli: Callable[..., Result], tmp_path: Path
) -> None:
    (tmp_path / "m.yaml").write_text(MODEL, encoding="utf-8")
    one_line_error(
        cli("preview", "--file", "m.yaml", "--out", "/proc/x.svg"),
        "No such file or directory: '/proc/x.svg'",
    )
