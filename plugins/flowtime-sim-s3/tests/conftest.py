from __future__ import annotations

import importlib.util
import os
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

MISSING = "moto[server] is not installed: pip install -e 'plugins/flowtime-sim-s3[test]'"


@pytest.fixture(scope="session")
def loopback_s3() -> Iterator[Any]:
    """moto's S3 on 127.0.0.1; skipped without moto, except under CI where it must run."""
    if importlib.util.find_spec("moto") is None:
        if os.environ.get("CI"):
            pytest.fail(f"CI is set but {MISSING}")
        pytest.skip(MISSING)
    from flowtime_sim_s3.testing import session_server

    server = session_server()
    yield server
    server.stop()


@pytest.fixture
def s3(loopback_s3: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    for name, value in loopback_s3.env.items():
        monkeypatch.setenv(name, value)
    for name in ("AWS_ENDPOINT_URL_S3", "AWS_PROFILE", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    return loopback_s3


@pytest.fixture
def bucket(s3: Any) -> str:
    return str(s3.create_bucket(f"plugin-{secrets.token_hex(6)}"))


@pytest.fixture
def storage(bucket: str, tmp_path: Path) -> Iterator[Any]:
    from flowtime_sim_s3 import S3Storage

    store = S3Storage(f"s3://{bucket}/team/flowtime", {"cache_dir": str(tmp_path / "cache")})
    yield store
    store.close()


@pytest.fixture
def boto3_storage(bucket: str, tmp_path: Path) -> Iterator[Any]:
    """Every request through boto3, whose requests the fault injectors reach."""
    from flowtime_sim_s3 import S3Storage

    store = S3Storage(
        f"s3://{bucket}/team/flowtime",
        {"cache_dir": str(tmp_path / "cache"), "put_client": "boto3"},
    )
    yield store
    store.close()
