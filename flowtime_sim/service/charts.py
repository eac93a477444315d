"""The series of a run's ``binned_v0.csv``, summarised and drawn as sparklines for the page."""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass

SPARK_POINTS = 160  # a sparkline never needs more points than this to look right


@dataclass(frozen=True, slots=True)
class Series:
    """One output series of a run, in bin order."""

    name: str
    values: tuple[float, ...]

    @property
    def low(self) -> float:
        return min(self.values)

    @property
    def high(self) -> float:
        return max(self.values)

    @property
    def total(self) -> float:
        return math.fsum(self.values)

    @property
    def mean(self) -> float:
        return self.total / len(self.values)


def read_series(data: bytes) -> list[Series]:
    """The series of a ``binned_v0.csv`` (``bin,time_bin,series,value``), in file order."""
    found: dict[str, list[float]] = {}
    reader = csv.DictReader(io.StringIO(data.decode("utf-8")))
    for row in reader:
        try:
            value = float(row["value"])
        except (KeyError, TypeError, ValueError):
            continue
        found.setdefault(row.get("series") or "?", []).append(value)
    return [Series(name, tuple(values)) for name, values in found.items() if values]


def spark_points(values: tuple[float, ...], width: float, height: float,
                 pad: float = 2.0) -> str:
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


def number(value: float) -> str:
    """A figure for people: ``12,345``, ``98.6``, ``0.8333``."""
    if not math.isfinite(value):
        return str(value)
    if value == int(value) and abs(value) < 1e15:
        return f"{int(value):,}"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.4g}"
