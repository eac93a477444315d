"""Faults injected into a boto3 client's requests, at the HTTP level."""

from __future__ import annotations

import urllib.request
from collections.abc import Callable
from typing import Any


def _matches(request: Any, method: str, needle: str) -> bool:
    return bool(request.method == method and needle in request.url)


def lose_response_once(client: Any, method: str, needle: str) -> dict[str, int]:
    """The first ``method`` request whose URL contains ``needle`` reaches the service, but its
    response is lost on the way back (the connection drops); the SDK then retries it."""
    from botocore.exceptions import ConnectionClosedError

    state = {"lost": 0}

    def handler(request: Any, **_: Any) -> None:
        if state["lost"] or not _matches(request, method, needle):
            return
        state["lost"] += 1
        body = request.body
        if hasattr(body, "read"):
            body.seek(0)
            body, _ = body.read(), body.seek(0)
        headers = {
            k: v.decode() if isinstance(v, bytes) else v
            for k, v in request.headers.items()
            if k.lower() != "expect"
        }  # urllib cannot wait for "100 Continue"
        # urllib would label the body as a form, and the server would then parse it away
        headers.setdefault("Content-Type", "application/octet-stream")
        sent = urllib.request.Request(request.url, data=body, method=method, headers=headers)
        with urllib.request.urlopen(sent) as response:
            response.read()
        raise ConnectionClosedError(endpoint_url=request.url)

    client.meta.events.register("before-send.s3", handler)
    return state


def answer_instead(
    client: Any, method: str, needle: str, status: int, code: str, times: int = 1
) -> dict[str, int]:
    """Answer the first ``times`` matching requests with an S3 error, without sending them."""
    from botocore.awsrequest import AWSResponse

    state = {"answered": 0}

    class Raw:
        def __init__(self, data: bytes) -> None:
            self.data = data

        def stream(self, **_: Any) -> Any:
            yield self.data

    def handler(request: Any, **_: Any) -> AWSResponse | None:
        if state["answered"] >= times or not _matches(request, method, needle):
            return None
        state["answered"] += 1
        body = (
            f"<?xml version='1.0' encoding='UTF-8'?><Error><Code>{code}</Code>"
            f"<Message>injected</Message></Error>"
        ).encode()
        return AWSResponse(request.url, status, {"Content-Type": "application/xml"}, Raw(body))

    client.meta.events.register("before-send.s3", handler)
    return state


Handler = Callable[..., Any]
