"""``s3://bucket/prefix`` roots and the settings that reach them.

Settings come from ``--storage-option key=value`` first, then the standard AWS environment
variables, then botocore's own configuration chain (profiles, instance roles).
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flowtime_sim.errors import UserError

if TYPE_CHECKING:
    from obstore.store import S3Config

_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")

#: every ``--storage-option`` this backend understands, with what it means
OPTIONS: dict[str, str] = {
    "endpoint_url": "S3 endpoint (default: AWS_ENDPOINT_URL_S3, then AWS_ENDPOINT_URL, then AWS)",
    "region": "region (default: AWS_REGION, then AWS_DEFAULT_REGION, then the AWS profile)",
    "profile": "AWS profile name (default: AWS_PROFILE)",
    "access_key_id": "access key (default: AWS_ACCESS_KEY_ID or the profile)",
    "secret_access_key": "secret key (default: AWS_SECRET_ACCESS_KEY or the profile)",
    "session_token": "session token (default: AWS_SESSION_TOKEN)",
    "addressing_style": "path, virtual or auto (path suits most self-hosted services)",
    "put_client": "client of small create-only writes: obstore (default, a fraction of "
    "boto3's CPU per request) or boto3; every other request, and any write obstore does "
    "not complete, goes through boto3",
    "cache_dir": "where this machine keeps the SQLite index of the root when no --index is "
    "given (default: FLOWTIME_SIM_CACHE_DIR, then the user cache folder)",
}


@dataclass(frozen=True, slots=True)
class S3Root:
    """A bucket and a key prefix (``""`` or ``a/b``, no slash at either end)."""

    bucket: str
    prefix: str

    @property
    def url(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}" if self.prefix else f"s3://{self.bucket}"

    def object_key(self, key: str) -> str:
        return f"{self.prefix}/{key}" if self.prefix else key

    def storage_key(self, object_key: str) -> str:
        return object_key[len(self.prefix) + 1 :] if self.prefix else object_key


def parse_root(url: str) -> S3Root:
    """Check and split an ``s3://bucket[/prefix]`` URL."""
    if not url.lower().startswith("s3://"):
        raise UserError(f"{url!r} is not an s3:// URL; write s3://bucket/prefix", field="root")
    rest = url[5:]
    bucket, _, prefix = rest.partition("/")
    if not _BUCKET.match(bucket) or ".." in bucket:
        raise UserError(
            f"{bucket!r} in {url!r} is not a valid S3 bucket name (3 to 63 lower-case "
            "letters, digits, dots and hyphens)",
            field="root",
        )
    prefix = prefix.strip("/")
    if any(c in prefix for c in "?#\\\x00"):
        raise UserError(
            f"the key prefix {prefix!r} in {url!r} may not contain '?', '#', backslashes or NUL",
            field="root",
        )
    if prefix and any(part in {"", ".", ".."} for part in prefix.split("/")):
        raise UserError(
            f"the key prefix {prefix!r} in {url!r} has an empty, '.' or '..' part", field="root"
        )
    return S3Root(bucket, prefix)


@dataclass(frozen=True, slots=True)
class S3Settings:
    endpoint_url: str | None = None
    region: str | None = None
    profile: str | None = None
    access_key_id: str | None = None
    secret_access_key: str | None = None
    session_token: str | None = None
    addressing_style: str | None = None
    put_client: str = "obstore"
    cache_dir: Path = Path(".")

    def session(self) -> Any:
        import boto3

        if self.profile:
            return boto3.session.Session(profile_name=self.profile)
        return boto3.session.Session()

    def client(self) -> Any:
        """A thread-safe boto3 S3 client for these settings."""
        from botocore.config import Config

        session = self.session()
        s3_config = {"addressing_style": self.addressing_style} if self.addressing_style else {}
        config = Config(
            retries={"mode": "standard", "max_attempts": 5},
            max_pool_connections=32,
            s3=s3_config or None,
        )
        return session.client(
            "s3",
            endpoint_url=self.endpoint_url,
            region_name=self.region,
            aws_access_key_id=self.access_key_id,
            aws_secret_access_key=self.secret_access_key,
            aws_session_token=self.session_token,
            config=config,
        )

    def object_store(self, bucket: str, region: str | None) -> Any | None:
        """obstore's store of ``bucket`` with these settings and the credentials boto3 would
        use (``region``: the one boto3 resolved); ``None`` when writes should go through boto3
        (``put_client=boto3``, or no credentials: boto3 then says so)."""
        if self.put_client != "obstore":
            return None
        from datetime import timedelta

        from obstore.store import S3Store

        config: S3Config = {"region": self.region or region or "us-east-1"}
        if self.endpoint_url:
            config["endpoint"] = self.endpoint_url
        if self.addressing_style == "virtual":
            config["virtual_hosted_style_request"] = True
        provider = None
        if self.access_key_id and self.secret_access_key:
            config["access_key_id"] = self.access_key_id
            config["secret_access_key"] = self.secret_access_key
            if self.session_token:
                config["session_token"] = self.session_token
        else:
            from obstore.auth.boto3 import Boto3CredentialProvider

            try:
                provider = Boto3CredentialProvider(self.session())
            except ValueError:  # no credentials anywhere
                return None
        return S3Store(
            bucket,
            config=config,
            credential_provider=provider,
            # one attempt, failing fast: boto3 (standard retries) takes over any write that
            # does not complete at once
            retry_config={"max_retries": 0, "retry_timeout": timedelta(seconds=30)},
            client_options={
                "allow_http": bool(self.endpoint_url and self.endpoint_url.startswith("http:")),
                "connect_timeout": timedelta(seconds=5),
                "timeout": timedelta(seconds=30),
            },
        )

    def cache_folder(self, root: S3Root) -> Path:
        """This root's private folder in the cache (the endpoint is part of its name: the same
        bucket name on two services is two roots)."""
        ident = hashlib.sha256(f"{self.endpoint_url or 'aws'}|{root.url}".encode()).hexdigest()
        return self.cache_dir / "s3" / f"{root.bucket}-{ident[:16]}"


def settings_from(
    options: Mapping[str, str], environ: Mapping[str, str] = os.environ
) -> S3Settings:
    """Combine ``--storage-option`` values with the AWS environment variables."""
    unknown = sorted(set(options) - set(OPTIONS))
    if unknown:
        raise UserError(
            f"unknown storage option {unknown[0]!r} for s3:// roots; known: "
            f"{', '.join(sorted(OPTIONS))}",
            field="storage_options",
        )

    def pick(option: str, *env: str) -> str | None:
        for value in (options.get(option), *(environ.get(e) for e in env)):
            if value:
                return value
        return None

    style = pick("addressing_style")
    if style is not None and style not in {"path", "virtual", "auto"}:
        raise UserError(
            f"storage option addressing_style={style!r} must be path, virtual or auto",
            field="storage_options",
        )
    put_client = pick("put_client") or "obstore"
    if put_client not in {"obstore", "boto3"}:
        raise UserError(
            f"storage option put_client={put_client!r} must be obstore or boto3",
            field="storage_options",
        )
    cache = pick("cache_dir", "FLOWTIME_SIM_CACHE_DIR")
    if cache is None:
        import platformdirs

        cache = platformdirs.user_cache_dir("flowtime-sim", appauthor=False)
    return S3Settings(
        endpoint_url=pick("endpoint_url", "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"),
        region=pick("region", "AWS_REGION", "AWS_DEFAULT_REGION"),
        profile=pick("profile", "AWS_PROFILE"),
        access_key_id=options.get("access_key_id") or None,
        secret_access_key=options.get("secret_access_key") or None,
        session_token=options.get("session_token") or None,
        addressing_style=style,
        put_client=put_client,
        cache_dir=Path(cache).expanduser(),
    )
