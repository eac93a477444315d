"""The ASGI application: ``create_app()`` wires the routes, identity, limits and errors."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.staticfiles import StaticFiles

from flowtime_sim import __version__
from flowtime_sim.service import (
    page,
    page_scenarios,
    routes_artifacts,
    routes_scenarios,
    routes_sim,
)
from flowtime_sim.service.context import ServiceContext
from flowtime_sim.service.identity import Tokens
from flowtime_sim.service.limits import (
    DEFAULT_MAX_BODY_BYTES,
    DEFAULT_MAX_MODEL_CHARS,
    BodyLimit,
    SecurityHeaders,
)
from flowtime_sim.service.problems import PROBLEM_MEDIA_TYPE, install_problem_handlers

if TYPE_CHECKING:
    from flowtime_sim.core import Flowtime

TOKENS_ENV = "FLOWTIME_SIM_TOKENS"
DESCRIPTION = """\
Create, derive and run FlowTime models stored as versioned artifacts.

Errors are RFC 9457 problem documents (`application/problem+json`) whose `field` names the
offending input. With a tokens file configured, every endpoint but `/healthz` needs
`Authorization: Bearer <token>`; artifacts a caller may not see answer 404.
"""


def create_app(
    flowtime: Flowtime | None = None,
    *,
    root: str | None = None,
    tokens_file: str | Path | None = None,
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    max_model_chars: int = DEFAULT_MAX_MODEL_CHARS,
) -> FastAPI:
    """The service over ``flowtime`` (default: a façade over the installed plugins).

    ``root`` defaults to the façade's root, then ``FLOWTIME_ARTIFACTS_ROOT``, then
    ``./artifacts``. ``tokens_file`` defaults to ``$FLOWTIME_SIM_TOKENS`` (``""`` means none,
    whatever the environment says); without one there is a single local user who sees
    everything. A request body over ``max_body_bytes`` is refused
    with 413; a model given as YAML text may be at most ``max_model_chars`` long.
    """
    from flowtime_sim.core import Flowtime
    from flowtime_sim.storage import resolve_root

    ft = flowtime if flowtime is not None else Flowtime(root=root)
    tokens_path = tokens_file if tokens_file is not None else os.environ.get(TOKENS_ENV) or None
    context = ServiceContext(
        ft,
        root=resolve_root(root if root is not None else ft.root),
        tokens=Tokens.load(tokens_path) if tokens_path else None,
        max_body_bytes=max_body_bytes,
        max_model_chars=max_model_chars,
    )
    ft.templates  # noqa: B018 -- load the plugins now: a broken setup fails at start-up

    app = FastAPI(
        title="flowtime-sim",
        version=__version__,
        description=DESCRIPTION,
        docs_url=None,
        redoc_url=None,
        openapi_url="/openapi.json",
    )
    app.state.context = context
    install_problem_handlers(app)
    app.include_router(routes_sim.router)
    app.include_router(routes_scenarios.router)
    app.include_router(routes_artifacts.router)
    app.include_router(routes_artifacts.health_router)
    app.include_router(page.router)
    app.include_router(page_scenarios.router)
    app.mount("/static", StaticFiles(packages=[("flowtime_sim.service", "static")]), name="static")
    app.add_middleware(BodyLimit, limit=max_body_bytes)
    app.add_middleware(SecurityHeaders)
    app.openapi = lambda: _openapi(app, secured=context.tokens is not None)  # type: ignore[method-assign]
    return app


def _openapi(app: FastAPI, *, secured: bool) -> dict[str, Any]:
    """FastAPI's document, with error responses under ``application/problem+json`` and the
    bearer scheme declared when tokens are required."""
    if app.openapi_schema:
        return app.openapi_schema
    doc = get_openapi(
        title=app.title, version=app.version, description=app.description, routes=app.routes
    )
    for path_item in doc.get("paths", {}).values():
        for operation in path_item.values():
            for status, response in operation.get("responses", {}).items():
                content = response.get("content", {})
                if status[:1] in {"4", "5"} and "application/json" in content:
                    content[PROBLEM_MEDIA_TYPE] = content.pop("application/json")
    if secured:
        doc.setdefault("components", {})["securitySchemes"] = {
            "bearer": {"type": "http", "scheme": "bearer"}
        }
        for path, path_item in doc.get("paths", {}).items():
            if path != "/healthz":
                for operation in path_item.values():
                    operation["security"] = [{"bearer": []}]
    app.openapi_schema = doc
    return doc
