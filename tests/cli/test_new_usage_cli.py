"""``new`` and ``derive`` refuse, as usage errors (exit 2), options that would otherwise be
silently ignored or misread."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result


def usage_error(result: Result, message: str) -> None:
    assert result.exit_code == 2, result.output
    assert result.stderr.endswith(f"Error: {message}\n"), result.stderr
    assert "Traceback" not in result.output


@pytest.mark.parametrize("out", ["result.json", "series.csv", "notes.TXT"])
def test_an_out_that_names_another_kind_of_file(
    cli: Callable[..., Result], tmp_path: Path, out: str
) -> None:
    suffix = Path(out).suffix
    usage_error(
        cli("new", "--template", "checkout", "--out", out),
        f"Invalid value for '--out': {out!r} looks like a {suffix} file; --out writes "
        "a model file ending in .yaml or .yml, or an artifacts root folder",
    )
    assert not (tmp_path / out).exists()


def test_an_existing_folder_with_a_suffix_is_a_root(
    cli: Callable[..., Result], tmp_path: Path
) -> None:
    (tmp_path / "runs.json").mkdir()
    assert cli("new", "--template", "checkout", "--out", "runs.json").exit_code == 0
    assert (tmp_path / "runs.json" / "models").is_dir()


@pytest.mark.parametrize(
    ("options", "named"),
    [
        (["--name", "x"], "--name"),
        (["--tag", "a", "--visibility", "team"], "--tag, --visibility"),
        (["-n", "x", "--tag", "a", "--visibility", "public"], "--name, --tag, --visibility"),
    ],
)
def test_artifact_options_with_a_model_file(
    cli: Callable[..., Result], tmp_path: Path, options: list[str], named: str
) -> None:
    usage_error(
        cli("new", "--template", "checkout", *options, "--out", "m.yaml"),
        f"{named} only apply to a stored model; --out m.yaml writes only the model "
        "file (give --out a folder, or leave them out)",
    )
    assert not (tmp_path / "m.yaml").exists()


@pytest.mark.parametrize("name", ["", "  "])
def test_an_empty_name(cli: Callable[..., Result], tmp_path: Path, name: str) -> None:
    usage_error(
        cli("new", "--template", "checkout", "-n", name),
        "Invalid value for '--name' / '-n': must not be empty; leave the option out "
        "for the default",
    )
    usage_error(
        cli("derive", "--from", "checkout_1c15d257", "--name", name),
        "Invalid value for '--name' / '-n': must not be empty; leave the option out "
        "for the default",
    )
    assert not (tmp_path / "artifacts").exists()


def test_new_without_a_template_is_a_usage_error(cli: Callable[..., Result]) -> None:
    usage_error(cli("new"), "missing --template; see 'flowtime-sim templates' for the choices")
