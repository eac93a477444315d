"""What the user is told when the bucket, the credentials or the endpoint are wrong."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from faults import answer_instead
from flowtime_sim.errors import NotFoundError, UserError

from flowtime_sim_s3 import S3Storage


def test_a_missing_bucket_is_named_with_the_endpoint(s3: Any, tmp_path: Path) -> None:
    store = S3Storage("s3://no-such-bucket-here/p", {"cache_dir": str(tmp_path)})
    with pytest.raises(
        NotFoundError,
        match=r"bucket 'no-such-bucket-here' does not exist at "
        r"http://127\.0\.0\.1:\d+ \(root "
        r"s3://no-such-bucket-here/p\); create it first or "
        "check the endpoint",
    ):
        store.read("models/m/v1/catalog.json")


def test_missing_credentials_say_which_variables_to_set(
    bucket: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    store = S3Storage(f"s3://{bucket}/p", {"cache_dir": str(tmp_path)})
    with pytest.raises(
        UserError,
        match=f"no AWS credentials to list s3://{bucket}/p: set "
        r"AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY \(or "
        r"AWS_PROFILE\), or pass --storage-option "
        r"access_key_id=\.\.\. and secret_access_key=\.\.\.",
    ):
        store.children("models")


def test_credentials_can_come_from_storage_options(
    bucket: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    store = S3Storage(
        f"s3://{bucket}/p",
        {"cache_dir": str(tmp_path), "access_key_id": "k", "secret_access_key": "s"},
    )
    assert store.children("models") == []


def test_an_unreachable_endpoint_is_named(bucket: str, tmp_path: Path) -> None:
    import socket

    with socket.socket() as sock:  # a port that nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    store = S3Storage(
        f"s3://{bucket}/p", {"cache_dir": str(tmp_path), "endpoint_url": f"http://127.0.0.1:{port}"}
    )
    with pytest.raises(
        UserError,
        match=f"cannot reach the S3 endpoint http://127.0.0.1:{port} to "
        f"read s3://{bucket}/p .*; check AWS_ENDPOINT_URL and "
        "the network",
    ):
        store.read("models/m/v1/catalog.json")


def test_access_denied_names_the_key_and_what_to_check(storage: S3Storage) -> None:
    answer_instead(storage.bucket.client, "GET", "catalog.json", 403, "AccessDenied")
    with pytest.raises(
        UserError,
        match=r"access denied to read team/flowtime/models/m/v1/"
        r"catalog.json in s3://plugin-\w+/team/flowtime "
        r"\(AccessDenied\); check the credentials and the "
        "bucket's policy",
    ):
        storage.read("models/m/v1/catalog.json")
