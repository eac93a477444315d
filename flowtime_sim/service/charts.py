"""The series of a run's ``binned_v0.csv``, summarised and drawn as sparklines for the page."""

from __future__ import annotations

from flowtime_sim.scenarios.charts import number
from flowtime_sim.series import Series, read_series

__all__ = ["Series", "area_points", "number", "read_series", "spark_points"]

SPARK_POINTS = 160  # a sparkline never needs more points than this to look right


def spark_points(values: tuple[float, ...], width: float, height: float, pad: float = 2.0) -> str:
    """SVG ``points`` for ``values`` scaled into a ``width`` × ``height`` box.

    Long series keep each bucket's lowest and highest value, so spikes stay visible.
    """
    picked = _decimate(values, SPARK_POINTS)
    if not picked:
        return ""
    low = min(v for _, v in picked)
    high = max(v for _, v in picked)
    span = high - low or 1.0
    last = max(len(values) - 1, 1)
    inner_w, inner_h = width - 2 * pad, height - 2 * pad
    out = []
    for index, value in picked:
        x = pad + inner_w * index / last
        y = pad + inner_h * (1 - (value - low) / span) if high > low else height / 2
        out.append(f"{x:.1f},{y:.1f}")
    return " ".join(out)


def area_points(values: tuple[float, ...], width: float, height: float, pad: float = 2.0) -> str:
    """The sparkline closed down to the bottom edge, for a filled area under it."""
    line = spark_points(values, width, height, pad)
    if not line:
        return ""
    return f"{pad:.1f},{height - pad:.1f} {line} {width - pad:.1f},{height - pad:.1f}"


def _decimate(values: tuple[float, ...], budget: int) -> list[tuple[int, float]]:
    if len(values) <= budget:
        return list(enumerate(values))
    buckets = budget // 2
    size = len(values) / buckets
    out: list[tuple[int, float]] = []
    for b in range(buckets):
        start, stop = int(b * size), max(int((b + 1) * size), int(b * size) + 1)
        chunk = range(start, min(stop, len(values)))
        lo = min(chunk, key=values.__getitem__)
        hi = max(chunk, key=values.__getitem__)
        out += [(i, values[i]) for i in sorted({lo, hi})]
    return out
