"""``sweep --queue`` and ``worker``: a sweep's runs through the job queue (SPEC §12)."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING

import click

from flowtime_sim.cli import terminal
from flowtime_sim.cli.app import json_option, make_flowtime, template_source_options
from flowtime_sim.cli.registry_cmds import root_option

if TYPE_CHECKING:
    from flowtime_sim.core import Flowtime
    from flowtime_sim.scenarios import SweepSpec
    from flowtime_sim.scenarios.executor import ScenarioResult
    from flowtime_sim.scenarios.queued import QueuedSweep

WORKER_HINT = "start 'flowtime-sim worker' with the same --root and --index to run them"


def sweep_queued(
    ft: Flowtime,
    spec: SweepSpec,
    *,
    root: str | None,
    wait: bool,
    batch: int | None,
    as_json: bool,
) -> None:
    """The ``sweep`` command with ``--queue``."""
    from flowtime_sim.cli.run_cmds import progress_bar
    from flowtime_sim.cli.scenario_cmds import report_sweep
    from flowtime_sim.scenarios.queued import queue_sweep

    url = ft.registry(root).storage.url

    def queued(state: QueuedSweep) -> None:
        if wait and state.stored < len(state.results) and not as_json:
            terminal.note(
                f"sweep {state.plan.sweep_id}: {len(state.results) - state.stored} run(s) in "
                f"{state.open_jobs} job(s) on the queue; waiting for workers ({WORKER_HINT})"
            )

    with progress_bar("runs") as update:
        state = queue_sweep(
            ft, spec, root=root, batch=batch, wait=wait, queued=queued, progress=update
        )
    if state.outcome is not None:
        report_sweep(state.outcome, url, as_json)
        return
    sweep_id = state.plan.sweep_id
    if as_json:
        terminal.print_json(
            {
                "kind": "sweep",
                "id": sweep_id,
                "sweep_id": sweep_id,
                "status": "queued",
                "scenarios": len(state.results),
                "stored": state.stored,
                "jobs_queued": state.deferred,
                "jobs_open": state.open_jobs,
                "models": [f"{r.model_id}@v{r.model_version}" for r in state.results],
                "runs": [r.run_id for r in state.results],
                "models_created": sum(r.model_created for r in state.results),
                "warnings": list(state.warnings),
            }
        )
        return
    for warning in state.warnings:
        terminal.warn(warning)
    terminal.line(
        f"queued sweep {sweep_id}: {len(state.results)} scenarios, {state.stored} run(s) "
        f"stored, {state.open_jobs} job(s) waiting or running"
    )
    terminal.line(f"  {WORKER_HINT}; the worker that stores the last run stores the sweep")
    terminal.line("  (run this sweep again to see how far it got)")


@click.command("worker")
@click.option(
    "--concurrency",
    type=click.IntRange(1, 64),
    default=1,
    show_default=True,
    help="Jobs run at once, in threads of this process (start more workers for more CPUs).",
)
@click.option(
    "--until-empty",
    is_flag=True,
    help="Stop once no job is left to start (default: wait for jobs until stopped).",
)
@root_option
@template_source_options
@json_option
def worker(
    concurrency: int,
    until_empty: bool,
    root: str | None,
    template_dirs: tuple[Path, ...],
    template_files: tuple[Path, ...],
    as_json: bool,
) -> None:
    """Run the runs that 'sweep --queue' queued for this root (--root and --index as the
    sweeper's). Ctrl-C or SIGTERM stops it once its running jobs are done."""
    from flowtime_sim.errors import FlowtimeError
    from flowtime_sim.scenarios.executor import scenario_run
    from flowtime_sim.scenarios.jobqueue import QueuedRun, SweepQueue
    from flowtime_sim.scenarios.queued import publish_queued

    ft = make_flowtime(template_dirs, template_files)
    registry = ft.registry(root)
    queue = SweepQueue(registry, what="the worker")
    counts = {"created": 0, "unchanged": 0, "failed": 0, "sweeps": 0}
    failures: list[dict[str, object]] = []
    lock = threading.Lock()

    def run_one(queued: QueuedRun, owner: str | None) -> ScenarioResult:
        return scenario_run(
            ft,
            queued.index,
            queued.model,
            seed=queued.seed,
            mode=queued.mode,
            root=root,
            owner=owner,
        )

    def done(sweep_id: str, result: ScenarioResult) -> None:
        with lock:
            if result.error is not None:
                counts["failed"] += 1
                failures.append(
                    {"sweep_id": sweep_id, "scenario": result.index, "error": result.error}
                )
                terminal.warn(f"sweep {sweep_id}: scenario {result.index} failed: {result.error}")
                return
            status = "created" if result.run_created else "unchanged"
            counts[status] += 1
            if not as_json:
                terminal.line(f"{status} run {result.run_id} (sweep {sweep_id})")

    def finished(sweep_id: str) -> None:
        try:
            sweep = publish_queued(queue, sweep_id)
        except FlowtimeError as exc:  # the runs are stored; a rerun of the sweep stores it
            with lock:
                terminal.warn(f"sweep {sweep_id}: every run is stored, but not the sweep: {exc}")
            return
        if sweep is not None:
            with lock:
                counts["sweeps"] += 1
                if not as_json:
                    terminal.line(f"stored sweep {sweep_id}: {len(sweep.run_ids)} scenarios")

    terminal.note(f"worker for {registry.storage.url}: queue {queue.queue}")
    queue.work(run_one, done, concurrency=concurrency, until_empty=until_empty, finished=finished)
    if as_json:
        terminal.print_json(
            {
                "runs_created": counts["created"],
                "runs_unchanged": counts["unchanged"],
                "sweeps_stored": counts["sweeps"],
                "failed": failures,
            }
        )
        return
    terminal.line(
        f"worker stopped: {counts['created']} run(s) created, {counts['unchanged']} already "
        f"stored, {counts['failed']} failed"
    )
