"""The series of a run's ``binned_v0.csv`` (``bin,time_bin,series,value``), read back."""

from __future__ import annotations

import csv
import io
import itertools
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
    """The engine's own files (four plain fields a row, a series' rows together): all fields
    split at once and sliced by column, with no Python step per row — several times faster
    than the csv module. ``None`` when the text is not such a file."""
    body = text.partition("\n")[2]
    body = body.rstrip("\n").replace("\r", "")
    if not body:
        return Binned([], [])
    fields = body.replace("\n", ",").split(",")
    if len(fields) != 4 * (body.count("\n") + 1):
        return None  # a row with more or fewer than four fields
    names, values = fields[2::4], fields[3::4]
    found: dict[str, list[float]] = {}
    start = 0
    try:
        for name, rows in itertools.groupby(names):
            stop = start + len(list(rows))
            if (name or "?") in found:
                return None  # one series' rows apart: not the engine's layout
            found[name or "?"] = list(map(float, values[start:stop]))
            start = stop
        first = len(list(next(itertools.groupby(names))[1]))
        by_bin = dict(
            zip(map(int, fields[0 : 4 * first : 4]), fields[1 : 4 * first : 4], strict=True)
        )
    except ValueError:
        return None
    count = max(by_bin, default=-1) + 1
    return Binned(
        [Series(name, tuple(v)) for name, v in found.items()],
        [by_bin.get(b, "") for b in range(count)],
    )


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
