"""``/sim/sweeps`` and ``/sim/compare``: scenarios over HTTP (SPEC §10, §13).

Every read goes through :class:`~flowtime_sim.service.access.Access`: a sweep, a run or a
source model the caller may not see answers exactly like one that does not exist (404).
A sweep posted here runs in the request, one scenario after the other, so its size is capped;
one posted with ``queue`` stores its models in the request and leaves the runs to
``flowtime-sim worker`` processes (the index must be PostgreSQL's), so it may be larger.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from flowtime_sim.errors import ConflictError, NotFoundError, UserError
from flowtime_sim.ids import ArtifactRef
from flowtime_sim.service.access import Access, checked_ref
from flowtime_sim.service.context import context_of
from flowtime_sim.service.params import CallerDep
from flowtime_sim.service.problems import ServiceProblem, error_responses
from flowtime_sim.service.schemas import ID_PATTERN, REF_PATTERN, Mode, Seed, Tag, Visibility
from flowtime_sim.service.views import json_response

if TYPE_CHECKING:
    from flowtime_sim.registry import RunArtifact
    from flowtime_sim.registry.catalog import Created
    from flowtime_sim.scenarios import SweepArtifact, SweepOutcome, SweepSpec
    from flowtime_sim.scenarios.compare import ComparedRun
    from flowtime_sim.scenarios.executor import ScenarioResult, ScenarioTask
    from flowtime_sim.scenarios.queued import QueuedStatus

router = APIRouter(prefix="/sim", responses=error_responses(401, 422))
MAX_HTTP_SCENARIOS = 500  # a request runs them all before it answers
MAX_QUEUED_HTTP_SCENARIOS = 5_000  # a request stores their models; workers run them
NO_QUEUE = (
    "queue needs a PostgreSQL index, where the job queue lives: start the service with "
    "--index postgresql://USER@HOST/DB or FLOWTIME_SIM_INDEX set, or post without queue"
)
MAX_COMPARED_IDS = 200
IDS_PATTERN = "^[a-z0-9][a-z0-9._-]{0,127}(,[a-z0-9][a-z0-9._-]{0,127})*$"


class NewSweep(BaseModel):
    """``POST /sim/sweeps``: give exactly one of ``template`` and ``from``."""

    model_config = ConfigDict(extra="forbid", populate_by_name=False)

    template: Annotated[str, StringConstraints(min_length=1, max_length=200)] | None = Field(
        None, description="Template id, or `pack:id`.", examples=["checkout"]
    )
    source: Annotated[str, StringConstraints(min_length=1, max_length=140)] | None = Field(
        None,
        alias="from",
        description="`ID` or `ID@vN` of a stored model each scenario derives from.",
        json_schema_extra={"pattern": REF_PATTERN},
    )
    grid: dict[str, list[Any]] = Field(
        description="Parameter to its values; every combination is a scenario.",
        examples=[{"peak_factor": [1, 1.5, 2], "base_capacity": [200, 300]}],
        min_length=1,
        max_length=20,
    )
    set: dict[str, Any] = Field(
        default_factory=dict, description="Parameter values every scenario shares."
    )
    seed: Seed | None = Field(None, description="Run seed (default: each model's rng.seed).")
    mode: Mode = "expected"
    version: Annotated[str, StringConstraints(min_length=1, max_length=64)] | None = Field(
        None, description="Template version (default: the newest)."
    )
    visibility: Visibility | None = Field(None, description="Default: private.")
    tags: list[Tag] = Field(default_factory=list, max_length=50)
    queue: bool = Field(
        False,
        description="Store the models now and leave the runs to `flowtime-sim worker` "
        "processes (the service's index must be PostgreSQL): the answer is 202 with the "
        "sweep's `Location`, where its progress shows until the worker that stores the last "
        f"run stores the sweep. Up to {MAX_QUEUED_HTTP_SCENARIOS} scenarios, not "
        f"{MAX_HTTP_SCENARIOS}.",
    )


class SweepQueued(BaseModel):
    """``POST /sim/sweeps`` with ``queue``: the models are stored, the runs queued."""

    sweep_id: str
    status: Literal["queued"]
    models: list[str] = Field(description="`ID@vN` of each scenario's model, in grid order.")
    runs: list[str] = Field(description="The run id each scenario will have, in grid order.")
    catalog_url: str
    models_created: int
    runs_stored: int
    runs_total: int
    jobs_open: int = Field(description="Jobs of this sweep waiting or running.")
    warnings: list[str] = Field(default_factory=list)


class SweepCreated(BaseModel):
    sweep_id: str
    status: Literal["created", "unchanged"]
    models: list[str] = Field(description="`ID@vN` of each scenario's model, in grid order.")
    runs: list[str] = Field(description="Each scenario's run id, in grid order.")
    catalog_url: str
    models_created: int
    runs_created: int
    warnings: list[str] = Field(default_factory=list)


class SweepRun(BaseModel):
    run_id: str
    model: str
    parameters: dict[str, Any]
    status: Literal["stored", "missing", "queued"] = Field(
        description="`missing`: deleted, or not visible to the caller; `queued`: a worker "
        "has yet to store it."
    )


class QueueProgress(BaseModel):
    runs_stored: int
    runs_total: int
    jobs_waiting: int
    jobs_running: int
    jobs_failed: int
    failures: dict[int, str] = Field(
        default_factory=dict, description="Why scenarios failed, by their grid index."
    )


class SweepView(BaseModel):
    """A sweep's catalog and the status of each of its runs; a queued sweep that is not
    stored yet shows the catalog fields known so far and how far its runs are."""

    sweep_id: str
    status: Literal["complete", "queued", "running", "incomplete"] = Field(
        default="complete",
        description="`complete`: the sweep is stored. A queued sweep is `queued` while its "
        "jobs wait, `running` while a worker has one, `incomplete` when no job is left and "
        "runs are missing (post it again to queue them).",
    )
    catalog: dict[str, Any]
    runs: list[SweepRun]
    progress: QueueProgress | None = None
    links: dict[str, str]


class ComparisonView(BaseModel):
    """Per series, each run's total and peak, the bins where the runs differ, and values."""

    runs: list[dict[str, Any]]
    series: list[dict[str, Any]]
    missing_runs: list[str] = Field(
        default_factory=list,
        description="Runs of a sweep that are gone (deleted or not "
        "visible); the others are compared without them.",
    )
    time_bins: dict[str, list[str]] = Field(default_factory=dict)


def sweep_url(sweep_id: str) -> str:
    return f"/sim/sweeps/{sweep_id}"


@router.post(
    "/sweeps",
    status_code=201,
    response_model=SweepCreated,
    responses={
        200: {"model": SweepCreated, "description": "Unchanged: the sweep is stored."},
        202: {"model": SweepQueued, "description": "Queued: workers will run it."},
        **error_responses(400, 404, 409, 413),
    },
)
def new_sweep(body: NewSweep, request: Request, caller: CallerDep) -> Response:
    """Every combination of ``grid`` becomes a model version and a run; the sweep is stored
    as an artifact. Posting the same sweep again reuses what exists and fills the gaps."""
    from flowtime_sim.scenarios import SweepSpec, run_sweep
    from flowtime_sim.scenarios.executor import InlineExecutor
    from flowtime_sim.scenarios.grid import grid_from_mapping

    if (body.template is None) == (body.source is None):
        raise ServiceProblem(422, "give exactly one of template and from", field="template")
    grid = grid_from_mapping(body.grid)
    if body.queue and grid.size > MAX_QUEUED_HTTP_SCENARIOS:
        raise ServiceProblem(
            422,
            f"the grid makes {grid.size} scenarios, more than the {MAX_QUEUED_HTTP_SCENARIOS} "
            "one queued request may store; use 'flowtime-sim sweep --queue' for larger sweeps",
            field="grid",
        )
    if not body.queue and grid.size > MAX_HTTP_SCENARIOS:
        raise ServiceProblem(
            422,
            f"the grid makes {grid.size} scenarios, more than the {MAX_HTTP_SCENARIOS} one "
            "request may run; use 'flowtime-sim sweep' for larger sweeps",
            field="grid",
        )
    act = context_of(request).access(caller)
    source = None
    if body.source is not None:
        ref = checked_ref(body.source, field="from", what="model id")
        source = act.model(ref, field="from").ref
    spec = SweepSpec(
        grid,
        fixed=body.set,
        template=body.template,
        source=source,
        version=body.version,
        seed=body.seed,
        mode=body.mode,
        visibility=body.visibility,
        tags=tuple(body.tags),
    )
    if body.queue:
        return _queued_sweep(act, spec)
    outcome = run_sweep(
        act.ft, spec, InlineExecutor(lambda task: _scenario(act, task)), owner=caller.identity
    )
    return _created(act, outcome)


def _queued_sweep(act: Access, spec: SweepSpec) -> Response:
    """Store the models and queue the runs; the sweep as today when it is complete."""
    from flowtime_sim.scenarios.jobqueue import team_index
    from flowtime_sim.scenarios.queued import queue_sweep, queued_status

    try:
        team_index(act.ft.registry(), "queue")
    except UserError:
        raise ServiceProblem(422, NO_QUEUE, field="queue") from None

    def admit(sweep_id: str) -> None:
        queued = queued_status(act.ft.registry(), sweep_id)
        if queued is not None and not act.caller.can_see(_preview(queued)):
            raise ConflictError(
                f"sweep {sweep_id} is already queued by someone whose artifacts you "
                "cannot see; change the grid or the seed",
                field="grid",
            )

    state = queue_sweep(
        act.ft,
        spec,
        owner=act.caller.identity,
        wait=False,
        make_model=lambda task: _scenario_model(act, task),
        admit=admit,
    )
    if state.outcome is not None:
        return _created(act, state.outcome)
    view = SweepQueued(
        sweep_id=state.plan.sweep_id,
        status="queued",
        models=[f"{r.model_id}@v{r.model_version}" for r in state.results],
        runs=[r.run_id for r in state.results],
        catalog_url=sweep_url(state.plan.sweep_id),
        models_created=sum(r.model_created for r in state.results),
        runs_stored=state.stored,
        runs_total=len(state.results),
        jobs_open=state.open_jobs,
        warnings=list(state.warnings),
    )
    return json_response(view, 202, {"Location": view.catalog_url})


def _created(act: Access, outcome: SweepOutcome) -> Response:
    caller = act.caller
    if not caller.can_see(outcome.sweep.catalog):
        raise ConflictError(
            f"sweep {outcome.sweep.id} already exists and belongs to someone whose artifacts "
            "you cannot see; change the grid or the seed",
            field="grid",
        )
    scenarios = outcome.sweep.scenarios
    view = SweepCreated(
        sweep_id=outcome.sweep.id,
        status="unchanged" if outcome.unchanged else "created",
        models=[f"{s['model_id']}@v{s['model_version']}" for s in scenarios],
        runs=[str(s["run_id"]) for s in scenarios],
        catalog_url=sweep_url(outcome.sweep.id),
        models_created=outcome.models_created,
        runs_created=outcome.runs_created,
        warnings=list(outcome.warnings),
    )
    if outcome.unchanged:
        return json_response(view)
    return json_response(view, 201, {"Location": view.catalog_url})


def _scenario_model(act: Access, task: ScenarioTask) -> Created:
    """A scenario's model version as the caller: their visibility rules on what it reuses."""
    from flowtime_sim.ids import parse_ref

    values = {**task.fixed, **task.parameters}
    if task.source is not None:
        return act.derive(
            parse_ref(task.source),
            name=task.name,
            parameters=values,
            tags=task.tags,
            visibility=task.visibility,
        )
    assert task.template is not None
    return act.create_model(
        task.template,
        values,
        name=task.name,
        tags=task.tags,
        version=task.template_version,
        visibility=task.visibility,
    )


def _scenario(act: Access, task: ScenarioTask) -> ScenarioResult:
    """One scenario as the caller: their visibility rules on every model and run."""
    from flowtime_sim.scenarios.executor import ScenarioResult

    created = _scenario_model(act, task)
    model = created.artifact
    version = int(model.catalog["version"])
    run = act.run_model(ArtifactRef(model.id, version), seed=task.seed, mode=task.mode)
    return ScenarioResult(
        task.index,
        model.id,
        version,
        run.artifact.id,
        model_created=not created.unchanged,
        run_created=not run.unchanged,
        warnings=(*created.warnings, *run.warnings),
    )


def visible_sweep(act: Access, sweep_id: str, *, field: str = "sweep_id") -> SweepArtifact:
    """A sweep the caller may see (404 otherwise, as if it did not exist)."""
    from flowtime_sim.scenarios.store import find_sweep

    found = find_sweep(act.ft.registry(), sweep_id)
    if found is None or not act.caller.can_see(found.catalog):
        raise NotFoundError(
            f"no sweep {sweep_id!r} here; list sweeps with GET /v1/artifacts?kind=sweep",
            field=field,
        )
    return found


def visible_run(act: Access, run_id: str) -> RunArtifact:
    from flowtime_sim.registry import RunArtifact

    art = act.artifact(ArtifactRef(run_id), field="runs")
    if not isinstance(art, RunArtifact):
        raise NotFoundError(f"{run_id!r} is a model, not a run", field="runs")
    return art


def sweep_runs(act: Access, sweep: SweepArtifact) -> list[SweepRun]:
    out = []
    for s in sweep.scenarios:
        try:
            visible_run(act, str(s["run_id"]))
            status: Literal["stored", "missing"] = "stored"
        except UserError:
            status = "missing"
        out.append(
            SweepRun(
                run_id=str(s["run_id"]),
                model=f"{s['model_id']}@v{s['model_version']}",
                parameters=dict(s["parameters"]),
                status=status,
            )
        )
    return out


SweepId = Annotated[
    str, Path(max_length=200, description="A sweep id.", json_schema_extra={"pattern": ID_PATTERN})
]


@router.get("/sweeps/{sweep_id}", response_model=SweepView, responses=error_responses(404))
def get_sweep(sweep_id: SweepId, request: Request, caller: CallerDep) -> Response:
    """A sweep's catalog, and whether each of its runs is stored."""
    ref = checked_ref(sweep_id, field="sweep_id", what="sweep id", allow_version=False)
    act = context_of(request).access(caller)
    try:
        sweep = visible_sweep(act, ref.id)
    except NotFoundError:
        from flowtime_sim.scenarios.queued import queued_status

        queued = queued_status(act.ft.registry(), ref.id)
        if queued is None or not caller.can_see(_preview(queued)):
            raise
        return json_response(_queued_view(queued))
    return json_response(
        SweepView(
            sweep_id=sweep.id,
            catalog=dict(sweep.catalog),
            runs=sweep_runs(act, sweep),
            links={
                "self": sweep_url(sweep.id),
                "page": f"/sweeps/{sweep.id}",
                "compare": f"/sim/compare?runs={sweep.id}",
            },
        )
    )


def _preview(queued: QueuedStatus) -> dict[str, Any]:
    """The catalog fields a queued sweep has before it is stored."""
    m = queued.manifest
    return {
        "kind": "sweep",
        "id": m.sweep_id,
        "name": m.name,
        **m.base,
        "tags": list(m.tags),
        "owner": m.owner,
        "visibility": m.visibility,
    }


def _queued_view(queued: QueuedStatus) -> SweepView:
    m = queued.manifest
    return SweepView(
        sweep_id=m.sweep_id,
        status=queued.status,
        catalog=_preview(queued),
        runs=[
            SweepRun(
                run_id=str(s["run_id"]),
                model=str(s["model"]),
                parameters=dict(s["parameters"]),
                status="stored" if s["run_id"] in queued.stored else "queued",
            )
            for s in m.scenarios
        ],
        progress=QueueProgress(
            runs_stored=len(queued.stored),
            runs_total=len(m.scenarios),
            jobs_waiting=queued.jobs.todo,
            jobs_running=queued.jobs.doing,
            jobs_failed=queued.jobs.failed,
            failures=queued.failures,
        ),
        links={"self": sweep_url(m.sweep_id)},
    )


def compared_runs(act: Access, ids: list[str]) -> tuple[list[ComparedRun], list[str]]:
    """The runs named (a sweep id standing for its runs), read as the caller may."""
    from flowtime_sim.scenarios.compare import load_compared

    def sweep(ref: str) -> Mapping[str, Any] | None:
        try:
            return visible_sweep(act, ref, field="runs").catalog
        except NotFoundError:
            return None

    def run(run_id: str) -> RunArtifact:
        try:
            return visible_run(act, run_id)
        except NotFoundError:
            raise NotFoundError(f"no run {run_id!r} here", field="runs") from None

    return load_compared(
        ids, run=run, sweep=sweep, csv=lambda art: act.read_file(art, "binned_v0.csv")
    )


def split_ids(runs: str) -> list[str]:
    ids = [part.strip() for part in runs.split(",") if part.strip()]
    if not ids:
        raise ServiceProblem(422, "runs must name at least one run or sweep id", field="runs")
    if len(ids) > MAX_COMPARED_IDS:
        raise ServiceProblem(
            422, f"runs names {len(ids)} ids, more than {MAX_COMPARED_IDS}", field="runs"
        )
    for run_id in ids:
        checked_ref(run_id, field="runs", what="run or sweep id", allow_version=False)
    return ids


@router.get("/compare", response_model=ComparisonView, responses=error_responses(400, 404))
def compare_runs(
    request: Request,
    caller: CallerDep,
    runs: Annotated[
        str,
        Query(
            max_length=30_000,
            description="Comma-separated run ids; a sweep id stands for all of its runs.",
            json_schema_extra={"pattern": IDS_PATTERN},
        ),
    ],
    series: Annotated[
        list[str], Query(max_length=200, description="Only these series (repeatable).")
    ] = [],  # noqa: B006
) -> Response:
    """Per-series totals, peaks and differing bins of several runs, with their values."""
    from flowtime_sim.scenarios.compare import compare

    act = context_of(request).access(caller)
    found, missing = compared_runs(act, split_ids(runs))
    comparison = compare(found, series, missing)
    return json_response(ComparisonView(**comparison.as_json(values=True)))
