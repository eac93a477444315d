"""Object operations on one bucket, with S3's failures turned into the project's errors.

Keys here are full object keys. "Absent" is a value (``None``/``False``), never an exception;
every other failure the user can act on (no bucket, no credentials, no endpoint, no permission,
a service without conditional writes) becomes a :class:`~flowtime_sim.errors.UserError` that
names the root and what to do.
"""

from __future__ import annotations

import contextlib
import itertools
import re
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from email.utils import parsedate_to_datetime
from functools import cached_property
from typing import Any

from flowtime_sim.errors import FlowtimeError, NotFoundError, UserError

from flowtime_sim_s3.location import S3Root, S3Settings

#: multipart uploads: S3 wants parts of at least 5 MiB (but the last)
PART_SIZE = 8 * 1024 * 1024
#: keys obstore writes exactly as boto3 would (others, percent-encoded differently, go
#: through boto3): the project's own keys always are
_PLAIN_KEY = re.compile(r"^[A-Za-z0-9._-]+(?:/[A-Za-z0-9._-]+)*$")
#: S3 answers 409 while another conditional write to the same key is in flight: try again
CONFLICT_RETRIES = 8


@dataclass(frozen=True, slots=True)
class Listed:
    key: str
    size: int
    modified: float  # seconds since the epoch, the service's clock


@dataclass(frozen=True, slots=True)
class Listing:
    objects: list[Listed]
    folders: list[str]  # common prefixes, with their trailing "/"
    server_time: float


class Bucket:
    """One bucket through boto3 (thread-safe), with small create-only writes sent first
    through obstore: a request there costs a fraction of boto3's CPU, which is most of what a
    writer spends on storage. obstore answers only successes: a write it does not complete
    (the key exists, a conflict, an error of any kind) is asked again through boto3, whose
    answer counts, so retries and error messages are the same either way."""

    def __init__(self, root: S3Root, settings: S3Settings) -> None:
        self.root = root
        self.settings = settings
        self.name = root.bucket

    @cached_property
    def client(self) -> Any:
        with self.errors("connect to", self.root.url):
            return self.settings.client()

    @cached_property
    def fast(self) -> Any | None:
        """obstore's store of the bucket, or ``None`` (every write through boto3)."""
        with self.errors("connect to", self.root.url):
            region = self.client.meta.region_name
        try:
            return self.settings.object_store(self.name, region)
        except Exception:  # obstore refusing the configuration: boto3 does everything
            return None

    def _fast_create(self, key: str, data: bytes) -> bool:
        """``True`` when obstore created ``key``; ``False`` for any other outcome."""
        if not _PLAIN_KEY.match(key) or self.fast is None:
            return False
        import obstore

        try:
            obstore.put(self.fast, key, data, mode="create")
        except Exception:
            return False
        return True

    @contextlib.contextmanager
    def errors(self, action: str, key: str) -> Iterator[None]:
        from botocore.exceptions import (
            BotoCoreError,
            ClientError,
            EndpointConnectionError,
            NoCredentialsError,
            PartialCredentialsError,
        )

        where = self.settings.endpoint_url or "AWS S3"
        try:
            yield
        except (NoCredentialsError, PartialCredentialsError):
            raise UserError(
                f"no AWS credentials to {action} {self.root.url}: set "
                "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or AWS_PROFILE), or pass "
                "--storage-option access_key_id=... and secret_access_key=...",
                field="root",
            ) from None
        except EndpointConnectionError as exc:
            raise UserError(
                f"cannot reach the S3 endpoint {where} to {action} {self.root.url} "
                f"({exc}); check AWS_ENDPOINT_URL and the network",
                field="root",
            ) from None
        except ClientError as exc:
            code = error_code(exc)
            if code == "NoSuchBucket":
                raise NotFoundError(
                    f"bucket {self.name!r} does not exist at {where} (root "
                    f"{self.root.url}); create it first or check the endpoint",
                    field="root",
                ) from None
            if code in {"AccessDenied", "403", "InvalidAccessKeyId", "SignatureDoesNotMatch"}:
                raise UserError(
                    f"access denied to {action} {key} in {self.root.url} ({code}); "
                    "check the credentials and the bucket's policy",
                    field="root",
                ) from None
            raise FlowtimeError(
                f"S3 refused to {action} {key} in {self.root.url}: {code} "
                f"{exc.response.get('Error', {}).get('Message', '')}".rstrip()
            ) from exc
        except BotoCoreError as exc:
            raise FlowtimeError(f"S3 failed to {action} {key} in {self.root.url}: {exc}") from exc

    # -- reading ----------------------------------------------------------------------------

    def get(self, key: str) -> bytes | None:
        from botocore.exceptions import ClientError

        with self.errors("read", key):
            try:
                body: bytes = self.client.get_object(Bucket=self.name, Key=key)["Body"].read()
                return body
            except ClientError as exc:
                if error_code(exc) in {"NoSuchKey", "404"}:
                    return None
                raise

    def head(self, key: str) -> bool:
        from botocore.exceptions import ClientError

        with self.errors("look up", key):
            try:
                self.client.head_object(Bucket=self.name, Key=key)
                return True
            except ClientError as exc:
                if error_code(exc) in {"NoSuchKey", "404", "NotFound"}:
                    return False
                raise

    def list_objects(
        self,
        prefix: str,
        *,
        delimiter: str | None = None,
        start_after: str | None = None,
        max_keys: int | None = None,
    ) -> Listing:
        """Every object (and common prefix) under ``prefix``, following continuation tokens."""
        args: dict[str, Any] = {"Bucket": self.name, "Prefix": prefix}
        if delimiter:
            args["Delimiter"] = delimiter
        if start_after:
            args["StartAfter"] = start_after
        if max_keys:
            args["MaxKeys"] = max_keys
        objects: list[Listed] = []
        folders: list[str] = []
        server_time = 0.0
        with self.errors("list", prefix or "/"):
            while True:
                page = self.client.list_objects_v2(**args)
                server_time = server_time or response_time(page)
                objects += [
                    Listed(o["Key"], int(o.get("Size", 0)), _epoch(o["LastModified"]))
                    for o in page.get("Contents", [])
                ]
                folders += [p["Prefix"] for p in page.get("CommonPrefixes", [])]
                token = page.get("NextContinuationToken")
                if max_keys or not page.get("IsTruncated") or not token:
                    break
                args.pop("StartAfter", None)
                args["ContinuationToken"] = token
        return Listing(objects, folders, server_time)

    # -- writing ----------------------------------------------------------------------------

    def put(self, key: str, data: bytes) -> float:
        """Write (or overwrite) ``key``; returns the service's time of the write."""
        with self.errors("write", key):
            return response_time(self.client.put_object(Bucket=self.name, Key=key, Body=data))

    def create(self, key: str, data: bytes) -> bool:
        """Write ``key`` only if it does not exist (``If-None-Match: *``); ``False`` when the
        key exists."""
        from botocore.exceptions import ClientError

        if self._fast_create(key, data):
            return True
        with self.errors("create", key):
            for attempt in range(CONFLICT_RETRIES):
                try:
                    self.client.put_object(Bucket=self.name, Key=key, Body=data, IfNoneMatch="*")
                    return True
                except ClientError as exc:
                    code, status = error_code(exc), error_status(exc)
                    if code == "PreconditionFailed" or status == 412:
                        return False
                    if code == "ConditionalRequestConflict" or status == 409:
                        time.sleep(0.05 * 2**attempt)
                        continue
                    if code == "NotImplemented" or status == 501:
                        raise UserError(
                            f"the S3 service at {self.settings.endpoint_url or 'AWS'} does not "
                            "support conditional writes (If-None-Match: *), which "
                            f"flowtime-sim needs to publish safely to {self.root.url}",
                            field="root",
                        ) from None
                    raise
        raise FlowtimeError(
            f"S3 kept reporting a conflicting write to {key} in {self.root.url}; try again"
        )

    def create_stream(self, key: str, chunks: Iterable[bytes], part_size: int = PART_SIZE) -> bool:
        """Like :meth:`create` for bytes of any size, read from ``chunks`` once: small ones in
        one request, large ones as a multipart upload completed with ``If-None-Match: *``.
        At most two parts are held in memory whatever the size."""
        from botocore.exceptions import ClientError

        parts = _parts(chunks, part_size)
        first = next(parts, b"")
        second = next(parts, None)
        if second is None:
            return self.create(key, first)
        with self.errors("create", key):
            upload = self.client.create_multipart_upload(Bucket=self.name, Key=key)["UploadId"]
        try:
            done = []
            with self.errors("write", key):
                for number, part in enumerate(itertools.chain([first, second], parts), 1):
                    etag = self.client.upload_part(
                        Bucket=self.name, Key=key, UploadId=upload, PartNumber=number, Body=part
                    )["ETag"]
                    done.append({"ETag": etag, "PartNumber": number})
                    first = second = b""  # let the first two parts go
            with self.errors("create", key):
                try:
                    self.client.complete_multipart_upload(
                        Bucket=self.name,
                        Key=key,
                        UploadId=upload,
                        IfNoneMatch="*",
                        MultipartUpload={"Parts": done},
                    )
                    return True
                except ClientError as exc:
                    if error_code(exc) == "PreconditionFailed" or error_status(exc) == 412:
                        self._abort(key, upload)
                        return False
                    raise
        except BaseException:
            self._abort(key, upload)
            raise

    def _abort(self, key: str, upload: str) -> None:
        with contextlib.suppress(Exception):
            self.client.abort_multipart_upload(Bucket=self.name, Key=key, UploadId=upload)

    def delete(self, key: str) -> None:
        with self.errors("delete", key):
            self.client.delete_object(Bucket=self.name, Key=key)

    def delete_many(self, keys: list[str]) -> None:
        for start in range(0, len(keys), 1000):
            batch = [{"Key": k} for k in keys[start : start + 1000]]
            with self.errors("delete", batch[0]["Key"]):
                self.client.delete_objects(
                    Bucket=self.name, Delete={"Objects": batch, "Quiet": True}
                )


def _parts(chunks: Iterable[bytes], size: int) -> Iterator[bytes]:
    """``chunks`` regrouped into parts of exactly ``size`` bytes (the last one shorter)."""
    buffer = bytearray()
    for chunk in chunks:
        buffer += chunk
        while len(buffer) >= size:
            yield bytes(buffer[:size])
            del buffer[:size]
    if buffer:
        yield bytes(buffer)


def error_code(exc: Any) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def error_status(exc: Any) -> int:
    return int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0))


def response_time(response: Any) -> float:
    """The service's clock from a response's ``Date`` header (this machine's as a fallback):
    journal entries are named by it, so machines with skewed clocks still agree on order."""
    date = response.get("ResponseMetadata", {}).get("HTTPHeaders", {}).get("date")
    if date:
        with contextlib.suppress(TypeError, ValueError):
            return parsedate_to_datetime(date).timestamp()
    return time.time()


def _epoch(value: Any) -> float:
    return value.timestamp() if isinstance(value, datetime) else float(value)
