"""A pack that fails to load is named by every command that lists or uses templates, not only
by ``plugins`` and ``doctor``: otherwise its templates just vanish."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result

from tests.fakepack_messages import BROKEN

WARNING = (
    f"warning: plugin 'broken_import' failed: {BROKEN['broken_import'][1]}; its "
    "templates are not available (see 'flowtime-sim doctor')\n"
)


@pytest.fixture(autouse=True)
def broken_pack(fake_dist: Callable[..., Path]) -> None:
    fake_dist("broken_import")


@pytest.mark.parametrize(
    "command",
    [
        ["templates"],
        ["templates", "--json"],
        ["templates", "show", "checkout"],
        ["new", "--template", "checkout", "--out", "m.yaml"],
    ],
)
def test_a_command_that_reads_templates_warns_of_a_failed_pack(
    cli: Callable[..., Result], command: list[str]
) -> None:
    result = cli(*command)
    assert result.exit_code == 0, result.output
    assert result.stderr == WARNING


def test_the_warning_comes_before_the_template_it_explains_is_missing(
    cli: Callable[..., Result],
) -> None:
    result = cli("new", "--template", "licensed")
    assert result.exit_code == 1
    assert result.stderr.startswith(WARNING + "error: ")
