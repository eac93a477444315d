"""What the page's interactive charts draw: each run's series on one time axis, as JSON
embedded in the page (``<script type="application/json">``, never executed)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from flowtime_sim.scenarios.compare import ComparedRun

UNIT_SECONDS = {"minutes": 60, "hours": 3600, "days": 86400, "weeks": 604800}
#: Values one page embeds at most; further series are left out (they stay in the CSV files).
MAX_VALUES = 400_000


def chart_data(runs: Sequence[ComparedRun]) -> dict[str, Any]:
    """``{time, x, x_label, runs: [{id, label}], series: {name: [values per run | null]},
    omitted}``: ``omitted`` series did not fit in :data:`MAX_VALUES`.

    With a grid start, ``x`` holds each bin's start as Unix seconds (a calendar axis);
    without one, each bin's offset in the grid's unit.
    """
    first = runs[0]
    grid = first.catalog.get("grid") or {}
    size = int(grid.get("binSize", 1))
    unit = str(grid.get("binUnit", "minutes")).lower()
    bins = max(len(r.binned.times) for r in runs)
    start = _parse(str(grid.get("start") or ""))
    if start is not None and unit in UNIT_SECONDS:
        step = size * UNIT_SECONDS[unit]
        x: list[float] = [start + b * step for b in range(bins)]
        label = "time (UTC)"
    else:
        x = [b * size for b in range(bins)]
        label = f"time ({unit})"
    names = list(dict.fromkeys(n for r in runs for n in r.series))
    series: dict[str, list[list[float] | None]] = {}
    budget = MAX_VALUES
    for name in names:
        columns = [list(r.series[name].values) if name in r.series else None for r in runs]
        budget -= sum(len(c) for c in columns if c is not None)
        if budget < 0 and series:
            break
        series[name] = columns
    return {
        "time": start is not None,
        "x": x,
        "x_label": label,
        "runs": [{"id": r.id, "label": r.label} for r in runs],
        "series": series,
        "omitted": len(names) - len(series),
    }


def _parse(text: str) -> int | None:
    try:
        return int(datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC).timestamp())
    except ValueError:
        return None


def run_chart(catalog: dict[str, Any], csv: bytes) -> dict[str, Any] | None:
    """The chart of one run's series (``None`` when it has none)."""
    from flowtime_sim.series import read_binned

    binned = read_binned(csv)
    if not binned.series:
        return None
    run_id = str(catalog["id"])
    return chart_data([ComparedRun(run_id, run_id, catalog, binned)])
