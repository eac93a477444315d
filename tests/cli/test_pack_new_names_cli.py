"""``pack new`` refuses a name that is not a valid pack name, trailing newline included."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result


@pytest.mark.parametrize("name", ["x\n", "x\ny", "coffee shop", "x-", "x\t"])
def test_an_invalid_pack_name_writes_nothing(
    cli: Callable[..., Result], tmp_path: Path, name: str
) -> None:
    result = cli("pack", "new", name, "--dir", "px")
    assert result.exit_code == 1
    assert result.stderr == (
        f"error: invalid pack name {name!r}: use letters and digits, "
        "optionally joined by single '-', '_' or '.', starting with a "
        "letter (for example coffee-shop)\n"
    )
    assert not (tmp_path / "px").exists()
