"""RFC 9457 problem details: every error the service answers is one of these documents.

A problem names the offending input in ``field`` (``template``, ``parameters.peak_factor``,
``limit``...) and, when there are several, lists each one in ``errors``.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException

from flowtime_sim.errors import (
    ConflictError,
    FlowtimeError,
    ModelError,
    NotFoundError,
    ParameterError,
    PluginError,
    TemplateError,
    UnavailableError,
    UserError,
)
from flowtime_sim.limits import LimitError

#: The HTTP status of each kind of user error; any other user error is a 400.
STATUS_OF_ERROR: tuple[tuple[type[UserError], int], ...] = (
    (NotFoundError, 404),
    (ConflictError, 409),
    (ModelError, 422),
    (LimitError, 422),
    (ParameterError, 422),
    (TemplateError, 422),
)


def status_of(exc: UserError) -> int:
    """The status a user error is answered with: the service, not the error, decides."""
    return next((status for cls, status in STATUS_OF_ERROR if isinstance(exc, cls)), 400)


PROBLEM_MEDIA_TYPE = "application/problem+json"
log = logging.getLogger("flowtime_sim.service")

_PARAMETER_NAME = re.compile(r"^parameter '([^']+)'")


class FieldProblem(BaseModel):
    """One bad input: where it is and what is wrong with it."""

    field: str = Field(description="The offending input, e.g. `parameters.peak_factor`.")
    message: str


class Problem(BaseModel):
    """An RFC 9457 problem document."""

    type: str = Field("about:blank", description="`about:blank`: the status says it all.")
    title: str = Field(description="The HTTP status phrase.")
    status: int
    detail: str = Field(description="What was wrong, with the offending value, and what to do.")
    instance: str | None = Field(None, description="The request path.")
    field: str | None = Field(None, description="The offending input, when one is to blame.")
    errors: list[FieldProblem] | None = Field(None, description="Every bad input, when several.")


class ServiceProblem(HTTPException):
    """An error raised by the service itself (authentication, limits, visibility, paths).

    It is an :class:`HTTPException` so that FastAPI passes it through unchanged, even when it
    is raised while the request body is being read.
    """

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        field: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(status_code=status, detail=detail, headers=dict(headers or {}))
        self.field = field


def problem_response(
    status: int,
    detail: str,
    *,
    instance: str | None = None,
    field: str | None = None,
    errors: Sequence[FieldProblem] | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    doc = Problem(
        type="about:blank",
        title=_title(status),
        status=status,
        detail=detail,
        instance=instance,
        field=field,
        errors=list(errors) if errors else None,
    )
    return JSONResponse(
        doc.model_dump(exclude_none=True),
        status_code=status,
        media_type=PROBLEM_MEDIA_TYPE,
        headers=dict(headers or {}),
    )


def _title(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def field_of(loc: Sequence[int | str]) -> str:
    """``("body", "tags", 2)`` → ``tags[2]``; ``("query", "limit")`` → ``limit``."""
    parts = list(loc[1:]) if loc and loc[0] in {"body", "query", "path", "header"} else list(loc)
    if not parts:
        return str(loc[0]) if loc else "body"
    text = str(parts[0])
    for part in parts[1:]:
        text += f"[{part}]" if isinstance(part, int) else f".{part}"
    return text


def describe_validation_error(error: Mapping[str, Any]) -> FieldProblem:
    """One Pydantic error as a sentence that names the field and says what to do."""
    loc = tuple(error.get("loc", ()))
    field = field_of(loc)
    kind = error.get("type", "")
    if kind == "extra_forbidden" and field == "owner":
        return FieldProblem(
            field=field,
            message=(
                "owner cannot be set by clients: the owner is always the authenticated identity; "
                "remove the 'owner' field"
            ),
        )
    if kind == "extra_forbidden":
        return FieldProblem(
            field=field,
            message=(f"unknown field {field!r}; see the request schema in /openapi.json"),
        )
    if kind == "json_invalid":
        reason = (error.get("ctx") or {}).get("error", "invalid JSON")
        return FieldProblem(field="body", message=f"the request body is not valid JSON: {reason}")
    if kind == "missing" and loc == ("body",):
        return FieldProblem(field="body", message="a JSON object request body is required")
    if kind in {"model_attributes_type", "dict_type", "model_type"} and len(loc) <= 1:
        return FieldProblem(field="body", message="the request body must be a JSON object")
    value = error.get("input")
    shown = "" if kind == "missing" or isinstance(value, dict | list) else f" (got {value!r:.80})"
    return FieldProblem(field=field, message=f"{field}: {error.get('msg', 'invalid')}{shown}")


async def _user_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, UserError)
    errors = None
    field = exc.field
    if isinstance(exc, ParameterError):
        errors = [_parameter_problem(p) for p in exc.problems]
        field = field or errors[0].field
    elif isinstance(exc, ModelError) and field is None and exc.node:
        field = f"nodes.{exc.node}"
    return problem_response(
        status_of(exc), str(exc), instance=request.url.path, field=field, errors=errors
    )


def _parameter_problem(message: str) -> FieldProblem:
    m = _PARAMETER_NAME.match(message)
    return FieldProblem(field=f"parameters.{m.group(1)}" if m else "parameters", message=message)


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [describe_validation_error(e) for e in exc.errors()]
    detail = "; ".join(e.message for e in errors) or "the request is invalid"
    return problem_response(
        422,
        detail,
        instance=request.url.path,
        field=errors[0].field if errors else None,
        errors=errors,
    )


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    detail = exc.detail if isinstance(exc.detail, str) else _title(exc.status_code)
    if exc.status_code == 404 and detail == "Not Found":
        detail = f"nothing is served at {request.url.path}; see /openapi.json for the API"
    elif exc.status_code == 405 and detail == "Method Not Allowed":
        detail = f"{request.method} is not allowed on {request.url.path}"
    return problem_response(
        exc.status_code,
        detail,
        instance=request.url.path,
        field=getattr(exc, "field", None),
        headers=exc.headers,
    )


async def _flowtime_error(request: Request, exc: Exception) -> JSONResponse:
    """A plugin that misbehaved, or stored data that does not match its hashes."""
    if isinstance(exc, UnavailableError):  # the index database is down: try again later
        log.warning("%s %s: %s", request.method, request.url.path, exc)
        return problem_response(
            503, str(exc), instance=request.url.path, headers={"Retry-After": "5"}
        )
    log.error("%s %s failed", request.method, request.url.path, exc_info=exc)
    detail = f"a plugin failed: {exc}" if isinstance(exc, PluginError) else str(exc)
    return problem_response(500, detail, instance=request.url.path)


async def _unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    # Starlette re-raises the exception after this answer, so the server logs the traceback.
    return problem_response(
        500, "an internal error occurred; the server log has the details", instance=request.url.path
    )


def install_problem_handlers(app: FastAPI) -> None:
    """Answer every error, ours, FastAPI's and Starlette's, with a problem document."""
    app.add_exception_handler(UserError, _user_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(FlowtimeError, _flowtime_error)
    app.add_exception_handler(Exception, _unexpected_error)


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` entries for problem documents (moved to problem+json later)."""
    return {status: {"model": Problem, "description": _title(status)} for status in statuses}
