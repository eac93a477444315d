"""Sweeps: every combination of a parameter grid becomes a model version and a run, and the
sweep itself an artifact listing them (SPEC §13).

The sweep id is deterministic — ``{slug}-sweep_{h8}`` from the template (or source model
version), the grid, the seed and the mode — and every scenario is idempotent, so running a
sweep again reuses what exists and fills only the gaps: an interrupted sweep resumes. The
sweep's catalog is published last, once every scenario is stored; its presence means the
sweep is complete.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from flowtime_sim.canonical import canonical_hash
from flowtime_sim.errors import NotFoundError, ParameterError, UserError
from flowtime_sim.ids import check_id, slugify
from flowtime_sim.scenarios.executor import ScenarioExecutor, ScenarioResult, ScenarioTask
from flowtime_sim.scenarios.grid import Grid, describe
from flowtime_sim.scenarios.store import (
    SweepArtifact,
    find_sweep,
    publish_sweep,
    refuse_deleted,
)

if TYPE_CHECKING:
    from flowtime_sim.core import Flowtime
    from flowtime_sim.registry import Registry


@dataclass(frozen=True, slots=True)
class SweepSpec:
    """What a sweep is asked to be: give exactly one of ``template`` and ``source``."""

    grid: Grid
    fixed: Mapping[str, Any] = field(default_factory=dict)  # --set: the same in every scenario
    template: str | None = None
    source: str | None = None
    version: str | None = None  # template version (default: the newest)
    seed: int | None = None
    mode: str = "expected"
    visibility: str | None = None
    tags: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class SweepPlan:
    """A spec resolved against what is installed and stored: the id, the base catalog
    fields and one task per scenario."""

    sweep_id: str
    name: str
    tasks: tuple[ScenarioTask, ...]
    base: Mapping[str, Any]  # catalog fields known before anything runs


@dataclass(frozen=True, slots=True)
class SweepOutcome:
    """A completed sweep, and what this call added to the root."""

    sweep: SweepArtifact
    unchanged: bool
    models_created: int = 0
    runs_created: int = 0
    warnings: tuple[str, ...] = field(default_factory=tuple)


def plan_sweep(ft: Flowtime, spec: SweepSpec, *, root: str | None = None) -> SweepPlan:
    """Resolve the template or source model, check every scenario's parameters (all problems
    at once, before anything is stored) and compute the sweep id."""
    from flowtime_sim.catalogs import pack_of
    from flowtime_sim.core import _mode
    from flowtime_sim.ids import parse_ref

    if (spec.template is None) == (spec.source is None):
        raise UserError("give exactly one of --template T and --from ID", field="template")
    mode = _mode(spec.mode)
    scenarios = list(spec.grid.scenarios())
    if spec.template is not None:
        template = ft.template(spec.template, spec.version)
        base_params: dict[str, Any] = {}
        name = template.id
        identity: dict[str, Any] = {
            "template_id": template.id,
            "pack": template.plugin,
            "template_version": template.version,
        }
        base: dict[str, Any] = {
            "template_id": template.id,
            "template_version": template.version,
            "pack": pack_of(template),
        }
        template_ref, source_ref = f"{template.plugin}:{template.id}", None
    else:
        if spec.version is not None:
            raise UserError(
                "--version applies only to --template; a sweep --from a model "
                "uses that model's template version",
                field="version",
            )
        source = ft.model(str(parse_ref(str(spec.source), what="model id")), root=root)
        template = ft.template_of(source.catalog)
        base_params = dict(source.catalog["parameters"])
        name = str(source.catalog["name"])
        identity = {"from": source.ref}
        base = {
            "template_id": template.id,
            "template_version": template.version,
            "pack": pack_of(template),
            "from": source.ref,
        }
        template_ref, source_ref = None, source.ref
    overlap = sorted(set(spec.fixed) & {a.name for a in spec.grid.axes})
    if overlap:
        raise UserError(
            f"{', '.join(overlap)} is given both in --set and in --grid; give it in one of them",
            field=f"grid.{overlap[0]}",
        )
    _check_parameters(ft, template, {**base_params, **spec.fixed}, scenarios)
    identity.update(
        grid=spec.grid.as_json(), fixed=dict(spec.fixed), seed=spec.seed, mode=mode, name=name
    )
    inputs = canonical_hash(identity)
    sweep_id = check_id(
        f"{slugify(name)[:80].strip('-')}-sweep_{inputs.removeprefix('sha256:')[:8]}",
        what="sweep id",
    )
    tasks = tuple(
        ScenarioTask(
            index=i,
            parameters=params,
            fixed=spec.fixed,
            name=f"{name} {describe(params)}",
            template=template_ref,
            template_version=template.version if template_ref else None,
            source=source_ref,
            seed=spec.seed,
            mode=mode,
            visibility=spec.visibility,
            tags=spec.tags,
        )
        for i, params in enumerate(scenarios)
    )
    base.update(name=name, grid=spec.grid.as_json(), seed=spec.seed, mode=mode, inputs_hash=inputs)
    if spec.fixed:
        base["set"] = dict(spec.fixed)
    return SweepPlan(sweep_id, name, tasks, base)


def _check_parameters(
    ft: Flowtime, template: Any, base: Mapping[str, Any], scenarios: Iterable[Mapping[str, Any]]
) -> None:
    from flowtime_sim.rendering import resolve_parameters
    from flowtime_sim.types import ParameterSources

    problems: list[str] = []
    for params in scenarios:
        try:
            resolve_parameters(
                ft.host, template, ParameterSources(file=dict(base), sets=dict(params))
            )
        except ParameterError as exc:
            problems += [p for p in exc.problems if p not in problems]
    if problems:
        raise ParameterError(f"the grid has invalid values: {'; '.join(problems)}", problems)


def run_sweep(
    ft: Flowtime,
    spec: SweepSpec,
    executor: ScenarioExecutor,
    *,
    root: str | None = None,
    owner: str | None = None,
    started: Callable[[SweepPlan], None] | None = None,
    done: Callable[[ScenarioResult], None] | None = None,
) -> SweepOutcome:
    """Execute every scenario the stored sweep lacks, then publish the sweep.

    ``started`` is called with the plan before anything runs; ``done`` with each scenario's
    result (for a progress bar).
    """
    registry = ft.registry(root)
    plan = plan_sweep(ft, spec, root=root)
    refuse_deleted(registry, plan.sweep_id)
    existing = find_sweep(registry, plan.sweep_id)
    if existing is not None and _complete(registry, existing):
        return SweepOutcome(existing, unchanged=True)
    # open (and on a fresh root, create) the listing index here, before parallel workers
    # would all create it at the same moment
    registry.index  # noqa: B018
    if started is not None:
        started(plan)
    results = executor.execute(plan.tasks, done or (lambda _: None))
    failed = [r for r in results if r.error is not None]
    if failed:
        raise scenarios_failed(plan, len(results), [(r.index, str(r.error)) for r in failed])
    return finish_sweep(ft, spec, plan, results, existing, registry=registry, owner=owner)


def scenarios_failed(plan: SweepPlan, total: int, failed: list[tuple[int, str]]) -> UserError:
    """The error of a sweep some of whose scenarios (``(index, reason)``) failed."""
    first_index, first_error = failed[0]
    return UserError(
        f"{len(failed)} of {total} scenarios failed ({total - len(failed)} are "
        f"stored; running the sweep again fills the gaps); the first, "
        f"{describe(plan.tasks[first_index].parameters)}: {first_error}"
    )


def finish_sweep(
    ft: Flowtime,
    spec: SweepSpec,
    plan: SweepPlan,
    results: list[ScenarioResult],
    existing: SweepArtifact | None,
    *,
    registry: Registry,
    owner: str | None = None,
) -> SweepOutcome:
    """Publish the sweep once every scenario's ``results`` are stored (unless it is)."""
    from flowtime_sim.core import _visibility
    from flowtime_sim.registry.catalog import default_owner

    catalog = sweep_catalog(
        plan,
        results,
        owner=owner or ft.owner or default_owner(),
        visibility=_visibility(spec.visibility),
        tags=spec.tags,
    )
    sweep, published = publish_sweep(registry, catalog)
    if not published and sweep.catalog["scenarios"] != catalog["scenarios"]:
        raise UserError(
            f"sweep {plan.sweep_id} is stored with other models or runs than it "
            "makes now (were some deleted?); delete it to make it again"
        )
    gone = [r for r in results if not run_stored(registry, r.run_id)]
    warnings = tuple(
        dict.fromkeys(
            [
                *(w for r in results for w in r.warnings),
                *(
                    f"run {r.run_id} ({describe(plan.tasks[r.index].parameters)}) was deleted "
                    "and keeps its id; the sweep lists it, but it cannot be read"
                    for r in gone
                ),
            ]
        )
    )
    return SweepOutcome(
        sweep,
        unchanged=not published and existing is not None,
        models_created=sum(r.model_created for r in results),
        runs_created=sum(r.run_created for r in results),
        warnings=warnings,
    )


def _complete(registry: Registry, sweep: SweepArtifact) -> bool:
    """Whether every run the stored sweep lists is still there (deleted ones are gaps)."""
    return all(run_stored(registry, run_id) for run_id in sweep.run_ids)


def run_stored(registry: Registry, run_id: str) -> bool:
    try:
        registry.run(run_id)
    except NotFoundError:
        return False
    return True


def sweep_catalog(
    plan: SweepPlan,
    results: Iterable[ScenarioResult],
    *,
    owner: str,
    visibility: str,
    tags: Iterable[str],
) -> dict[str, Any]:
    from flowtime_sim.registry.catalog import SCHEMA_VERSION, generator, utc_now

    by_index = {r.index: r for r in results}
    scenarios = []
    for task in plan.tasks:
        r = by_index[task.index]
        scenarios.append(
            {
                "parameters": dict(task.parameters),
                "model_id": r.model_id,
                "model_version": r.model_version,
                "run_id": r.run_id,
            }
        )
    return {
        "kind": "sweep",
        "id": plan.sweep_id,
        "name": plan.name,
        "created_utc": utc_now(),
        "schema_version": SCHEMA_VERSION,
        **plan.base,
        "scenarios": scenarios,
        "tags": list(tags),
        "files": {},
        "owner": owner,
        "visibility": visibility,
        "source": "sim",
        "generator": generator(),
    }
