"""Publication on S3: commits, retries, crashed writers and what readers see meanwhile."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from faults import answer_instead, lose_response_once
from flowtime_sim.errors import FlowtimeError, UserError

from flowtime_sim_s3 import S3Storage
from flowtime_sim_s3.storage import MARKER

FILES = {"model.yaml": b"schemaVersion: 1\n", "catalog.json": b'{"kind": "model"}\n'}


def _keys(s3: Any, bucket: str, prefix: str = "") -> list[str]:
    pages = s3.client().get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
    return sorted(o["Key"] for page in pages for o in page.get("Contents", []))


def _other_machine(storage: S3Storage, tmp_path: Path) -> S3Storage:
    return S3Storage(storage.url, {"cache_dir": str(tmp_path / "other")})


def test_publish_lays_out_files_and_marker(storage: S3Storage, s3: Any, bucket: str) -> None:
    assert storage.publish("models/m/v1", FILES)
    keys = _keys(s3, bucket)
    assert [k for k in keys if "/models/" in k] == [
        f"team/flowtime/models/m/v1/{MARKER}",
        "team/flowtime/models/m/v1/catalog.json",
        "team/flowtime/models/m/v1/model.yaml",
    ]
    assert [k for k in keys if "/_staging/" in k] == []
    assert [k for k in keys if "/_journal/" in k] == []


def test_a_lost_commit_response_is_retried_without_a_duplicate(
    boto3_storage: S3Storage, s3: Any, bucket: str
) -> None:
    storage = boto3_storage
    lost = lose_response_once(storage.bucket.client, "PUT", MARKER)
    assert storage.publish("models/m/v1", FILES)
    assert lost == {"lost": 1}
    assert storage.read("models/m/v1/model.yaml") == FILES["model.yaml"]
    assert [k.rsplit("/", 1)[1] for k in _keys(s3, bucket, "team/flowtime/models/")] == [
        MARKER,
        "catalog.json",
        "model.yaml",
    ]


def test_committing_again_as_a_retry_would_recognises_its_own_commit(storage: S3Storage) -> None:
    assert storage.publish("models/m/v1", FILES)
    staging = json.loads(storage.read(f"models/m/v1/{MARKER}"))["staging"]
    assert storage._commit("models/m/v1", staging, sorted(FILES))
    assert not storage._commit("models/m/v1", "another-writer", sorted(FILES))
    assert storage.children("models/m") == ["v1"]


def test_a_concurrent_conditional_write_conflict_is_retried(boto3_storage: S3Storage) -> None:
    storage = boto3_storage
    storage._check_conditional_writes()
    state = answer_instead(
        storage.bucket.client, "PUT", MARKER, 409, "ConditionalRequestConflict", times=2
    )
    assert storage.publish("models/m/v1", FILES)
    assert state == {"answered": 2}
    assert storage.read("models/m/v1/catalog.json") == FILES["catalog.json"]


def test_a_writer_that_dies_before_its_commit_leaves_only_staging(
    storage: S3Storage, s3: Any, bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def die(*_: Any) -> bool:
        raise RuntimeError("killed")

    monkeypatch.setattr(storage, "_commit", die)
    with pytest.raises(RuntimeError):
        storage.publish("models/m/v1", FILES)
    assert not storage.exists("models/m/v1") and storage.children("models/m") == []
    with pytest.raises(KeyError):
        storage.read("models/m/v1/model.yaml")
    assert list(storage.walk_catalogs()) == []
    assert storage.abandoned_staging(3600) == []
    [name] = storage.abandoned_staging(0)
    storage.remove_staging(name)
    assert _keys(s3, bucket, "team/flowtime/_staging/") == []
    assert _keys(s3, bucket, "team/flowtime/models/") == []


def test_a_writer_that_dies_after_its_commit_is_finished_by_gc(
    storage: S3Storage, s3: Any, bucket: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def die(*_: Any) -> None:
        raise RuntimeError("killed")

    with monkeypatch.context() as patch, pytest.raises(RuntimeError):
        patch.setattr(storage, "_finish", die)
        storage.publish("models/m/v1", FILES)
    # committed: complete for every reader although no file reached its final key yet
    assert _keys(s3, bucket, "team/flowtime/models/") == [f"team/flowtime/models/m/v1/{MARKER}"]
    assert storage.children("models/m") == ["v1"]
    assert storage.exists("models/m/v1") and storage.exists("models/m/v1/model.yaml")
    assert storage.read("models/m/v1/model.yaml") == FILES["model.yaml"]
    assert list(storage.walk_catalogs()) == [("models/m/v1/catalog.json", FILES["catalog.json"])]
    assert not storage.publish("models/m/v1", {"model.yaml": b"late\n"})
    [name] = storage.abandoned_staging(0)
    storage.remove_staging(name)
    assert [k.rsplit("/", 1)[1] for k in _keys(s3, bucket, "team/flowtime/models/")] == [
        MARKER,
        "catalog.json",
        "model.yaml",
    ]
    assert _keys(s3, bucket, "team/flowtime/_staging/") == []
    other = _other_machine(storage, tmp_path)
    assert list(other.walk_catalogs()) == [("models/m/v1/catalog.json", FILES["catalog.json"])]


def test_a_bundle_that_lost_the_race_is_simply_removed(
    storage: S3Storage, s3: Any, bucket: str
) -> None:
    assert storage.publish("models/m/v1", FILES)
    from flowtime_sim_s3.bundle import encode_bundle

    storage.bucket.put(
        storage._obj("_staging/00000000001-loser"),
        encode_bundle("models/m/v1", {"model.yaml": b"loser\n"}),
    )
    storage.bucket.put(storage._obj("_staging/00000000002-junk"), b"not a bundle")
    assert storage.abandoned_staging(0) == ["00000000001-loser", "00000000002-junk"]
    for name in storage.abandoned_staging(0):
        storage.remove_staging(name)
    assert _keys(s3, bucket, "team/flowtime/_staging/") == []
    assert storage.read("models/m/v1/model.yaml") == FILES["model.yaml"]
    with pytest.raises(UserError, match=r"invalid staging name '\.\./x'"):
        storage.remove_staging("../x")


def test_remove_uncommits_first_then_deletes_everything(
    storage: S3Storage, s3: Any, bucket: str
) -> None:
    assert storage.publish("runs/r1", {"binned_v0.csv": b"bin\n", "catalog.json": b"{}"})
    assert storage.put_if_absent("tombstones/runs/r1", b"{}")
    storage.remove("runs/r1")
    assert not storage.exists("runs/r1")
    assert _keys(s3, bucket, "team/flowtime/runs/") == []
    assert storage.exists("tombstones/runs/r1")


def test_a_service_that_ignores_conditional_writes_is_refused(
    storage: S3Storage, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(storage.bucket, "create", lambda key, data: 1.0)
    with pytest.raises(
        UserError,
        match=r"the S3 service at http://127\.0\.0\.1:\d+ ignored a "
        r"conditional write \(If-None-Match: \*\); flowtime-sim "
        r"cannot publish safely to s3://plugin-\w+/team/flowtime "
        "without it",
    ):
        storage.publish("models/m/v1", FILES)


def test_conditional_writes_are_checked_once_per_machine(storage: S3Storage) -> None:
    flag = storage.settings.cache_folder(storage.root) / "conditional-writes-ok"
    assert not flag.exists()
    assert storage.put_if_absent("tombstones/a", b"1")
    assert flag.exists()
    again = S3Storage(storage.url, {"cache_dir": str(storage.settings.cache_dir)})
    calls: list[str] = []
    real = again.bucket.create
    again.bucket.create = lambda key, data: calls.append(key) or real(key, data)  # type: ignore
    assert again.put_if_absent("tombstones/b", b"1")
    assert calls == [again._obj("tombstones/b")]


def test_a_service_without_conditional_writes_is_named(boto3_storage: S3Storage) -> None:
    storage = boto3_storage
    answer_instead(storage.bucket.client, "PUT", "_probe", 501, "NotImplemented")
    with pytest.raises(
        UserError,
        match=r"the S3 service at http://127\.0\.0\.1:\d+ does not "
        r"support conditional writes \(If-None-Match: \*\), which "
        "flowtime-sim needs to publish safely to s3://",
    ):
        storage.publish("models/m/v1", FILES)


def test_other_service_errors_name_the_key_and_the_code(storage: S3Storage) -> None:
    answer_instead(storage.bucket.client, "GET", "model.yaml", 400, "InvalidRequest")
    with pytest.raises(
        FlowtimeError,
        match=r"S3 refused to read team/flowtime/models/m/v1/"
        r"model\.yaml in s3://plugin-\w+/team/flowtime: "
        "InvalidRequest injected",
    ):
        storage.read("models/m/v1/model.yaml")


def test_upload_creates_each_file_at_its_final_key_once(
    storage: S3Storage, s3: Any, bucket: str
) -> None:
    assert storage.upload("models/m/v1", FILES)
    assert _keys(s3, bucket, "team/flowtime/models/") == [
        "team/flowtime/models/m/v1/catalog.json",
        "team/flowtime/models/m/v1/model.yaml",
    ]
    assert storage.read("models/m/v1/model.yaml") == FILES["model.yaml"]
    assert list(storage.walk_catalogs()) == [("models/m/v1/catalog.json", FILES["catalog.json"])]
    # create-only: a second upload to the same key changes nothing
    assert not storage.upload("models/m/v1", {"model.yaml": b"late\n", "catalog.json": b"{}"})
    assert storage.read("models/m/v1/model.yaml") == FILES["model.yaml"]


def test_a_stream_larger_than_a_part_is_uploaded_in_parts_create_only(
    storage: S3Storage, s3: Any, bucket: str
) -> None:
    import io

    from flowtime_sim_s3.objects import _parts

    assert [len(p) for p in _parts([b"ab", b"cde", b"f"], 4)] == [4, 2]
    size = 11 * 1024 * 1024  # two parts of 8 MiB and 3 MiB
    data = bytes(range(256)) * (size // 256)
    assert storage.upload(
        "runs/r1", {"binned_v0.csv": io.BytesIO(data), "catalog.json": iter([b"{", b"}"])}
    )
    assert storage.read("runs/r1/binned_v0.csv") == data
    assert storage.read("runs/r1/catalog.json") == b"{}"
    assert not storage.upload("runs/r1", {"binned_v0.csv": io.BytesIO(data)})
    uploads = s3.client().list_multipart_uploads(Bucket=bucket).get("Uploads", [])
    assert uploads == []  # the refused one was aborted
