"""The series of a run's ``binned_v0.csv`` (``bin,time_bin,series,value``), read back."""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass


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

    @property
    def peak_bin(self) -> int:
        """The first bin holding the highest value."""
        return self.values.index(self.high)


@dataclass(frozen=True, slots=True)
class Binned:
    """Every series of a run and the start time of each bin (empty strings when the grid
    has no start)."""

    series: list[Series]
    times: list[str]


def read_series(data: bytes) -> list[Series]:
    """The series of a ``binned_v0.csv``, in file order."""
    return read_binned(data).series


def read_binned(data: bytes) -> Binned:
    found: dict[str, list[float]] = {}
    times: dict[int, str] = {}
    reader = csv.DictReader(io.StringIO(data.decode("utf-8")))
    for row in reader:
        try:
            value = float(row["value"])
        except (KeyError, TypeError, ValueError):
            continue
        found.setdefault(row.get("series") or "?", []).append(value)
        try:
            times.setdefault(int(row.get("bin") or ""), row.get("time_bin") or "")
        except ValueError:
            continue
    bins = max(times, default=-1) + 1
    return Binned(
        [Series(name, tuple(values)) for name, values in found.items() if values],
        [times.get(b, "") for b in range(bins)],
    )
