"""``sweep``, ``compare`` and ``diff``: scenarios (SPEC §13)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from flowtime_sim.cli import terminal
from flowtime_sim.cli.app import index_option, json_option, make_flowtime, template_source_options

if TYPE_CHECKING:
    from flowtime_sim.scenarios import SweepOutcome
    from flowtime_sim.scenarios.compare import Comparison
    from flowtime_sim.scenarios.diff import ModelDiff

root_option = click.option(
    "--root",
    "--out",
    "root",
    metavar="DIR|URL",
    help="Artifacts root (default: $FLOWTIME_ARTIFACTS_ROOT or ./artifacts).",
)


@click.command("sweep")
@click.option(
    "--template",
    "-t",
    "template_ref",
    metavar="TEMPLATE",
    help="Template id (or pack:id) each scenario renders.",
)
@click.option(
    "--from", "source", metavar="ID[@vN]", help="A stored model each scenario derives from instead."
)
@click.option(
    "--grid",
    "grid",
    multiple=True,
    required=True,
    metavar="KEY=V1,V2,...",
    help="A parameter and its values, read like --set values; a range lo..hi:step "
    "includes both ends. Repeatable: every combination is a scenario.",
)
@click.option(
    "--set",
    "sets",
    multiple=True,
    metavar="KEY=VALUE",
    help="A parameter value every scenario shares (read as YAML). Repeatable.",
)
@click.option("--seed", type=int, help="Run seed (default: each model's rng.seed, else 0).")
@click.option(
    "--sample", is_flag=True, help="Run in sample mode (PCG32) instead of expected values."
)
@click.option(
    "--jobs",
    "-j",
    type=click.IntRange(1, 64),
    default=None,
    help="Scenarios run in parallel processes (default: up to 4, one per CPU).",
)
@click.option("--version", "version", help="Template version (default: newest).")
@click.option(
    "--visibility",
    type=click.Choice(["private", "team", "public"]),
    help="Visibility of the sweep and its models (default: private).",
)
@click.option("--tag", "tags", multiple=True, help="Extra tag for the sweep and its models.")
@click.option(
    "--queue",
    "queued",
    is_flag=True,
    help="Store the models here and queue the runs for 'flowtime-sim worker' processes "
    "(needs a PostgreSQL --index).",
)
@click.option(
    "--wait/--no-wait",
    default=True,
    help="With --queue: wait until every run is stored, then store the sweep (default), or "
    "return once the runs are queued.",
)
@click.option(
    "--batch",
    type=click.IntRange(1, 10_000),
    help="With --queue: scenarios per job (default: about 2 million cells, bins x nodes, "
    "and at most 100 runs a job).",
)
@root_option
@index_option
@template_source_options
@json_option
def sweep(
    template_ref: str | None,
    source: str | None,
    grid: tuple[str, ...],
    sets: tuple[str, ...],
    seed: int | None,
    sample: bool,
    jobs: int | None,
    version: str | None,
    visibility: str | None,
    tags: tuple[str, ...],
    queued: bool,
    wait: bool,
    batch: int | None,
    root: str | None,
    template_dirs: tuple[Path, ...],
    template_files: tuple[Path, ...],
    as_json: bool,
) -> None:
    """Run every combination of a parameter grid: a model and a run each, and the sweep as
    an artifact (sweeps/{sweep_id}/catalog.json). Running it again fills only the gaps."""
    from flowtime_sim.cli.run_cmds import progress_bar
    from flowtime_sim.parameter_input import parse_sets
    from flowtime_sim.scenarios import SweepSpec, parse_grid, run_sweep
    from flowtime_sim.scenarios.executor import (
        InlineExecutor,
        ProcessExecutor,
        ScenarioExecutor,
        WorkerSettings,
        default_jobs,
        run_scenario,
    )

    ft = make_flowtime(template_dirs, template_files)
    spec = SweepSpec(
        parse_grid(grid),
        fixed=parse_sets(sets),
        template=template_ref,
        source=source,
        version=version,
        seed=seed,
        mode="sample" if sample else "expected",
        visibility=visibility,
        tags=tags,
    )
    if queued:
        from flowtime_sim.cli.queue_cmds import sweep_queued

        sweep_queued(ft, spec, root=root, wait=wait, batch=batch, as_json=as_json)
        return
    if batch is not None or not wait:
        from flowtime_sim.errors import UserError

        raise UserError("--no-wait and --batch apply only to a sweep with --queue")
    jobs = jobs or default_jobs()
    executor: ScenarioExecutor
    if jobs == 1:
        executor = InlineExecutor(lambda task: run_scenario(ft, task, root=root))
    else:
        executor = ProcessExecutor(
            jobs,
            WorkerSettings(
                root=ft.registry(root).storage.url if root is None else root,
                owner=ft.owner,
                index=ft.index,
                storage_options=ft.storage_options,
                template_paths=tuple(str(p) for p in ft.template_paths),
            ),
        )
    with progress_bar("scenarios") as update:
        finished = [0]
        total = [0]

        def started(plan: Any) -> None:
            total[0] = len(plan.tasks)
            if update:
                update(0, total[0])

        def done(_: object) -> None:
            finished[0] += 1
            if update:
                update(finished[0], total[0])

        outcome = run_sweep(ft, spec, executor, root=root, started=started, done=done)
    report_sweep(outcome, ft.registry(root).storage.url, as_json)


def report_sweep(outcome: SweepOutcome, root: str, as_json: bool) -> None:
    cat = outcome.sweep.catalog
    scenarios = cat["scenarios"]
    status = "unchanged" if outcome.unchanged else "created"
    for warning in outcome.warnings:
        terminal.warn(warning)
    path = f"{root.rstrip('/')}/{outcome.sweep.key}"
    if as_json:
        terminal.print_json(
            {
                "kind": "sweep",
                "id": outcome.sweep.id,
                "sweep_id": outcome.sweep.id,
                "status": status,
                "path": path,
                "scenarios": len(scenarios),
                "models": [f"{s['model_id']}@v{s['model_version']}" for s in scenarios],
                "runs": [s["run_id"] for s in scenarios],
                "models_created": outcome.models_created,
                "runs_created": outcome.runs_created,
                "warnings": list(outcome.warnings),
            }
        )
        return
    if outcome.unchanged:
        made = "nothing created"
    else:
        made = f"{outcome.models_created} model(s) and {outcome.runs_created} run(s) created"
    terminal.line(f"{status} sweep {outcome.sweep.id}: {len(scenarios)} scenarios, {made}")
    terminal.line(f"  {path}")
    scenario_table(cat)


def scenario_table(cat: Any) -> None:
    """A sweep's scenarios: their grid values, model version and run."""
    scenarios = cat["scenarios"]
    names = [g["parameter"] for g in cat["grid"]]
    rows = [
        [_value(s["parameters"][n]) for n in names]
        + [f"{s['model_id']}@v{s['model_version']}", s["run_id"]]
        for s in scenarios
    ]
    terminal.table(None, [*names, "model", "run"], rows, keep=("model", "run"))


def show_sweep(ft: Any, ref: str, root: str | None, as_json: bool) -> bool:
    """``show SWEEP_ID``: the sweep's catalog and its scenarios; ``False`` when ``ref`` names
    no stored sweep."""
    from flowtime_sim.ids import parse_ref
    from flowtime_sim.scenarios.store import find_sweep
    from flowtime_sim.scenarios.sweep import run_stored

    parsed = parse_ref(ref)
    registry = ft.registry(root)
    found = find_sweep(registry, parsed.id) if parsed.version is None else None
    if found is None:
        return False
    cat = dict(found.catalog)
    missing = [r for r in found.run_ids if not run_stored(registry, r)]
    if as_json:
        terminal.print_json({**cat, "missing_runs": missing})
        return True
    skip = {"scenarios", "grid", "files", "set"}
    terminal.key_values([(k, _value(v)) for k, v in cat.items() if k not in skip])
    terminal.line()
    terminal.table(
        "Grid",
        ["parameter", "values"],
        [(g["parameter"], _value(g["values"])) for g in cat["grid"]],
    )
    for name, value in cat.get("set", {}).items():
        terminal.line(f"set: {name}={_value(value)}")
    terminal.line()
    scenario_table(cat)
    for run_id in missing:
        terminal.warn(f"run {run_id} of the sweep is gone (deleted)")
    return True


def _value(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


@click.command("compare")
@click.argument("refs", nargs=-1, required=True, metavar="RUN|SWEEP...")
@click.option(
    "--series",
    "series",
    multiple=True,
    metavar="NAME",
    help="Only this series. Repeatable (default: every series).",
)
@click.option(
    "--plot",
    "plot",
    type=click.Path(dir_okay=False, path_type=Path),
    metavar="FILE.svg|.png|.html",
    help="Write one chart per series with every run overlaid.",
)
@root_option
@json_option
def compare(
    refs: tuple[str, ...],
    series: tuple[str, ...],
    plot: Path | None,
    root: str | None,
    as_json: bool,
) -> None:
    """Runs side by side: per series each run's total and peak, and the bins where they
    differ. A sweep id stands for all of its runs."""
    from flowtime_sim.scenarios.compare import compare as compare_runs
    from flowtime_sim.scenarios.compare import load_from_registry

    ft = make_flowtime()
    runs, missing = load_from_registry(ft.registry(root), list(refs))
    for run_id in missing:
        terminal.warn(f"run {run_id} of the sweep is gone (deleted); compared without it")
    comparison = compare_runs(runs, series, missing)
    written = []
    if plot is not None:
        from flowtime_sim.scenarios.charts import write_plot

        written = write_plot(comparison, plot)
    if as_json:
        doc = comparison.as_json()
        if plot is not None:
            doc["plots"] = [str(p) for p in written]
        terminal.print_json(doc)
        return
    report_comparison(comparison)
    for path in written:
        terminal.line(f"wrote {path}")


def report_comparison(comparison: Comparison) -> None:
    from flowtime_sim.scenarios.charts import number
    from flowtime_sim.scenarios.compare import bin_ranges

    for s in comparison.series:
        rows = [
            (
                f.label,
                number(f.total),
                number(f.peak),
                f"{f.peak_bin}" + (f" ({f.peak_time})" if f.peak_time else ""),
            )
            for f in s.runs
        ]
        terminal.table(s.name, ["run", "total", "peak", "peak bin"], rows)
        if len(s.runs) > 1:
            where = bin_ranges(s.differing_bins)
            terminal.line(f"  differs in bins {where}" if where else "  the same in every bin")
        if s.missing:
            terminal.line(f"  not in: {', '.join(s.missing)}")
        terminal.line()


@click.command("diff")
@click.argument("a", metavar="A")
@click.argument("b", metavar="B")
@root_option
@json_option
def diff(a: str, b: str, root: str | None, as_json: bool) -> None:
    """What changed between two model versions (ID or ID@vN): parameters, nodes, edges,
    and, when both have runs, their series."""
    from flowtime_sim.scenarios.compare import compare as compare_runs
    from flowtime_sim.scenarios.compare import load_from_registry
    from flowtime_sim.scenarios.diff import diff_models, latest_run

    ft = make_flowtime()
    registry = ft.registry(root)
    left, right = ft.model(a, root=root), ft.model(b, root=root)
    result = diff_models(left, right)
    run_a = latest_run(registry.runs_of(left.id), left.version)
    run_b = latest_run(registry.runs_of(right.id), right.version)
    if run_a and run_b and run_a != run_b:
        compared, _ = load_from_registry(registry, [run_a, run_b])
        result = _with_series(result, compare_runs(compared), (run_a, run_b))
    elif not (run_a and run_b):
        result.notes.append("series not compared: run both versions to see how their series differ")
    if as_json:
        terminal.print_json(result.as_json())
        return
    report_diff(result)


def _with_series(result: ModelDiff, comparison: Comparison, runs: tuple[str, str]) -> ModelDiff:
    from dataclasses import replace

    return replace(result, series=comparison, runs=runs)


def report_diff(d: ModelDiff) -> None:
    from flowtime_sim.scenarios.charts import number
    from flowtime_sim.scenarios.compare import bin_ranges

    terminal.line(f"a: {d.a} ({d.template[0]})")
    terminal.line(f"b: {d.b} ({d.template[1]})")
    if d.same_model:
        terminal.line("the two versions have the same template, parameters and topology")
    if d.parameters:
        terminal.table(
            "parameters",
            ["name", "a", "b"],
            [(p.name, _shown(p.a), _shown(p.b)) for p in d.parameters],
        )
    for sign, nodes in (("+", d.nodes_added), ("-", d.nodes_removed)):
        for node in nodes:
            terminal.line(f"{sign} node {node['id']} ({node['kind']})")
    for node_id, ka, kb in d.nodes_changed:
        terminal.line(f"~ node {node_id}: {ka} -> {kb}")
    for sign, edges in (("+", d.edges_added), ("-", d.edges_removed)):
        for edge in edges:
            terminal.line(f"{sign} edge {edge['from']} -> {edge['to']}")
    if d.series is not None and d.runs is not None:
        rows = []
        for s in d.series.series:
            by_run = {f.run_id: f for f in s.runs}
            fa, fb = by_run.get(d.runs[0]), by_run.get(d.runs[1])
            rows.append(
                (
                    s.name,
                    number(fa.total) if fa else "-",
                    number(fb.total) if fb else "-",
                    number(fb.total - fa.total) if fa and fb else "-",
                    bin_ranges(s.differing_bins) or "none",
                )
            )
        terminal.table(
            f"series ({d.runs[0]} vs {d.runs[1]})",
            ["series", "total a", "total b", "b - a", "bins that differ"],
            rows,
        )
    for note in d.notes:
        terminal.line(note)


def _shown(value: Any) -> str:
    from flowtime_sim.scenarios.diff import _MISSING

    return "(absent)" if value is _MISSING else _value(value)
