"""Request-size limits and the headers every response carries, as plain ASGI middleware."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from flowtime_sim.service.problems import ServiceProblem, problem_response

DEFAULT_MAX_BODY_BYTES = 4 * 1024 * 1024
#: A model given as YAML text (``POST /sim/run`` with ``model``) may not be longer than this.
#: A 100,000-bin grid of const nodes fits; the body limit must leave room for it.
DEFAULT_MAX_MODEL_CHARS = 3 * 1024 * 1024


def too_large(limit: int) -> ServiceProblem:
    return ServiceProblem(
        413,
        f"the request body is larger than the limit of {limit} bytes; "
        "send less (a model as YAML, parameters as JSON)",
        field="body",
    )


class BodyLimit:
    """Refuse a body over ``limit`` bytes with 413: at once when ``Content-Length`` says so,
    otherwise as soon as the bytes received pass the limit, never reading the rest."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > self.limit:
            problem = too_large(self.limit)
            response = problem_response(
                413,
                str(problem.detail),
                instance=scope.get("path"),
                field="body",
                headers={"Connection": "close"},
            )
            await response(scope, receive, send)
            return
        received = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    raise too_large(self.limit)  # FastAPI passes HTTPExceptions through
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except ServiceProblem as exc:
            # Raised outside FastAPI's body parsing (a route reading the stream itself).
            if started or exc.status_code != 413:
                raise
            response = problem_response(
                413,
                str(exc.detail),
                instance=scope.get("path"),
                field="body",
                headers={"Connection": "close"},
            )
            await response(scope, receive, send)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


class SecurityHeaders:
    """``X-Content-Type-Options: nosniff`` and ``Referrer-Policy`` on every response; pages
    and files set their own ``Content-Security-Policy``."""

    HEADERS = ((b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"same-origin"))

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", ()), *self.HEADERS]
            await send(message)

        await self.app(scope, receive, with_headers)
