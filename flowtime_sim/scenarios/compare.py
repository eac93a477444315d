"""Putting runs side by side: per series, each run's total and peak, and the bins where the
runs differ (SPEC §13). Pure functions over runs already read; loading is separate so that
the service can load through its visibility checks."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from flowtime_sim.errors import NotFoundError, UserError
from flowtime_sim.scenarios.grid import describe
from flowtime_sim.series import Binned, Series, read_binned

if TYPE_CHECKING:
    from flowtime_sim.registry import Registry, RunArtifact

REL_TOLERANCE = 1e-9  # the engine's parity tolerance: closer values are the same value
MAX_COMPARED = 200


@dataclass(frozen=True, slots=True)
class ComparedRun:
    """A run to compare: its catalog, a label for legends, and its series."""

    id: str
    label: str
    catalog: Mapping[str, Any]
    binned: Binned
    parameters: Mapping[str, Any] | None = None  # the scenario's grid values, from a sweep
    sweep_id: str | None = None

    @property
    def series(self) -> dict[str, Series]:
        return {s.name: s for s in self.binned.series}


@dataclass(frozen=True, slots=True)
class RunFigures:
    run_id: str
    label: str
    total: float
    peak: float
    peak_bin: int
    peak_time: str


@dataclass(frozen=True, slots=True)
class SeriesComparison:
    """One series across the runs that have it."""

    name: str
    runs: list[RunFigures]
    differing_bins: list[int]
    missing: list[str] = field(default_factory=list)  # runs without this series


@dataclass(frozen=True, slots=True)
class Comparison:
    runs: list[ComparedRun]
    series: list[SeriesComparison]
    missing_runs: list[str] = field(default_factory=list)  # a sweep's runs that are gone

    def as_json(self, *, values: bool = False) -> dict[str, Any]:
        """The comparison as JSON; ``values`` adds every run's values of each series."""
        runs = []
        for run in self.runs:
            entry: dict[str, Any] = {
                "run_id": run.id,
                "label": run.label,
                "model_id": run.catalog.get("model_id"),
                "model_version": run.catalog.get("model_version"),
                "grid": run.catalog.get("grid"),
                "parameters": run.parameters,
                "sweep_id": run.sweep_id,
            }
            runs.append(entry)
        series = []
        for s in self.series:
            item: dict[str, Any] = {
                "series": s.name,
                "runs": [
                    {
                        "run_id": f.run_id,
                        "total": f.total,
                        "peak": f.peak,
                        "peak_bin": f.peak_bin,
                        "peak_time": f.peak_time or None,
                    }
                    for f in s.runs
                ],
                "differing_bins": s.differing_bins,
                "differs": bin_ranges(s.differing_bins),
                "missing": s.missing,
            }
            if values:
                item["values"] = {
                    r.id: list(r.series[s.name].values) for r in self.runs if s.name in r.series
                }
            series.append(item)
        doc: dict[str, Any] = {"runs": runs, "series": series, "missing_runs": self.missing_runs}
        if values and self.runs:
            doc["time_bins"] = {r.id: r.binned.times for r in self.runs}
        return doc


def compare(
    runs: Sequence[ComparedRun], wanted: Sequence[str] = (), missing: Sequence[str] = ()
) -> Comparison:
    """Per series (``wanted``, else every series of any run, in first-seen order): each
    run's total, peak and peak bin, and the bins where the runs' values differ."""
    if not runs:
        raise UserError("nothing to compare: give run or sweep ids", field="runs")
    names: list[str] = list(dict.fromkeys(n for r in runs for n in r.series))
    if wanted:
        unknown = [w for w in wanted if w not in names]
        if unknown:
            raise UserError(
                f"no series {', '.join(map(repr, unknown))} in these runs; their "
                f"series: {', '.join(names)}",
                field="series",
            )
        names = list(dict.fromkeys(wanted))
    out = []
    for name in names:
        having = [r for r in runs if name in r.series]
        figures = []
        for run in having:
            s = run.series[name]
            peak_bin = s.peak_bin
            times = run.binned.times
            figures.append(
                RunFigures(
                    run.id,
                    run.label,
                    s.total,
                    s.high,
                    peak_bin,
                    times[peak_bin] if peak_bin < len(times) else "",
                )
            )
        out.append(
            SeriesComparison(
                name,
                figures,
                differing_bins([r.series[name].values for r in having]),
                [r.id for r in runs if name not in r.series],
            )
        )
    return Comparison(list(runs), out, list(missing))


def differing_bins(columns: Sequence[Sequence[float]]) -> list[int]:
    """Bins where the values are not all equal (relative 1e-9); a bin some runs lack
    counts as differing."""
    import numpy as np

    if len(columns) < 2:
        return []
    longest = max(len(c) for c in columns)
    shortest = min(len(c) for c in columns)
    table = np.array([c[:shortest] for c in columns], dtype=float)
    same = np.isclose(table[1:], table[0], rtol=REL_TOLERANCE, atol=1e-12).all(axis=0)
    return [int(b) for b in np.flatnonzero(~same)] + list(range(shortest, longest))


def bin_ranges(bins: Iterable[int]) -> str:
    """``[0, 1, 2, 5, 7, 8]`` → ``"0-2, 5, 7-8"``; ``""`` when there are none."""
    parts: list[str] = []
    run: list[int] = []
    for b in bins:
        if run and b == run[-1] + 1:
            run.append(b)
            continue
        if run:
            parts.append(_span(run))
        run = [b]
    if run:
        parts.append(_span(run))
    return ", ".join(parts)


def _span(run: list[int]) -> str:
    return str(run[0]) if len(run) == 1 else f"{run[0]}-{run[-1]}"


# -- loading ------------------------------------------------------------------------------

#: Reads what compare needs: a run by id (NotFoundError when absent), a sweep's catalog by id
#: (None when absent), a run's ``binned_v0.csv``.
RunReader = Callable[[str], "RunArtifact"]
SweepReader = Callable[[str], "Mapping[str, Any] | None"]
CsvReader = Callable[["RunArtifact"], bytes]


def load_compared(
    refs: Sequence[str], *, run: RunReader, sweep: SweepReader, csv: CsvReader
) -> tuple[list[ComparedRun], list[str]]:
    """Each id a run, or a sweep standing for its runs (labelled by their grid values);
    a run named twice is compared once. Returns the runs, and the ids of a sweep's runs that
    are gone (deleted, or not visible): the others are compared without them."""
    from flowtime_sim.ids import check_id

    out: dict[str, ComparedRun] = {}
    missing: list[str] = []
    for ref in refs:
        check_id(ref, what="run or sweep id")
        try:
            art = run(ref)
        except NotFoundError:
            found = sweep(ref)
            if found is None:
                raise NotFoundError(
                    f"no run or sweep {ref!r}; see 'flowtime-sim list'", field="runs"
                ) from None
            for scenario in found["scenarios"]:
                run_id = str(scenario["run_id"])
                if run_id not in out:
                    try:
                        art = run(run_id)
                    except NotFoundError:
                        missing.append(run_id)
                        continue
                    out[run_id] = ComparedRun(
                        run_id,
                        describe(scenario["parameters"]),
                        art.catalog,
                        read_binned(csv(art)),
                        dict(scenario["parameters"]),
                        str(found["id"]),
                    )
            continue
        if art.id not in out:
            out[art.id] = ComparedRun(art.id, art.id, art.catalog, read_binned(csv(art)))
    if len(out) > MAX_COMPARED:
        raise UserError(f"more than {MAX_COMPARED} runs to compare; pick fewer", field="runs")
    return list(out.values()), missing


def load_from_registry(
    registry: Registry, refs: Sequence[str]
) -> tuple[list[ComparedRun], list[str]]:
    from flowtime_sim.scenarios.store import find_sweep

    def sweep(ref: str) -> Mapping[str, Any] | None:
        found = find_sweep(registry, ref)
        return found.catalog if found else None

    return load_compared(
        refs,
        run=registry.run,
        sweep=sweep,
        csv=lambda art: registry.read_file(art, "binned_v0.csv"),
    )
