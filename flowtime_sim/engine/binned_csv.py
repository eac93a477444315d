"""Writing a run's ``binned_v0.csv`` (SPEC §8).

The file, byte for byte: UTF-8 without BOM, LF line ends, the header
``bin,time_bin,series,value``, then one row per output series per bin, grouped by series in
the model's output order and, within a series, by bin ascending::

    bin,time_bin,series,value
    0,2025-01-01T00:00:00Z,served,8
    1,2025-01-01T01:00:00Z,served,0.8333333333333334

A series that carries classes is followed by one series per class, named ``series@Class``
(``served@Gold``), in the order of the model's ``classes``: they are outputs of the model
(:attr:`Model.outputs <flowtime_sim.model.Model.outputs>`), and in every bin they add up to the
series (:mod:`flowtime_sim.engine.classes`).

``time_bin`` is the bin's start, ISO-8601 UTC with seconds and ``Z``, when the grid has a
``start``, else empty (``0,,served,8``). ``value`` is the shortest decimal that reads back as
the same double, whole values without ``.0`` and ``-0.0`` as ``0`` (see
:mod:`flowtime_sim.engine.decimal_text`).

Speed: a year of hourly bins for a thousand series is 8.76 million rows. Rows are built in
blocks of about 16k as a matrix of bytes in which each field is padded with NUL bytes (the
bin prefix once per bin, the series name once per series, values by
:func:`~flowtime_sim.engine.decimal_text.decimal_text_groups`); dropping the NUL bytes of a
block gives its text, written in one call.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC
from typing import BinaryIO, Final

import numpy as np
import numpy.typing as npt

from flowtime_sim.engine.decimal_text import decimal_text_groups
from flowtime_sim.engine.evaluate import check_finite
from flowtime_sim.model.types import Grid, Model

HEADER: Final = b"bin,time_bin,series,value\n"
_BLOCK_ROWS: Final = 16384  # small enough for the CPU cache, large enough to amortise NumPy
_NEWLINE: Final = np.uint32(ord("\n"))  # one visible byte, three NUL, in either byte order


def time_bins(grid: Grid) -> list[str]:
    """The ``time_bin`` text of every bin: the bin's UTC start, or ``""`` without a start."""
    if grid.start is None:
        return [""] * grid.bins
    start = np.datetime64(grid.start.astimezone(UTC).replace(tzinfo=None), "s")
    starts = start + np.arange(grid.bins) * np.timedelta64(grid.bin_minutes, "m")
    return [text + "Z" for text in np.datetime_as_string(starts, unit="s").tolist()]


def _padded(texts: Sequence[str]) -> npt.NDArray[np.uint32]:
    """ASCII ``texts`` as rows of 4-byte groups, NUL-padded on the right."""
    width = -(-max(len(t) for t in texts) // 4) * 4
    return np.array(texts, dtype=f"S{width}").view(np.uint32).reshape(len(texts), -1)


def _blocks(series_count: int, bins: int) -> Iterator[tuple[int, int, int, int]]:
    """``(first_series, end_series, first_bin, end_bin)`` blocks in file order."""
    if bins >= _BLOCK_ROWS:
        for s in range(series_count):
            for b in range(0, bins, _BLOCK_ROWS):
                yield s, s + 1, b, min(b + _BLOCK_ROWS, bins)
    else:
        per_block = _BLOCK_ROWS // bins
        for s in range(0, series_count, per_block):
            yield s, min(s + per_block, series_count), 0, bins


def _column(name: str, series: Mapping[str, npt.ArrayLike], bins: int) -> npt.NDArray[np.float64]:
    if name not in series:
        raise ValueError(f"no values for output series '{name}'")
    values = np.asarray(series[name], dtype=np.float64)
    if values.shape != (bins,):
        raise ValueError(f"series '{name}' has shape {values.shape}, expected ({bins},)")
    check_finite(name, values)
    return values


def write_binned_csv(model: Model, series: Mapping[str, npt.ArrayLike], out: BinaryIO) -> None:
    """Write ``binned_v0.csv`` for ``model``'s outputs, taking values from ``series``.

    ``series`` maps node ids to ``grid.bins`` values (as :func:`evaluate` returns them).
    Everything is checked before the first byte is written: a missing or mis-sized series
    is a ``ValueError``; a non-finite value is the same :class:`ModelError` evaluation
    raises for an overflow.
    """
    bins = model.grid.bins
    names = [output.series for output in model.outputs]
    columns = [_column(name, series, bins) for name in names]
    prefixes = _padded([f"{t},{time_bin}," for t, time_bin in enumerate(time_bins(model.grid))])
    out.write(HEADER)
    for first, end, start, stop in _blocks(len(names), bins):
        values = np.stack([column[start:stop] for column in columns[first:end]])
        count, span = values.shape
        text = decimal_text_groups(values).reshape(count, span, -1)
        labels = _padded([f"{name}," for name in names[first:end]])
        p, n = prefixes.shape[1], labels.shape[1]
        rows = np.empty((count, span, p + n + text.shape[2] + 1), dtype=np.uint32)
        rows[:, :, :p] = prefixes[start:stop]
        rows[:, :, p : p + n] = labels[:, None, :]
        rows[:, :, p + n : -1] = text
        rows[:, :, -1] = _NEWLINE
        out.write(rows.tobytes().translate(None, b"\0"))  # drop the padding
