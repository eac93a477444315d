from __future__ import annotations

import os
import secrets
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from kit import S3_MISSING, S3_READY, Backend


@pytest.fixture(scope="session")
def loopback_s3() -> Iterator[Any]:
    """moto's S3 on 127.0.0.1 for the whole session: the server at
    ``FLOWTIME_SIM_TEST_S3_ENDPOINT`` when set, else one in this process. Skipped when moto or
    the s3 plugin is not installed — except under CI, where the S3 backend must be tested."""
    if not S3_READY:
        if os.environ.get("CI"):
            pytest.fail(f"CI is set but {S3_MISSING}")
        pytest.skip(S3_MISSING)
    from flowtime_sim_s3.testing import session_server

    server = session_server()
    yield server
    server.stop()


@pytest.fixture
def s3_env(loopback_s3: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Any:
    """The AWS environment pointing at the loopback server, and a private listing cache."""
    for name, value in loopback_s3.env.items():
        monkeypatch.setenv(name, value)
    for name in ("AWS_ENDPOINT_URL_S3", "AWS_PROFILE", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("FLOWTIME_SIM_CACHE_DIR", str(tmp_path / "cache"))
    return loopback_s3


PAIRINGS = ["file-sqlite", "file-postgresql", "s3-sqlite", "s3-postgresql"]


@pytest.fixture(params=PAIRINGS)
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    """Every blob store × index pairing: the contract holds for each."""
    return _backend(request, tmp_path, str(request.param))


@pytest.fixture(params=[p for p in PAIRINGS if p.endswith("-sqlite")])
def sqlite_backend(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    """Every blob store with the embedded index (a cache of the stored catalogs)."""
    return _backend(request, tmp_path, str(request.param))


def _backend(request: pytest.FixtureRequest, tmp_path: Path, pairing: str) -> Backend:
    store, _, index_kind = pairing.partition("-")
    index = request.getfixturevalue("pg_url") if index_kind == "postgresql" else None
    if store == "file":
        return Backend("file", str(tmp_path / "root"), tmp_path / "cache", index=index)
    server = request.getfixturevalue("s3_env")
    bucket = server.create_bucket(f"contract-{secrets.token_hex(6)}")
    return Backend("s3", f"s3://{bucket}/root", tmp_path / "cache", server, bucket, index=index)
