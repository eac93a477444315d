"""A per-series summary of a run's ``binned_v0.csv``: what ``show RUN`` prints."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(slots=True)
class SeriesSummary:
    """Total, minimum, maximum and mean of one output series, and the bin of its peak (the
    first bin holding the maximum)."""

    series: str
    bins: int = 0
    total: float = 0.0
    min: float = math.inf
    max: float = -math.inf
    peak_bin: int = 0
    peak_time: str = ""

    @property
    def mean(self) -> float:
        return self.total / self.bins if self.bins else 0.0

    def add(self, bin_index: int, time_bin: str, value: float) -> None:
        self.bins += 1
        self.total += value
        self.min = min(self.min, value)
        if value > self.max:
            self.max, self.peak_bin, self.peak_time = value, bin_index, time_bin

    def as_dict(self) -> dict[str, object]:
        return {
            "series": self.series,
            "bins": self.bins,
            "total": self.total,
            "min": self.min,
            "max": self.max,
            "mean": self.mean,
            "peak_bin": self.peak_bin,
            "peak_time": self.peak_time or None,
        }


def summarise_binned_csv(lines: Iterable[bytes]) -> list[SeriesSummary]:
    """Summaries in the file's series order, read one row at a time (the file's layout is
    fixed: ``bin,time_bin,series,value``, SPEC §8)."""
    found: dict[str, SeriesSummary] = {}
    rows = iter(lines)
    next(rows, None)  # the header
    for raw in rows:
        if not raw.strip():
            continue
        bin_text, time_bin, rest = raw.decode("utf-8").rstrip("\n").split(",", 2)
        series, _, value = rest.rpartition(",")
        summary = found.get(series)
        if summary is None:
            summary = found[series] = SeriesSummary(series)
        summary.add(int(bin_text), time_bin, float(value))
    return list(found.values())
