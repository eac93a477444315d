"""``--storage-option KEY=VALUE`` reaches the root's storage backend from the command line."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner
from kit import S3_MISSING, S3_READY

from flowtime_sim.cli import flowtime, main


def test_a_malformed_storage_option_is_a_usage_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main, ["--storage-option", "durable", "list", "--root", str(tmp_path)]
    )
    assert result.exit_code == 2
    assert (
        "Invalid value for '--storage-option': expected KEY=VALUE, got 'durable'" in result.output
    )


def test_storage_options_reach_the_backend(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[dict[str, str]] = []
    from flowtime_sim.builtin import file_storage

    real = file_storage.FileStorage.__init__

    def spy(
        self: file_storage.FileStorage, url: str, options: dict[str, str] | None = None
    ) -> None:
        seen.append(dict(options or {}))
        real(self, url, options)

    monkeypatch.setattr(file_storage.FileStorage, "__init__", spy)
    result = CliRunner().invoke(
        main,
        [
            "--storage-option",
            "durable=false",
            "--storage-option",
            "x=a=b",
            "list",
            "--root",
            str(tmp_path),
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    assert seen == [{"durable": "false", "x": "a=b"}]
    result = CliRunner().invoke(
        flowtime,
        ["--storage-option", "durable=false", "sim", "list", "--root", str(tmp_path), "--json"],
    )
    assert result.exit_code == 0, result.output
    assert seen[-1] == {"durable": "false"}


@pytest.mark.skipif(not S3_READY and not os.environ.get("CI"), reason=S3_MISSING)
def test_an_unknown_s3_option_names_the_known_ones() -> None:
    result = CliRunner().invoke(
        main, ["--storage-option", "endpoint=http://x", "list", "--root", "s3://some-bucket/p"]
    )
    assert result.exit_code == 1
    assert (
        "unknown storage option 'endpoint' for s3:// roots; known: access_key_id, "
        "addressing_style, cache_dir, endpoint_url, profile, put_client, region, "
        "secret_access_key, "
        "session_token" in result.output
    )
