"""The page's scenario views: a sweep (its grid of scenarios with a headline number each),
a compare view overlaying runs, and the form that creates or derives a model from a
template's JSON Schema. Every read goes through the caller's visibility rules."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from flowtime_sim.errors import UserError
from flowtime_sim.ids import parse_ref
from flowtime_sim.registry import Query
from flowtime_sim.scenarios.compare import compare
from flowtime_sim.service.access import Access
from flowtime_sim.service.chart_data import chart_data
from flowtime_sim.service.context import context_of
from flowtime_sim.service.form import form_fields
from flowtime_sim.service.page import _failed, _page_ref, _signed_in, render
from flowtime_sim.service.routes_scenarios import compared_runs, sweep_runs, visible_sweep

router = APIRouter(include_in_schema=False)
PICKABLE_RUNS = 50


@router.get("/sweeps/{sweep_id}", response_class=HTMLResponse)
def sweep_page(sweep_id: str, request: Request) -> Response:
    caller = _signed_in(request)
    if isinstance(caller, HTMLResponse):
        return caller
    act = context_of(request).access(caller)
    try:
        sweep = visible_sweep(act, _page_ref(sweep_id, "sweep id").id)
        runs = sweep_runs(act, sweep)
        stored = [r.run_id for r in runs if r.status == "stored"]
        compared = compared_runs(act, stored)[0] if stored else []
    except UserError as exc:
        return _failed(request, caller, exc)
    names = list(dict.fromkeys(n for r in compared for n in r.series))
    wanted = request.query_params.get("series") or ""
    headline = wanted if wanted in names else (names[-1] if names else "")
    totals = {r.id: r.series[headline].total for r in compared if headline in r.series}
    axes = [g["parameter"] for g in sweep.catalog["grid"]]
    return render(
        request,
        "sweep.html.j2",
        caller=caller,
        sweep=sweep,
        cat=sweep.catalog,
        runs=runs,
        axes=axes,
        names=names,
        headline=headline,
        totals=totals,
        matrix=_matrix(sweep.catalog, runs, totals) if len(axes) == 2 else None,
        best=max(totals.values(), default=0.0),
    )


def _matrix(cat: Any, runs: list[Any], totals: dict[str, float]) -> dict[str, Any]:
    """Two axes: rows take the first axis's values, columns the second's."""
    first, second = cat["grid"]
    cells: dict[tuple[str, str], Any] = {}
    for run in runs:
        key = (
            json.dumps(run.parameters[first["parameter"]]),
            json.dumps(run.parameters[second["parameter"]]),
        )
        cells[key] = (run, totals.get(run.run_id))
    return {
        "rows": [json.dumps(v) for v in first["values"]],
        "cols": [json.dumps(v) for v in second["values"]],
        "row_name": first["parameter"],
        "col_name": second["parameter"],
        "cells": cells,
    }


@router.get("/compare", response_class=HTMLResponse)
def compare_page(request: Request) -> Response:
    caller = _signed_in(request)
    if isinstance(caller, HTMLResponse):
        return caller
    act = context_of(request).access(caller)
    params = request.query_params
    chosen = [
        i.strip()
        for v in [*params.getlist("run"), params.get("runs") or ""]
        for i in v.split(",")
        if i.strip()
    ][:200]
    sweep_id = (params.get("sweep") or "").strip()
    try:
        if sweep_id:
            chosen = [sweep_id, *chosen]
        for ident in chosen:
            _page_ref(ident, "run or sweep id")
        runs, missing = compared_runs(act, chosen) if chosen else ([], [])
        comparison = compare(runs, missing=missing) if runs else None
    except UserError as exc:
        return _failed(request, caller, exc)
    shown = {r.id for r in runs}
    recent = [c for c in act.listing(Query(kind="run", limit=PICKABLE_RUNS)).items]
    pickable = [(r.id, r.label, True) for r in runs] + [
        (str(c["id"]), str(c.get("model_id") or c["id"]), False)
        for c in recent
        if c["id"] not in shown
    ]
    return render(
        request,
        "compare.html.j2",
        caller=caller,
        runs=runs,
        comparison=comparison,
        pickable=pickable,
        sweep_id=sweep_id,
        chart=chart_data(runs) if runs else None,
    )


@router.get("/new", response_class=HTMLResponse)
def new_page(request: Request) -> Response:
    """``?template=T``: a form for a new model; ``?from=ID@vN``: derive from that model."""
    caller = _signed_in(request)
    if isinstance(caller, HTMLResponse):
        return caller
    act = context_of(request).access(caller)
    params = request.query_params
    try:
        source = None
        values: dict[str, Any] = {}
        if params.get("from"):
            ref = parse_ref(params["from"], what="model id")
            source = act.model(ref, field="from")
            template = act.ft.template_of(source.catalog)
            values = dict(source.catalog["parameters"])
        elif params.get("template"):
            template = act.ft.template(params["template"][:200])
        else:
            return _choose(request, caller, act)
    except UserError as exc:
        return _failed(request, caller, exc)
    return render(
        request,
        "new.html.j2",
        caller=caller,
        template=template,
        source=source,
        fields=form_fields(template.manifest.parameters, values),
        template_ref=f"{template.plugin}:{template.id}",
    )


def _choose(request: Request, caller: Any, act: Access) -> HTMLResponse:
    templates = sorted(act.ft.templates.latest(), key=lambda t: t.id)
    return render(
        request,
        "new.html.j2",
        caller=caller,
        template=None,
        source=None,
        fields=[],
        template_ref="",
        templates=templates,
    )
