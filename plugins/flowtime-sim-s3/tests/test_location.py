"""Root URLs, options and where settings come from."""

from __future__ import annotations

from pathlib import Path

import pytest
from flowtime_sim.errors import UserError

from flowtime_sim_s3.location import S3Root, parse_root, settings_from


@pytest.mark.parametrize(
    ("url", "bucket", "prefix"),
    [
        ("s3://team-bucket/flowtime", "team-bucket", "flowtime"),
        ("s3://team-bucket/a/b/", "team-bucket", "a/b"),
        ("s3://team-bucket", "team-bucket", ""),
        ("S3://my.bucket.01/x", "my.bucket.01", "x"),
    ],
)
def test_roots_split_into_bucket_and_prefix(url: str, bucket: str, prefix: str) -> None:
    root = parse_root(url)
    assert (root.bucket, root.prefix) == (bucket, prefix)
    assert root.url == (f"s3://{bucket}/{prefix}" if prefix else f"s3://{bucket}")


def test_object_keys_live_under_the_prefix() -> None:
    assert S3Root("b-1", "p/q").object_key("models/m/v1") == "p/q/models/m/v1"
    assert S3Root("b-1", "p/q").storage_key("p/q/models/m/v1") == "models/m/v1"
    assert S3Root("b-1", "").object_key("runs/r") == "runs/r"


@pytest.mark.parametrize(
    ("url", "message"),
    [
        (
            "s3://Bad_Bucket/x",
            r"'Bad_Bucket' in 's3://Bad_Bucket/x' is not a valid S3 bucket name "
            r"\(3 to 63 lower-case letters, digits, dots and hyphens\)",
        ),
        ("s3://ab/x", "'ab' in 's3://ab/x' is not a valid S3 bucket name"),
        (
            "s3://bucket/a/../b",
            r"the key prefix 'a/../b' in 's3://bucket/a/../b' has an empty, "
            r"'.' or '..' part",
        ),
        ("s3://bucket/a//b", "the key prefix 'a//b' in 's3://bucket/a//b' has an empty"),
        (
            "s3://bucket/a?x=1",
            r"the key prefix 'a\?x=1' in 's3://bucket/a\?x=1' may not contain "
            r"'\?', '#', backslashes or NUL",
        ),
        ("gs://bucket/x", r"'gs://bucket/x' is not an s3:// URL; write s3://bucket/prefix"),
    ],
)
def test_bad_roots_are_refused_with_the_reason(url: str, message: str) -> None:
    with pytest.raises(UserError, match=message):
        parse_root(url)


def test_options_win_over_the_environment_which_wins_over_defaults(tmp_path: Path) -> None:
    env = {
        "AWS_ENDPOINT_URL": "http://generic:1",
        "AWS_ENDPOINT_URL_S3": "http://s3only:2",
        "AWS_DEFAULT_REGION": "eu-west-1",
        "AWS_REGION": "eu-central-1",
        "FLOWTIME_SIM_CACHE_DIR": str(tmp_path),
    }
    s = settings_from({}, env)
    assert (s.endpoint_url, s.region, s.cache_dir) == ("http://s3only:2", "eu-central-1", tmp_path)
    s = settings_from(
        {
            "endpoint_url": "http://option:3",
            "region": "us-west-2",
            "cache_dir": str(tmp_path / "c"),
        },
        env,
    )
    assert (s.endpoint_url, s.region, s.cache_dir) == (
        "http://option:3",
        "us-west-2",
        tmp_path / "c",
    )
    s = settings_from(
        {}, {"AWS_ENDPOINT_URL": "http://generic:1", "AWS_DEFAULT_REGION": "eu-west-1"}
    )
    assert (s.endpoint_url, s.region) == ("http://generic:1", "eu-west-1")
    assert "flowtime-sim" in str(s.cache_dir)


def test_unknown_and_malformed_options_are_refused() -> None:
    with pytest.raises(
        UserError,
        match="unknown storage option 'endpoint' for s3:// roots; "
        "known: access_key_id, addressing_style, cache_dir, ",
    ):
        settings_from({"endpoint": "x"}, {})
    # the journal is gone, and so are its options
    with pytest.raises(UserError, match="unknown storage option 'journal_lag' for s3:// roots"):
        settings_from({"journal_lag": "30"}, {})
    with pytest.raises(
        UserError, match="storage option addressing_style='sideways' must be path, virtual or auto"
    ):
        settings_from({"addressing_style": "sideways"}, {})
    with pytest.raises(
        UserError, match="storage option put_client='curl' must be obstore or boto3"
    ):
        settings_from({"put_client": "curl"}, {})
    assert settings_from({}, {}).put_client == "obstore"
    assert settings_from({"put_client": "boto3"}, {}).put_client == "boto3"


def test_the_cache_folder_depends_on_endpoint_and_root(tmp_path: Path) -> None:
    root = parse_root("s3://team-bucket/p")
    a = settings_from({"cache_dir": str(tmp_path), "endpoint_url": "http://a:1"}, {})
    b = settings_from({"cache_dir": str(tmp_path), "endpoint_url": "http://b:1"}, {})
    assert a.cache_folder(root) != b.cache_folder(root)
    assert a.cache_folder(root) != a.cache_folder(parse_root("s3://team-bucket/q"))
    assert a.cache_folder(root).parent == tmp_path / "s3"
    assert a.cache_folder(root).name.startswith("team-bucket-")
