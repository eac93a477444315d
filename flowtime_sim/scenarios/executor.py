"""How a sweep's scenarios are executed: one small interface, two executors.

A :class:`ScenarioTask` says everything one scenario needs (which template or source model,
which parameters, how to run); a :class:`ScenarioResult` says what it produced. An executor
takes tasks and reports each result as it arrives. :class:`InlineExecutor` runs them in this
process (the service, ``--jobs 1``), :class:`ProcessExecutor` in parallel worker processes.
``sweep --queue`` (:mod:`flowtime_sim.scenarios.queued`) splits a scenario in its two halves,
:func:`scenario_model` in the sweeper and :func:`scenario_run` in a queue worker. Every step of
a scenario is idempotent (a model version with the same inputs and a run with the same id are
reused), so a task may be executed twice and an interrupted sweep resumes by executing every
task again.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Protocol

from flowtime_sim.errors import FlowtimeError

if TYPE_CHECKING:
    from flowtime_sim.core import Flowtime
    from flowtime_sim.registry import Created


@dataclass(frozen=True, slots=True)
class ScenarioTask:
    """One scenario: ``parameters`` applied to ``template`` (``plugin:id`` at
    ``template_version``) or to the stored model ``source`` (``ID@vN``), then run."""

    index: int
    parameters: Mapping[str, Any]  # this scenario's grid values
    name: str
    fixed: Mapping[str, Any] = field(default_factory=dict)  # values every scenario shares
    template: str | None = None
    template_version: str | None = None
    source: str | None = None
    seed: int | None = None
    mode: str = "expected"
    visibility: str | None = None
    tags: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ScenarioResult:
    """What one scenario produced, or the one-line reason it failed (``error``)."""

    index: int
    model_id: str = ""
    model_version: int = 0
    run_id: str = ""
    model_created: bool = False
    run_created: bool = False
    warnings: tuple[str, ...] = ()
    error: str | None = None


Done = Callable[[ScenarioResult], None]
#: Executes one task and returns its result (raising a FlowtimeError when it cannot).
Runner = Callable[[ScenarioTask], ScenarioResult]


class ScenarioExecutor(Protocol):
    """Executes tasks, calling ``done`` with each result as it arrives (in any order)."""

    def execute(self, tasks: Sequence[ScenarioTask], done: Done) -> list[ScenarioResult]:
        """Every task's result, in the order of ``tasks``."""


def run_scenario(
    ft: Flowtime, task: ScenarioTask, *, root: str | None = None, owner: str | None = None
) -> ScenarioResult:
    """Create (or reuse) the scenario's model version, then its run (or reuse it)."""
    created = scenario_model(ft, task, root=root, owner=owner)
    model = created.artifact
    result = scenario_run(
        ft,
        task.index,
        f"{model.id}@v{model.catalog['version']}",
        seed=task.seed,
        mode=task.mode,
        root=root,
        owner=owner,
    )
    return replace(
        result,
        model_created=not created.unchanged,
        warnings=(*created.warnings, *result.warnings),
    )


def scenario_model(
    ft: Flowtime, task: ScenarioTask, *, root: str | None = None, owner: str | None = None
) -> Created:
    """The first half of a scenario: its model version, created or reused."""
    from flowtime_sim.types import ParameterSources

    sets = {**task.fixed, **task.parameters}
    if task.source is not None:
        return ft.derive(
            task.source,
            name=task.name,
            sets=sets,
            tags=task.tags,
            visibility=task.visibility,
            root=root,
            owner=owner,
        )
    assert task.template is not None
    return ft.create_model(
        task.template,
        ParameterSources(sets=sets),
        name=task.name,
        tags=task.tags,
        version=task.template_version,
        visibility=task.visibility,
        root=root,
        owner=owner,
    )


def scenario_run(
    ft: Flowtime,
    index: int,
    model_ref: str,
    *,
    seed: int | None,
    mode: str,
    root: str | None = None,
    owner: str | None = None,
) -> ScenarioResult:
    """The second half of a scenario: the run of the model version ``model_ref``, or the
    stored run with its id (a run is published once, however often this is called)."""
    run = ft.run_model(model_ref, seed=seed, mode=mode, root=root, owner=owner)
    model_id, _, version = model_ref.partition("@v")
    return ScenarioResult(
        index,
        model_id,
        int(version),
        run.artifact.id,
        run_created=not run.unchanged,
        warnings=tuple(run.warnings),
    )


def _guarded(runner: Runner, task: ScenarioTask) -> ScenarioResult:
    try:
        return runner(task)
    except FlowtimeError as exc:  # one scenario's failure never loses the others' work
        return ScenarioResult(task.index, error=str(exc))


@dataclass
class InlineExecutor:
    """Runs each task in this process, one after the other."""

    runner: Runner

    def execute(self, tasks: Sequence[ScenarioTask], done: Done) -> list[ScenarioResult]:
        results = []
        for task in tasks:
            result = _guarded(self.runner, task)
            done(result)
            results.append(result)
        return results


@dataclass(frozen=True, slots=True)
class WorkerSettings:
    """What a worker process needs to open the same root as its parent."""

    root: str | None
    owner: str | None
    index: str | None = None  # --index; None: FLOWTIME_SIM_INDEX, else the embedded one
    storage_options: Mapping[str, str] = field(default_factory=dict)
    template_paths: tuple[str, ...] = ()


_worker: tuple[Flowtime, WorkerSettings] | None = None


def _start_worker(settings: WorkerSettings) -> None:
    global _worker
    from pathlib import Path

    from flowtime_sim.core import Flowtime

    ft = Flowtime(
        root=settings.root,
        owner=settings.owner,
        index=settings.index,
        storage_options=settings.storage_options,
        template_paths=[Path(p) for p in settings.template_paths],
    )
    _worker = (ft, settings)


def _work(task: ScenarioTask) -> ScenarioResult:
    assert _worker is not None, "worker process not started"
    ft, settings = _worker
    return _guarded(lambda t: run_scenario(ft, t, root=settings.root, owner=settings.owner), task)


@dataclass
class ProcessExecutor:
    """Runs tasks in ``jobs`` worker processes (spawned: nothing of this process's open
    files or index connections is shared with them)."""

    jobs: int
    settings: WorkerSettings

    def execute(self, tasks: Sequence[ScenarioTask], done: Done) -> list[ScenarioResult]:
        import multiprocessing

        by_index: dict[int, ScenarioResult] = {}
        context = multiprocessing.get_context("spawn")
        workers = max(1, min(self.jobs, len(tasks)))
        with ProcessPoolExecutor(
            workers, mp_context=context, initializer=_start_worker, initargs=(self.settings,)
        ) as pool:
            pending: set[Future[ScenarioResult]] = {pool.submit(_work, t) for t in tasks}
            while pending:
                finished, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in finished:
                    result = future.result()
                    by_index[result.index] = result
                    done(result)
        return [by_index[t.index] for t in tasks]


def default_jobs() -> int:
    return max(1, min(4, os.cpu_count() or 1))
