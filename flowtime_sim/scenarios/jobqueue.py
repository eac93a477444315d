"""The sweep job queue: scenario runs deferred to PostgreSQL and run by ``flowtime-sim worker``
processes on any number of machines (SPEC §12).

The queue is `procrastinate <https://procrastinate.readthedocs.io>`_'s, in the database of the
root's PostgreSQL index; its tables (``procrastinate_*``) are created on first use.

- **One queue per root**, ``flowtime-sweeps-{h8}`` (``h``: the hash of the root's URL): a worker
  serves the root it is given, like every other command, and never runs another root's jobs.
- **A job is a batch** of one sweep's scenarios: for each, the model version the sweeper
  stored, the run's seed and mode and the run id that run will have. The sweeper's owner goes
  with the job, so a worker on another machine stores the runs in the sweeper's name.
- **A run is published once**, however often a job is delivered: a run id is its inputs, a
  worker skips runs that are stored, and two writers of one run race on its row in the index,
  where exactly one wins (:meth:`~flowtime_sim.registry.publication.TeamRegistry.publish_run`).
  A job whose worker died is delivered again when the next worker starts.
- **The sweep is stored by the worker that lands its last run**: the sweeper records what the
  sweep will list (``flowtime_queued_sweeps``: owner, visibility, each scenario's parameters,
  model and run), and after each job the worker looks whether every run is there; two workers
  finishing at once both publish the same sweep, and the index keeps one. Jobs deferred before
  that record existed run as before, and a sweeper or a rerun stores their sweep.
- **A failing scenario** is recorded in ``flowtime_sweep_failures`` (and cleared once it
  succeeds); the other scenarios of its job go on. An unreachable database or bucket fails
  the job instead, which is retried.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from flowtime_sim.errors import FlowtimeError, UnavailableError, UserError
from flowtime_sim.scenarios.executor import ScenarioResult

if TYPE_CHECKING:
    import procrastinate

    from flowtime_sim.registry import Registry
    from flowtime_sim.registry.postgres import PostgresIndex

TASK = "flowtime_sim.sweep_runs"
#: what one job should hold: many short runs, or one long one (see :func:`batches`)
JOB_CELLS = 2_000_000
JOB_RUNS = 100
#: a job that fails because the database or bucket is away is tried this often
ATTEMPTS = 5

FAILURES_SCHEMA = """
CREATE TABLE IF NOT EXISTS flowtime_sweep_failures (
  root TEXT NOT NULL, sweep_id TEXT NOT NULL, scenario INTEGER NOT NULL, error TEXT NOT NULL,
  failed_at TIMESTAMPTZ NOT NULL DEFAULT now(), PRIMARY KEY (root, sweep_id, scenario)
);

CREATE TABLE IF NOT EXISTS flowtime_queued_sweeps (
  root TEXT NOT NULL, sweep_id TEXT NOT NULL, owner TEXT NOT NULL, visibility TEXT NOT NULL,
  manifest JSONB NOT NULL, queued_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  PRIMARY KEY (root, sweep_id)
);
"""


@dataclass(frozen=True, slots=True)
class Manifest:
    """What a queued sweep will list once its runs are stored: ``scenarios`` are, in grid
    order, ``{"parameters", "model" (ID@vN), "run_id"}``; ``base`` the plan's catalog fields."""

    sweep_id: str
    owner: str
    visibility: str
    name: str
    base: dict[str, Any]
    tags: tuple[str, ...]
    scenarios: tuple[dict[str, Any], ...]

    @property
    def run_ids(self) -> list[str]:
        return [str(s["run_id"]) for s in self.scenarios]


@dataclass(frozen=True, slots=True)
class JobCounts:
    """A sweep's jobs: waiting (``todo``), being run (``doing``), and failed for good."""

    todo: int = 0
    doing: int = 0
    failed: int = 0


@dataclass(frozen=True, slots=True)
class QueuedRun:
    """One scenario of a job: run ``model`` (``ID@vN``) with ``seed`` and ``mode``."""

    index: int
    model: str
    run_id: str
    seed: int | None
    mode: str

    def as_json(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "model": self.model,
            "run_id": self.run_id,
            "seed": self.seed,
            "mode": self.mode,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> QueuedRun:
        seed = data.get("seed")
        return cls(
            int(data["index"]),
            str(data["model"]),
            str(data["run_id"]),
            None if seed is None else int(seed),
            str(data["mode"]),
        )


#: runs one scenario of a job (the worker's ``scenario_run``) as ``owner``
RunOne = Callable[[QueuedRun, str | None], ScenarioResult]


def queue_name(root_url: str) -> str:
    """The queue of the root ``root_url``."""
    return f"flowtime-sweeps-{hashlib.sha256(root_url.encode()).hexdigest()[:8]}"


def team_index(registry: Registry, what: str) -> PostgresIndex:
    """The PostgreSQL index of ``registry``, which holds the job queue; a :class:`UserError`
    saying what to give when the root has another index."""
    from flowtime_sim.registry.postgres import PostgresIndex
    from flowtime_sim.registry.publication import TeamRegistry

    index = registry.team_index if isinstance(registry, TeamRegistry) else None
    if not isinstance(index, PostgresIndex):
        raise UserError(
            f"{what} needs a PostgreSQL index, where the job queue lives: give --index "
            "postgresql://USER@HOST/DB or set FLOWTIME_SIM_INDEX",
            field="index",
        )
    return index


class SweepQueue:
    """The job queue of one root, in its PostgreSQL index's database. Use it in a ``with``
    block: deferring and looking at jobs keep a connection pool open until it ends."""

    def __init__(self, registry: Registry, *, what: str = "sweep --queue") -> None:
        self.index = team_index(registry, what)
        self.registry = registry
        self.root = registry.storage.url
        self.queue = queue_name(self.root)
        self._app: procrastinate.App | None = None

    # -- both sides -----------------------------------------------------------------------

    def app(self, pool_size: int = 2) -> procrastinate.App:
        """A procrastinate app on the index's database, its schema applied."""
        try:
            import procrastinate
        except ImportError:  # pragma: no cover - the extra is installed in every test run
            raise UserError(
                "the job queue needs procrastinate: pip install 'flowtime-sim[postgresql]'",
                field="index",
            ) from None
        self.ensure_schema()
        return procrastinate.App(
            connector=procrastinate.PsycopgConnector(
                conninfo=self.index.url, min_size=1, max_size=pool_size
            )
        )

    def ensure_schema(self) -> None:
        """procrastinate's tables, functions and types, and the failures table: created once
        (under an advisory lock, so that machines starting together create them once)."""
        from procrastinate.schema import SchemaManager

        with self.index.connection() as conn:
            if conn.execute(
                "SELECT to_regclass('procrastinate_jobs') IS NOT NULL "
                "AND to_regclass('flowtime_sweep_failures') IS NOT NULL "
                "AND to_regclass('flowtime_queued_sweeps') IS NOT NULL"
            ).fetchone() == (True,):
                return
            with conn.transaction():
                conn.execute("SELECT pg_advisory_xact_lock(7414)")
                if conn.execute("SELECT to_regclass('procrastinate_jobs')").fetchone() == (None,):
                    conn.execute(SchemaManager.get_schema())
                conn.execute(FAILURES_SCHEMA)

    def __enter__(self) -> SweepQueue:
        self._app = self.app().open()
        return self

    def __exit__(self, *_: object) -> None:
        if self._app is not None:
            self._app.close()
            self._app = None

    @property
    def _opened(self) -> procrastinate.App:
        assert self._app is not None, "use the queue in a with block"
        return self._app

    # -- the sweeper's side ---------------------------------------------------------------

    def defer(self, sweep_id: str, owner: str, batches: Sequence[Sequence[QueuedRun]]) -> int:
        """One job per batch; returns how many were deferred."""
        if not batches:
            return 0
        jobs: list[dict[str, Any]] = [
            {"sweep": sweep_id, "owner": owner, "runs": [r.as_json() for r in batch]}
            for batch in batches
        ]
        return len(self._opened.configure_task(TASK, queue=self.queue).batch_defer(*jobs))

    def open_jobs(self, sweep_id: str) -> int:
        """How many jobs of the sweep are waiting or running."""
        manager = self._opened.job_manager
        return sum(
            1
            for status in ("todo", "doing")
            for job in manager.list_jobs(queue=self.queue, task=TASK, status=status)
            if job.task_kwargs.get("sweep") == sweep_id
        )

    def failures(self, sweep_id: str) -> dict[int, str]:
        """Why scenarios of the sweep failed, by their index (the latest attempt's reason)."""
        with self.index.connection() as conn:
            rows = conn.execute(
                "SELECT scenario, error FROM flowtime_sweep_failures WHERE root=%s AND "
                "sweep_id=%s ORDER BY scenario",
                (self.root, sweep_id),
            ).fetchall()
        return {int(i): str(e) for i, e in rows}

    def record(self, manifest: Manifest) -> None:
        """Remember what the sweep will list, for the worker that lands its last run; the
        first to queue a sweep owns it, as the first to store a sweep does."""
        from psycopg.types.json import Jsonb

        doc = {
            "name": manifest.name,
            "base": manifest.base,
            "tags": list(manifest.tags),
            "scenarios": list(manifest.scenarios),
        }
        with self.index.connection() as conn:
            conn.execute(
                "INSERT INTO flowtime_queued_sweeps (root, sweep_id, owner, visibility, "
                "manifest) VALUES (%s, %s, %s, %s, %s) ON CONFLICT (root, sweep_id) DO UPDATE "
                "SET manifest=EXCLUDED.manifest, queued_at=now()",
                (self.root, manifest.sweep_id, manifest.owner, manifest.visibility, Jsonb(doc)),
            )

    def manifest(self, sweep_id: str) -> Manifest | None:
        """What the queued sweep will list (``None``: not queued, or stored already)."""
        self.ensure_schema()
        with self.index.connection() as conn:
            row = conn.execute(
                "SELECT owner, visibility, manifest FROM flowtime_queued_sweeps "
                "WHERE root=%s AND sweep_id=%s",
                (self.root, sweep_id),
            ).fetchone()
        if row is None:
            return None
        owner, visibility, doc = row
        return Manifest(
            sweep_id,
            str(owner),
            str(visibility),
            str(doc["name"]),
            dict(doc["base"]),
            tuple(doc["tags"]),
            tuple(doc["scenarios"]),
        )

    def forget(self, sweep_id: str) -> None:
        """The sweep is stored: its record is no longer needed."""
        with self.index.connection() as conn:
            conn.execute(
                "DELETE FROM flowtime_queued_sweeps WHERE root=%s AND sweep_id=%s",
                (self.root, sweep_id),
            )

    def job_counts(self, sweep_id: str) -> JobCounts:
        """The sweep's jobs by status, in one query (no procrastinate app needed)."""
        self.ensure_schema()
        with self.index.connection() as conn:
            found = conn.execute(
                "SELECT status::text, count(*) FROM procrastinate_jobs WHERE queue_name=%s "
                "AND task_name=%s AND args->>'sweep'=%s AND status IN ('todo', 'doing', "
                "'failed') GROUP BY status",
                (self.queue, TASK, sweep_id),
            ).fetchall()
        counts = {str(s): int(n) for s, n in found}
        return JobCounts(counts.get("todo", 0), counts.get("doing", 0), counts.get("failed", 0))

    # -- the worker's side ----------------------------------------------------------------

    def run_batch(
        self,
        sweep_id: str,
        owner: str | None,
        runs: Iterable[QueuedRun],
        run_one: RunOne,
        done: Callable[[str, ScenarioResult], None],
    ) -> None:
        """Run each scenario of a job; a failing one is recorded and the rest go on."""
        for queued in runs:
            try:
                result = run_one(queued, owner)
            except UnavailableError:
                raise  # the database or the bucket is away: the job is tried again later
            except FlowtimeError as exc:
                result = ScenarioResult(queued.index, run_id=queued.run_id, error=str(exc))
            if result.error is None and result.run_id != queued.run_id:
                result = ScenarioResult(
                    queued.index,
                    run_id=queued.run_id,
                    error=f"the worker made run {result.run_id}, not {queued.run_id} as the "
                    "sweeper expects: install the same flowtime-sim and packs on every machine",
                )
            self._record(sweep_id, queued.index, result.error)
            done(sweep_id, result)

    def _record(self, sweep_id: str, index: int, error: str | None) -> None:
        with self.index.connection() as conn:
            if error is None:
                conn.execute(
                    "DELETE FROM flowtime_sweep_failures WHERE root=%s AND sweep_id=%s "
                    "AND scenario=%s",
                    (self.root, sweep_id, index),
                )
            else:
                conn.execute(
                    "INSERT INTO flowtime_sweep_failures (root, sweep_id, scenario, error) "
                    "VALUES (%s, %s, %s, %s) ON CONFLICT (root, sweep_id, scenario) DO UPDATE "
                    "SET error=EXCLUDED.error, failed_at=now()",
                    (self.root, sweep_id, index, error),
                )

    def work(
        self,
        run_one: RunOne,
        done: Callable[[str, ScenarioResult], None],
        *,
        concurrency: int = 1,
        until_empty: bool = False,
        finished: Callable[[str], None] | None = None,
    ) -> None:
        """Process this root's jobs until stopped (Ctrl-C, SIGTERM: running jobs finish
        first), or with ``until_empty`` until no job is left to start. Jobs that a worker
        which stopped sending heartbeats was running are delivered again first.
        ``finished`` is called with the sweep id after each job's runs."""
        import procrastinate

        # a worker's threads and the event loop's connections; at least what LISTEN keeps
        app = self.app(pool_size=concurrency + 2)

        def sweep_runs(sweep: str, owner: str | None, runs: list[dict[str, Any]]) -> None:
            self.run_batch(sweep, owner, [QueuedRun.from_json(r) for r in runs], run_one, done)
            if finished is not None:
                finished(sweep)

        app.task(
            name=TASK,
            queue=self.queue,
            retry=procrastinate.RetryStrategy(
                max_attempts=ATTEMPTS,
                wait=2,
                exponential_wait=2,
                retry_exceptions={UnavailableError},
            ),
        )(sweep_runs)

        async def serve() -> None:
            async with app.open_async():
                manager = app.job_manager
                for job in await manager.get_stalled_jobs(queue=self.queue, task_name=TASK):
                    await manager.retry_job(job)
                await app.run_worker_async(
                    queues=[self.queue],
                    concurrency=concurrency,
                    wait=not until_empty,
                    delete_jobs="successful",
                    install_signal_handlers=True,
                )

        asyncio.run(serve())


def batches(
    runs: Sequence[QueuedRun], cells: Sequence[int], *, size: int | None = None
) -> list[list[QueuedRun]]:
    """Scenarios grouped into jobs: ``size`` each when given, else by estimated work (the
    cells, bins × nodes, of each model), so that each job holds about :data:`JOB_CELLS` cells
    and at most :data:`JOB_RUNS` runs."""
    if size is not None:
        return [list(runs[i : i + size]) for i in range(0, len(runs), size)]
    out: list[list[QueuedRun]] = []
    current: list[QueuedRun] = []
    weight = 0
    for run, c in zip(runs, cells, strict=True):
        if current and (weight + c > JOB_CELLS or len(current) >= JOB_RUNS):
            out.append(current)
            current, weight = [], 0
        current.append(run)
        weight += c
    if current:
        out.append(current)
    return out
