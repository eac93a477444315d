"""``derive``: another template version, a parameters file, and models made from FlowTime-Sim
template files."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result

UPSTREAM = Path(__file__).parents[1] / "fixtures" / "upstream" / "call-center.yaml"


def created(result: Result) -> dict[str, object]:
    assert result.exit_code == 0, result.output
    doc: dict[str, object] = json.loads(result.stdout)
    return doc


def catalog(root: Path, doc: dict[str, object]) -> dict[str, object]:
    path = root / "models" / str(doc["model_id"]) / f"v{doc['version']}" / "catalog.json"
    found: dict[str, object] = json.loads(path.read_text(encoding="utf-8"))
    return found


@pytest.fixture
def greeting(fake_dist: Callable[..., Path], cli: Callable[..., Result]) -> dict[str, object]:
    fake_dist("static_only")
    return created(
        cli("new", "--template", "greeting", "--version", "1.0.0", "--root", "root", "--json")
    )


def test_derive_moves_a_model_to_another_template_version(
    cli: Callable[..., Result], greeting: dict[str, object], tmp_path: Path
) -> None:
    doc = created(
        cli(
            "derive",
            "--from",
            str(greeting["model_id"]),
            "--version",
            "1.10.0",
            "--root",
            "root",
            "--json",
        )
    )
    assert doc["model_id"] == greeting["model_id"] and doc["version"] == 2
    cat = catalog(tmp_path / "root", doc)
    assert cat["template_version"] == "1.10.0"
    assert cat["derived_from"] == f"{greeting['model_id']}@v1"


def test_derive_refuses_a_template_version_that_is_not_installed(
    cli: Callable[..., Result], greeting: dict[str, object]
) -> None:
    result = cli(
        "derive", "--from", str(greeting["model_id"]), "--version", "9.9.9", "--root", "root"
    )
    assert result.exit_code == 1
    assert result.stderr == (
        "error: template static_only:greeting has no version 9.9.9 (installed versions: "
        "1.10.0, 1.2.0, 1.0.0)\n"
    )


def test_derive_reads_a_parameters_file_under_set(
    cli: Callable[..., Result], greeting: dict[str, object], tmp_path: Path
) -> None:
    (tmp_path / "p.yaml").write_text("level: 7\nbins: 4\n", encoding="utf-8")
    doc = created(
        cli(
            "derive",
            "--from",
            str(greeting["model_id"]),
            "--params",
            "p.yaml",
            "--set",
            "bins=5",
            "--name",
            "busier",
            "--root",
            "root",
            "--json",
        )
    )
    cat = catalog(tmp_path / "root", doc)
    assert cat["parameters"] == {"bins": 5, "level": 7}
    assert cat["template_version"] == "1.0.0"


def test_derive_a_model_made_from_a_flowtime_sim_template_file(
    cli: Callable[..., Result], tmp_path: Path
) -> None:
    source = created(cli("new", "--template-file", str(UPSTREAM), "--root", "root", "--json"))
    missing = cli(
        "derive", "--from", str(source["model_id"]), "--set", "abandonRate=0.3", "--root", "root"
    )
    assert missing.exit_code == 1
    assert missing.stderr == (
        "error: template templates-dir:call-center 1.1.0, which "
        f"{source['model_id']} was made from, is not installed (installed versions: none); "
        "it is a FlowTime-Sim template file: pass its "
        "folder or file with --templates-dir or --template-file\n"
    )
    for option, path in (("--template-file", UPSTREAM), ("--templates-dir", UPSTREAM.parent)):
        doc = created(
            cli(
                "derive",
                "--from",
                str(source["model_id"]),
                "--set",
                "abandonRate=0.3",
                option,
                str(path),
                "--root",
                "root",
                "--json",
            )
        )
        assert catalog(tmp_path / "root", doc)["parameters"]["abandonRate"] == 0.3  # type: ignore[index]
