"""The artifacts page (SPEC §11): server-rendered HTML over the same visibility-checked reads.

``/`` lists cards filtered by kind, template and tag (a plain GET form); ``/models/{id}``
shows a model with its parameters, versions and runs and can start a run; ``/runs/{id}``
shows a run's series. With a tokens file, a browser signs in once with its token (kept in an
HttpOnly, SameSite=Strict cookie).
"""

from __future__ import annotations

from functools import cache
from typing import Any
from urllib.parse import parse_qs, urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, PackageLoader, StrictUndefined

from flowtime_sim import __version__
from flowtime_sim.errors import NotFoundError, UserError
from flowtime_sim.ids import ArtifactRef, parse_ref
from flowtime_sim.registry import Query, RunArtifact
from flowtime_sim.scenarios.compare import bin_ranges
from flowtime_sim.service import cards
from flowtime_sim.service.access import Access
from flowtime_sim.service.charts import area_points, number, spark_points
from flowtime_sim.service.context import context_of
from flowtime_sim.service.identity import SESSION_COOKIE, Caller
from flowtime_sim.service.problems import status_of
from flowtime_sim.service.views import file_url

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 24
PAGE_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
MAX_SIGNIN_BODY = 4096


@cache
def environment() -> Environment:
    """The page's own templates: a normal environment, every value escaped."""
    env = Environment(
        loader=PackageLoader("flowtime_sim.service", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(number=number, when=cards.when)
    env.globals.update(
        version=__version__,
        spark_points=spark_points,
        area_points=area_points,
        bin_ranges=bin_ranges,
    )
    return env


def render(request: Request, name: str, status: int = 200, **values: Any) -> HTMLResponse:
    html = environment().get_template(name).render(request_path=request.url.path, **values)
    return HTMLResponse(
        html,
        status_code=status,
        headers={"Content-Security-Policy": PAGE_POLICY, "Cache-Control": "no-store"},
    )


def _signed_in(request: Request) -> Caller | HTMLResponse:
    """The caller, or the sign-in page when a tokens file is configured and none came."""
    caller = context_of(request).identify(request)
    if caller is None:
        return render(request, "signin.html.j2", 401, caller=None, error=None)
    return caller


def _failed(request: Request, caller: Caller, exc: UserError) -> HTMLResponse:
    status = status_of(exc)
    return render(request, "error.html.j2", status, caller=caller, message=str(exc), code=status)


@router.get("/", response_class=HTMLResponse)
def index(request: Request) -> Response:
    caller = _signed_in(request)
    if isinstance(caller, HTMLResponse):
        return caller
    params = request.query_params
    kind = params.get("kind") if params.get("kind") in {"model", "run", "sweep"} else None
    template = (params.get("template") or "").strip()[:200] or None
    tags = list(dict.fromkeys(t.strip()[:64] for t in params.getlist("tag") if t.strip()))[:20]
    text = (params.get("q") or "").strip()[:200] or None
    act = context_of(request).access(caller)
    try:
        page = act.listing(
            Query(
                kind=kind,
                template=template,
                tags=tags,
                text=text,
                limit=PAGE_SIZE,
                cursor=params.get("cursor") or None,
            )
        )
    except UserError as exc:
        return _failed(request, caller, exc)
    filters = {"kind": kind, "template": template, "tag": tags, "q": text}
    more = _query_string(filters, cursor=page.next_cursor) if page.next_cursor else None
    return render(
        request,
        "index.html.j2",
        caller=caller,
        page=page,
        cards=[cards.card(act, c) for c in page.items],
        filters=filters,
        templates=sorted(
            {t.id for t in act.ft.templates.latest()} | ({template} if template else set())
        ),
        without_tag={
            t: _query_string({**filters, "tag": [x for x in tags if x != t]}) for t in tags
        },
        with_tag=lambda t: _query_string({**filters, "tag": tags if t in tags else [*tags, t]}),
        more=more,
        paged=bool(params.get("cursor")),
    )


def _query_string(filters: dict[str, Any], **extra: Any) -> str:
    pairs: list[tuple[str, str]] = []
    for key, value in {**filters, **extra}.items():
        for item in value if isinstance(value, list) else [value]:
            if item:
                pairs.append((key, str(item)))
    return "/?" + urlencode(pairs) if pairs else "/"


@router.get("/models/{model_id}", response_class=HTMLResponse)
def model_page(model_id: str, request: Request) -> Response:
    caller = _signed_in(request)
    if isinstance(caller, HTMLResponse):
        return caller
    act = context_of(request).access(caller)
    try:
        ref = _page_ref(model_id, "model id")
        raw = request.query_params.get("version")
        version = int(raw) if raw and raw.isdigit() and len(raw) < 10 else None
        art = act.model(ArtifactRef(ref.id, version))
        versions = act.versions(ref.id)
    except UserError as exc:
        return _failed(request, caller, exc)
    cat = art.catalog
    return render(
        request,
        "model.html.j2",
        caller=caller,
        art=art,
        cat=cat,
        picture=cards.picture(act, art),
        versions=list(reversed(versions)),
        runs=act.runs_of(art.id),
        parameters=_parameters(act, cat),
        files={n: file_url(art, n) for n in sorted([*cat["files"], "catalog.json"])},
    )


def _parameters(act: Access, cat: Any) -> list[tuple[str, Any, str]]:
    """``(name, value, description)``, descriptions from the template when installed."""
    props: dict[str, Any] = {}
    try:
        tpl = act.ft.template(str(cat["template_id"]), str(cat["template_version"]))
        props = dict(tpl.manifest.parameters.get("properties") or {})
    except UserError:
        pass
    return [
        (k, v, str((props.get(k) or {}).get("description", "")))
        for k, v in cat["parameters"].items()
    ]


def _page_ref(text: str, what: str) -> ArtifactRef:
    """An id from the page's URL; one outside the id grammar is simply not found."""
    try:
        return parse_ref(text, what=what, allow_version=False)
    except UserError as exc:
        raise NotFoundError(str(exc)) from None


@router.get("/runs/{run_id}", response_class=HTMLResponse)
def run_page(run_id: str, request: Request) -> Response:
    caller = _signed_in(request)
    if isinstance(caller, HTMLResponse):
        return caller
    act = context_of(request).access(caller)
    try:
        art = act.artifact(_page_ref(run_id, "run id"))
    except UserError as exc:
        return _failed(request, caller, exc)
    if not isinstance(art, RunArtifact):
        return RedirectResponse(f"/models/{art.id}", status_code=303)
    values: dict[str, Any] = {
        "caller": caller,
        "cat": art.catalog,
        "series": cards.run_series(act, art),
        "model": cards.model_of(act, dict(art.catalog)),
        "csv_url": file_url(art, "binned_v0.csv"),
    }
    if request.query_params.get("fragment"):
        return render(request, "_series.html.j2", spark_width=160, **values)
    from flowtime_sim.service.chart_data import run_chart

    chart = None
    if values["series"]:
        chart = run_chart(dict(art.catalog), act.read_file(art, "binned_v0.csv"))
    return render(request, "run.html.j2", spark_width=360, chart=chart, **values)


@router.post("/session", response_class=HTMLResponse)
async def sign_in(request: Request) -> Response:
    """Sign a browser in with a token from the sign-in form."""
    context = context_of(request)
    if context.tokens is None:
        return RedirectResponse("/", status_code=303)
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_SIGNIN_BODY:
            break
    token = parse_qs(body[:MAX_SIGNIN_BODY].decode("utf-8", "replace")).get("token", [""])[0]
    if not token.strip() or context.tokens.authenticate(token.strip()) is None:
        return render(
            request,
            "signin.html.j2",
            401,
            caller=None,
            error="That token is not valid. Ask the operator of this service for one.",
        )
    response = RedirectResponse("/", status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        token.strip(),
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/",
    )
    return response


@router.post("/session/end")
async def sign_out() -> Response:
    response = RedirectResponse("/", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response
