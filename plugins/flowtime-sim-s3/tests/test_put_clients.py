"""Small create-only writes go through obstore; everything else, and every write obstore does
not complete, through boto3."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import pytest

from flowtime_sim_s3 import S3Storage
from flowtime_sim_s3.location import S3Settings

FILES = {"model.yaml": b"schemaVersion: 1\n", "preview.svg": b"<svg/>", "catalog.json": b"{}\n"}


def _puts_through_boto3(storage: S3Storage) -> list[str]:
    sent: list[str] = []
    storage.bucket.client.meta.events.register(
        "before-send.s3",
        lambda request, **_: sent.append(request.url) if request.method == "PUT" else None,
    )
    return sent


def _get(s3: Any, bucket: str, key: str) -> bytes:
    return bytes(s3.client().get_object(Bucket=bucket, Key=key)["Body"].read())


def test_a_version_is_uploaded_through_obstore(storage: S3Storage, s3: Any, bucket: str) -> None:
    storage._check_conditional_writes()
    sent = _puts_through_boto3(storage)
    assert storage.upload("models/m/v1", FILES)
    assert storage.put_if_absent("ledger/models/m/v1", b"record")
    assert sent == []
    for name, data in FILES.items():
        assert _get(s3, bucket, f"team/flowtime/models/m/v1/{name}") == data
    assert _get(s3, bucket, "team/flowtime/ledger/models/m/v1") == b"record"


def test_an_existing_key_is_confirmed_through_boto3_and_kept(
    storage: S3Storage, s3: Any, bucket: str
) -> None:
    assert storage.put_if_absent("tombstones/a", b"first")
    sent = _puts_through_boto3(storage)
    assert not storage.put_if_absent("tombstones/a", b"second")
    assert [url.rsplit("/", 2)[-2:] for url in sent] == [["tombstones", "a"]]
    assert _get(s3, bucket, "team/flowtime/tombstones/a") == b"first"
    assert storage.upload("models/m/v1", {"catalog.json": b"{}"})
    assert not storage.upload("models/m/v1", {"catalog.json": b"late"})
    assert _get(s3, bucket, "team/flowtime/models/m/v1/catalog.json") == b"{}"


def test_a_write_obstore_cannot_send_lands_through_boto3(
    storage: S3Storage, s3: Any, bucket: str
) -> None:
    with socket.socket() as sock:  # a port that nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    unreachable = S3Settings(
        endpoint_url=f"http://127.0.0.1:{port}", access_key_id="k", secret_access_key="s"
    )
    storage._check_conditional_writes()
    storage.bucket.fast = unreachable.object_store(bucket, "us-east-1")
    assert storage.bucket.fast is not None
    sent = _puts_through_boto3(storage)
    assert storage.put_if_absent("tombstones/b", b"via boto3")
    assert len(sent) == 1
    assert _get(s3, bucket, "team/flowtime/tombstones/b") == b"via boto3"


def test_keys_obstore_would_spell_differently_go_through_boto3(
    bucket: str, s3: Any, tmp_path: Path
) -> None:
    storage = S3Storage(f"s3://{bucket}/team space/%41+b", {"cache_dir": str(tmp_path)})
    try:
        storage._check_conditional_writes()
        sent = _puts_through_boto3(storage)
        assert storage.put_if_absent("tombstones/c", b"odd prefix")
        assert len(sent) == 1
        assert _get(s3, bucket, "team space/%41+b/tombstones/c") == b"odd prefix"
        assert storage.read("tombstones/c") == b"odd prefix"
    finally:
        storage.close()


def test_put_client_boto3_sends_every_write_through_boto3(
    boto3_storage: S3Storage, s3: Any, bucket: str
) -> None:
    assert boto3_storage.bucket.fast is None
    boto3_storage._check_conditional_writes()
    sent = _puts_through_boto3(boto3_storage)
    assert boto3_storage.upload("models/m/v1", FILES)
    assert sorted(url.rsplit("/", 1)[1] for url in sent) == sorted(FILES)


def test_without_credentials_there_is_no_obstore_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    assert S3Settings(endpoint_url="http://127.0.0.1:1").object_store("b-1", "us-east-1") is None
    with_keys = S3Settings(
        endpoint_url="http://127.0.0.1:1", access_key_id="k", secret_access_key="s"
    )
    assert with_keys.object_store("b-1", "us-east-1") is not None
