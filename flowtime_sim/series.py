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
    text = data.decode("utf-8")
    fast = _read_plain(text) if '"' not in text else None
    return fast if fast is not None else _read_csv(text)


def _read_plain(text: str) -> Binned | None:
    """The engine's own files (four plain fields a row): split by hand, values converted a
    series at a time, about twice as fast as the csv module; ``None`` when the text is not
    such a file."""
    found: dict[str, list[str]] = {}
    times: dict[str, str] = {}
    first: str | None = None
    for line in text.split("\n")[1:]:
        if not line:
            continue
        fields = line.split(",")
        if len(fields) != 4:
            return None
        bin_text, time_bin, name, value = fields
        if first is None:
            first = name
        if name == first:
            times[bin_text] = time_bin
        found.setdefault(name or "?", []).append(value)
    try:
        series = [Series(name, tuple(map(float, values))) for name, values in found.items()]
        by_bin = {int(b): t.rstrip("\r") for b, t in times.items()}
    except ValueError:
        return None
    count = max(by_bin, default=-1) + 1
    return Binned(series, [by_bin.get(b, "") for b in range(count)])


def _read_csv(text: str) -> Binned:
    found: dict[str, list[float]] = {}
    times: dict[int, str] = {}
    rows = csv.reader(io.StringIO(text))
    next(rows, None)  # the header: bin,time_bin,series,value
    for row in rows:
        if len(row) != 4:
            continue
        bin_text, time_bin, name, value_text = row
        try:
            value = float(value_text)
        except ValueError:
            continue
        found.setdefault(name or "?", []).append(value)
        try:
            times.setdefault(int(bin_text), time_bin)
        except ValueError:
            continue
    bins = max(times, default=-1) + 1
    return Binned(
        [Series(name, tuple(values)) for name, values in found.items() if values],
        [times.get(b, "") for b in range(bins)],
    )
