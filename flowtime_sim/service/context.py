"""What every request handler shares: the façade, the root, the tokens and the limits."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

import anyio.to_thread
from fastapi import Request

from flowtime_sim.service.access import Access
from flowtime_sim.service.identity import SESSION_COOKIE, Caller, Tokens
from flowtime_sim.service.problems import ServiceProblem

if TYPE_CHECKING:
    from flowtime_sim.core import Flowtime

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
T = TypeVar("T")


class ServiceContext:
    """The service's state, kept on ``app.state.context``.

    Handlers run on the event loop and in the thread pool, and the listing index's SQLite
    connection belongs to the thread that opened it, so each thread gets its own façade over
    the same plugins and root (:meth:`flowtime`).
    """

    def __init__(
        self,
        flowtime: Flowtime,
        *,
        root: str,
        tokens: Tokens | None,
        max_body_bytes: int,
        max_model_chars: int,
    ) -> None:
        from flowtime_sim.registry.catalog import default_owner
        from flowtime_sim.storage import scheme_of

        self.base = flowtime
        self.root = root
        self.local_root = scheme_of(root) == "file"
        self.tokens = tokens
        self.max_body_bytes = max_body_bytes
        self.max_model_chars = max_model_chars
        self.local_caller = Caller(flowtime.owner or default_owner(), sees_everything=True)
        self._local = threading.local()

    def flowtime(self) -> Flowtime:
        """This thread's façade (plugins and templates shared, registry handles its own)."""
        ft: Flowtime | None = getattr(self._local, "flowtime", None)
        if ft is None:
            from flowtime_sim.core import Flowtime

            ft = Flowtime(
                host=self.base.host,
                root=self.root,
                owner=self.base.owner,
                storage_options=self.base.storage_options,
                index=self.base.index,
            )
            self._local.flowtime = ft
        return ft

    def access(self, caller: Caller) -> Access:
        """This thread's façade as ``caller`` sees it."""
        return Access(self.flowtime(), caller)

    async def read(self, caller: Caller, work: Callable[[Access], T]) -> T:
        """Run ``work``, a read of one artifact, as ``caller``.

        On a local root it runs right here on the event loop: reading a catalog or a file is
        quicker than the hop to a worker thread and back, and under load those hops, not the
        reads, were what the service spent its time on. Any other root may be remote, so
        its reads go to the thread pool where a slow one blocks nobody.
        """
        if self.local_root:
            return work(self.access(caller))
        return await anyio.to_thread.run_sync(lambda: work(self.access(caller)))

    def identify(self, request: Request) -> Caller | None:
        """The caller, or None when a tokens file is configured and no credentials came.

        A bearer token wins over the page's session cookie; a bad token is refused (401),
        a stale cookie counts as no credentials.
        """
        if self.tokens is None:
            return self.local_caller
        header = request.headers.get("authorization")
        if header is not None:
            scheme, _, token = header.strip().partition(" ")
            if scheme.lower() != "bearer" or not token.strip():
                raise ServiceProblem(
                    401,
                    "the Authorization header must be 'Bearer <token>'",
                    field="authorization",
                    headers={"WWW-Authenticate": 'Bearer error="invalid_request"'},
                )
            account = self.tokens.authenticate(token.strip())
            if account is None:
                raise ServiceProblem(
                    401,
                    "the bearer token is not valid; ask the operator of this service for a token",
                    field="authorization",
                    headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
                )
            return self.tokens.caller(account)
        cookie = request.cookies.get(SESSION_COOKIE)
        account = self.tokens.authenticate(cookie) if cookie else None
        if account is None:
            return None
        if request.method not in SAFE_METHODS and not _same_origin(request):
            # The cookie rides along on cross-site requests; only the page itself may use it.
            raise ServiceProblem(
                403,
                "a signed-in page may only send requests from its own "
                "origin; other clients send 'Authorization: Bearer "
                "<token>'",
                field="origin",
            )
        return self.tokens.caller(account, by_cookie=True)

    def authenticate(self, request: Request) -> Caller:
        caller = self.identify(request)
        if caller is None:
            raise ServiceProblem(
                401,
                "authentication required: send 'Authorization: Bearer <token>'",
                field="authorization",
                headers={"WWW-Authenticate": 'Bearer realm="flowtime-sim"'},
            )
        return caller


def _same_origin(request: Request) -> bool:
    origin = request.headers.get("origin")
    host = request.headers.get("host")
    return origin is not None and host is not None and origin == f"{request.url.scheme}://{host}"


def context_of(request: Request) -> ServiceContext:
    context: ServiceContext = request.app.state.context
    return context


async def current_caller(request: Request) -> Caller:
    """FastAPI dependency: the authenticated caller (401 problem otherwise).

    ``async`` although it awaits nothing: it does no I/O, and FastAPI would run a plain
    function in the thread pool, one more thread hop per request.
    """
    return context_of(request).authenticate(request)
