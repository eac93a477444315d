"""Help texts a user reads, and ``--json`` on every command (SPEC §9)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import click
import pytest
from click.testing import CliRunner, Result

from flowtime_sim.cli import flowtime, main

MODEL = """\
schemaVersion: 1
grid: {bins: 2, binSize: 1, binUnit: hours}
nodes:
  - {id: a, kind: const, values: [1, 2]}
"""


def test_flowtime_help_is_plain_text() -> None:
    result = CliRunner().invoke(flowtime, ["--help"])
    assert result.exit_code == 0
    assert "FlowTime tools: 'flowtime sim COMMAND' is 'flowtime-sim COMMAND'." in result.stdout
    assert "``" not in result.stdout


def test_gc_help_says_it_purges_deleted_artifacts(cli: Callable[..., Result]) -> None:
    result = cli("gc", "--help")
    assert "Purge deleted artifacts and staging left by interrupted writers." in result.stdout
    assert "'delete' only hides a model or run; gc removes its files" in result.stdout


def test_gc_reports_what_it_purged(cli: Callable[..., Result]) -> None:
    made = json.loads(cli("new", "--template", "checkout", "--json").stdout)
    assert cli("delete", str(made["model_id"])).exit_code == 0
    result = cli("gc", "--grace", "0")
    assert result.stdout == "purged 1 deleted artifact(s) and 0 abandoned staging folder(s)\n"


def test_every_option_of_derive_has_help(cli: Callable[..., Result]) -> None:
    command = main.commands["derive"]
    undocumented = [p.name for p in command.params if isinstance(p, click.Option) and not p.help]
    assert undocumented == []


def _commands(group: click.Group, prefix: str = "") -> list[tuple[str, click.Command]]:
    out: list[tuple[str, click.Command]] = []
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            out += _commands(command, f"{prefix}{name} ")
        else:
            out.append((f"{prefix}{name}", command))
    return out


@pytest.mark.parametrize(("name", "command"), _commands(main))
def test_every_command_has_json(name: str, command: click.Command) -> None:
    if name == "serve":
        pytest.skip("serve runs a server and prints no result")
    assert "as_json" in {p.name for p in command.params}, name


def test_preview_json(cli: Callable[..., Result], tmp_path: Path) -> None:
    (tmp_path / "m.yaml").write_text(MODEL, encoding="utf-8")
    doc = json.loads(cli("preview", "--file", "m.yaml", "--json").stdout)
    assert doc["media_type"] == "image/svg+xml" and doc["filename"] == "preview.svg"
    assert doc["content"].startswith("<svg")
    written = json.loads(cli("preview", "--file", "m.yaml", "--out", "p.svg", "--json").stdout)
    assert written == {
        "media_type": "image/svg+xml",
        "filename": "preview.svg",
        "path": "p.svg",
        "bytes": (tmp_path / "p.svg").stat().st_size,
    }
