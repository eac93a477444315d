"""SPEC §6 for template files: ``metadata.version`` is the template version, so an edited file
with a new version becomes the next version of the same model."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from click.testing import Result

Cli = Callable[..., Result]

TINY = """\
metadata: {id: tiny, title: Tiny, version: VERSION}
parameters:
  - {name: level, type: number, default: 2}
  - {name: extra, type: integer, default: 1}
grid: {bins: 2, binSize: 1, binUnit: hours}
nodes: [{id: a, kind: const, values: [1, "${level}"]}]
"""


def new(cli: Cli, path: Path, *sets: str) -> dict[str, object]:
    args = [a for s in sets for a in ("--set", s)]
    result = cli("new", "--template-file", str(path), "--root", "arts", "--json", *args)
    assert result.exit_code == 0, result.output
    made: dict[str, object] = json.loads(result.stdout)
    return made


def test_a_new_template_version_is_the_next_model_version(cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "tiny.yaml"
    path.write_text(TINY.replace("VERSION", "1.0.0"), encoding="utf-8")
    first = new(cli, path)
    assert (first["version"], first["status"]) == (1, "created")
    assert new(cli, path)["status"] == "unchanged"
    path.write_text(TINY.replace("VERSION", "1.1.0").replace("[1, ", "[5, "), encoding="utf-8")
    second = new(cli, path)
    assert (second["model_id"], second["version"], second["status"]) == (
        first["model_id"],
        2,
        "created",
    )
    catalog = json.loads(cli("show", f"{first['model_id']}@v2", "--root", "arts", "--json").stdout)
    assert (catalog["template_id"], catalog["template_version"]) == ("tiny", "1.1.0")
    assert catalog["pack"]["plugin"] == "templates-dir"


def test_changed_parameters_are_another_model_defaults_are_not(cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "tiny.yaml"
    path.write_text(TINY.replace("VERSION", "1.0.0"), encoding="utf-8")
    plain = new(cli, path)
    assert new(cli, path, "level=2")["model_id"] == plain["model_id"]  # the default, spelt out
    other = new(cli, path, "level=3")
    assert other["model_id"] != plain["model_id"]
    assert str(other["model_id"]).startswith("tiny_")
