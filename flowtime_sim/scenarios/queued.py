"""``sweep --queue``: the sweeper stores every scenario's model, defers the runs to the job
queue in batches (:mod:`flowtime_sim.scenarios.jobqueue`), and, unless told not to wait,
watches the index until every run is stored, then publishes the sweep like any sweep.

Nothing here is kept between calls but what is stored: running the same sweep again looks at
which runs exist and which jobs are still waiting, defers only what is missing and nobody is
working on, and publishes the sweep once every run is there.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Literal

from flowtime_sim.errors import FlowtimeError, UserError
from flowtime_sim.scenarios.executor import ScenarioResult, ScenarioTask, scenario_model
from flowtime_sim.scenarios.jobqueue import JobCounts, Manifest, QueuedRun, SweepQueue, batches
from flowtime_sim.scenarios.store import SweepArtifact, find_sweep, publish_sweep, refuse_deleted
from flowtime_sim.scenarios.sweep import (
    SweepOutcome,
    SweepPlan,
    SweepSpec,
    _complete,
    finish_sweep,
    plan_sweep,
    scenarios_failed,
    sweep_catalog,
)

if TYPE_CHECKING:
    from flowtime_sim.core import Flowtime
    from flowtime_sim.registry import Registry
    from flowtime_sim.registry.catalog import Created

POLL_S = 1.0


@dataclass(frozen=True, slots=True)
class QueuedSweep:
    """Where a queued sweep stands: ``outcome`` once it is complete and published."""

    plan: SweepPlan
    results: tuple[ScenarioResult, ...]  # every scenario's model and (future) run
    stored: int  # runs that exist
    deferred: int  # jobs this call deferred
    open_jobs: int  # jobs waiting or running
    outcome: SweepOutcome | None = None
    warnings: tuple[str, ...] = field(default_factory=tuple)


def queue_sweep(
    ft: Flowtime,
    spec: SweepSpec,
    *,
    root: str | None = None,
    owner: str | None = None,
    batch: int | None = None,
    wait: bool = True,
    queued: Callable[[QueuedSweep], None] | None = None,
    progress: Callable[[int, int], None] | None = None,
    poll_s: float = POLL_S,
    make_model: Callable[[ScenarioTask], Created] | None = None,
    admit: Callable[[str], None] | None = None,
) -> QueuedSweep:
    """Store the sweep's models, defer the runs it lacks, and (``wait``) publish the sweep
    once workers have stored them all. ``queued`` is called once the jobs are deferred,
    ``progress`` with (runs stored, scenarios) while waiting. ``make_model`` stores a
    scenario's model instead of :func:`scenario_model` (the service: as its caller);
    ``admit`` may refuse the sweep by its id before anything is stored."""
    from flowtime_sim.core import _visibility
    from flowtime_sim.engine import ENGINE_VERSION
    from flowtime_sim.registry.catalog import default_owner
    from flowtime_sim.runs import run_id_for

    registry = ft.registry(root)
    queue = SweepQueue(registry)  # no PostgreSQL index: nothing is planned or stored
    plan = plan_sweep(ft, spec, root=root)
    refuse_deleted(registry, plan.sweep_id)
    existing = find_sweep(registry, plan.sweep_id)
    if existing is not None and _complete(registry, existing):
        outcome = SweepOutcome(existing, unchanged=True)
        return QueuedSweep(plan, (), len(plan.tasks), 0, 0, outcome)
    if admit is not None:
        admit(plan.sweep_id)
    owner = owner or ft.owner or default_owner()
    results: list[ScenarioResult] = []
    runs: list[QueuedRun] = []
    cells: list[int] = []
    failed: list[tuple[int, str]] = []
    for task in plan.tasks:
        try:
            created = (
                make_model(task)
                if make_model is not None
                else scenario_model(ft, task, root=root, owner=owner)
            )
            model = created.artifact
            ref = f"{model.id}@v{model.catalog['version']}"
            _, request = ft.run_request(ref, seed=task.seed, mode=task.mode, root=root)
        except FlowtimeError as exc:
            failed.append((task.index, str(exc)))
            continue
        run_id, _ = run_id_for(request, ENGINE_VERSION)
        results.append(
            ScenarioResult(
                task.index,
                model.id,
                int(model.catalog["version"]),
                run_id,
                model_created=not created.unchanged,
                warnings=tuple(created.warnings),
            )
        )
        runs.append(QueuedRun(task.index, ref, run_id, task.seed, task.mode))
        cells.append(request.model.grid.bins * len(request.model.nodes))
    if failed:
        raise scenarios_failed(plan, len(plan.tasks), failed)
    with queue:
        stored = queue.index.visible_ids("run", [r.run_id for r in runs])
        missing = [i for i, r in enumerate(runs) if r.run_id not in stored]
        open_jobs = queue.open_jobs(plan.sweep_id) if missing else 0
        deferred = 0
        if missing:  # the worker that lands the last run stores the sweep from this
            queue.record(
                Manifest(
                    plan.sweep_id,
                    owner,
                    _visibility(spec.visibility),
                    plan.name,
                    dict(plan.base),
                    spec.tags,
                    tuple(
                        {
                            "parameters": dict(plan.tasks[r.index].parameters),
                            "model": f"{r.model_id}@v{r.model_version}",
                            "run_id": r.run_id,
                        }
                        for r in results
                    ),
                )
            )
        if missing and open_jobs == 0:  # nobody works on the gaps: queue them
            deferred = queue.defer(
                plan.sweep_id,
                owner,
                batches([runs[i] for i in missing], [cells[i] for i in missing], size=batch),
            )
            open_jobs = deferred
        warnings = tuple(dict.fromkeys(w for r in results for w in r.warnings))
        state = QueuedSweep(
            plan, tuple(results), len(stored), deferred, open_jobs, warnings=warnings
        )
        if queued is not None:
            queued(state)
        if not missing:
            return _finish(ft, spec, state, existing, registry, owner, made=set())
        made = {runs[i].run_id for i in missing}
        while wait:
            stored = queue.index.visible_ids("run", [r.run_id for r in runs])
            if progress is not None:
                progress(len(stored), len(runs))
            if len(stored) == len(runs):
                return _finish(ft, spec, state, existing, registry, owner, made=made)
            if queue.open_jobs(plan.sweep_id) == 0:
                # the last job may have stored its last run since the look above
                stored = queue.index.visible_ids("run", [r.run_id for r in runs])
                if len(stored) == len(runs):
                    continue
                raise _gaps(plan, runs, stored, queue.failures(plan.sweep_id))
            time.sleep(poll_s)
        return state


def _finish(
    ft: Flowtime,
    spec: SweepSpec,
    state: QueuedSweep,
    existing: SweepArtifact | None,
    registry: Registry,
    owner: str,
    *,
    made: set[str],
) -> QueuedSweep:
    """Publish the sweep; ``made`` are the runs the workers stored for this call."""
    results = [replace(r, run_created=r.run_id in made) for r in state.results]
    outcome = finish_sweep(
        ft,
        spec,
        state.plan,
        results,
        existing,
        registry=registry,
        owner=owner,
    )
    return replace(state, stored=len(results), open_jobs=0, outcome=outcome)


def publish_queued(queue: SweepQueue, sweep_id: str) -> SweepArtifact | None:
    """Store the queued sweep ``sweep_id`` if every run it lists is stored; the sweep when
    this call published it, ``None`` when runs are missing, it was not queued with a record
    (jobs from before records existed), or someone else stored it first."""
    manifest = queue.manifest(sweep_id)
    if manifest is None:
        return None
    if len(queue.index.visible_ids("run", manifest.run_ids)) < len(manifest.run_ids):
        return None
    if find_sweep(queue.registry, sweep_id) is not None:
        queue.forget(sweep_id)
        return None
    tasks, results = [], []
    for i, s in enumerate(manifest.scenarios):
        model_id, _, version = str(s["model"]).rpartition("@v")
        tasks.append(ScenarioTask(i, dict(s["parameters"]), name=manifest.name))
        results.append(ScenarioResult(i, model_id, int(version), str(s["run_id"])))
    plan = SweepPlan(sweep_id, manifest.name, tuple(tasks), manifest.base)
    catalog = sweep_catalog(
        plan, results, owner=manifest.owner, visibility=manifest.visibility, tags=manifest.tags
    )
    sweep, published = publish_sweep(queue.registry, catalog)
    queue.forget(sweep_id)
    return sweep if published else None


@dataclass(frozen=True, slots=True)
class QueuedStatus:
    """A queued sweep that is not stored yet: what it will list and how far its runs are."""

    manifest: Manifest
    stored: set[str]  # run ids that exist
    jobs: JobCounts
    failures: dict[int, str]

    @property
    def status(self) -> Literal["queued", "running", "incomplete"]:
        """``running`` (a worker has a job), ``queued`` (jobs wait), else ``incomplete``:
        no job is left and some runs are missing (failed or cancelled: post it again)."""
        if self.jobs.doing:
            return "running"
        return "queued" if self.jobs.todo else "incomplete"


def queued_status(registry: Registry, sweep_id: str) -> QueuedStatus | None:
    """Where the queued sweep ``sweep_id`` stands (``None``: the root has no job queue, or
    the sweep was not queued or is stored)."""
    try:
        queue = SweepQueue(registry)
    except UserError:  # no PostgreSQL index: nothing is ever queued here
        return None
    manifest = queue.manifest(sweep_id)
    if manifest is None:
        return None
    stored = queue.index.visible_ids("run", manifest.run_ids)
    return QueuedStatus(manifest, stored, queue.job_counts(sweep_id), queue.failures(sweep_id))


def _gaps(
    plan: SweepPlan, runs: list[QueuedRun], stored: set[str], failures: dict[int, str]
) -> UserError:
    """The error of a sweep whose jobs are all done while some of its runs are missing."""
    missing = [r.index for r in runs if r.run_id not in stored]
    failed = [(i, failures[i]) for i in missing if i in failures]
    if failed:
        return scenarios_failed(plan, len(runs), failed)
    return UserError(
        f"{len(missing)} of {len(runs)} scenarios have no run and no job is queued for them "
        "(were jobs cancelled?); running the sweep again queues them"
    )
