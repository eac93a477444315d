"""A synchronous ``httpx.Client`` that sends its requests to an ASGI app in-process."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx


class _InProcessTransport(httpx.BaseTransport):
    """Runs httpx's ASGI transport on a private event loop, so tests need no async."""

    def __init__(self, app: Any) -> None:
        self._asgi = httpx.ASGITransport(app=app)
        self._loop = asyncio.new_event_loop()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        body = request.read()
        forwarded = httpx.Request(
            request.method,
            request.url,
            headers=request.headers,
            content=body,
            extensions=request.extensions,
        )

        async def send() -> httpx.Response:
            response = await self._asgi.handle_async_request(forwarded)
            content = await response.aread()
            return httpx.Response(
                response.status_code, headers=response.headers, content=content, request=request
            )

        return self._loop.run_until_complete(send())

    def close(self) -> None:
        if not self._loop.is_closed():
            self._loop.run_until_complete(self._asgi.aclose())
            self._loop.close()


def app_client(app: Any, **kwargs: Any) -> httpx.Client:
    """An ``httpx.Client`` for ``app`` (base URL ``http://testserver``); close it when done.

    Exceptions the app does not handle propagate into the test.
    """
    kwargs.setdefault("base_url", "http://testserver")
    return httpx.Client(transport=_InProcessTransport(app), **kwargs)
