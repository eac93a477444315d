"""Telemetry: a node's ``source: file:…`` read into a const series.

FlowTime-Sim only records a node's ``source`` and drops it from the model; flowtime-sim reads
it. The reference is ``file:PATH`` or ``file://PATH`` (``file:///abs/path.csv`` for an
absolute path); a relative path is taken from the template file's folder. The file is CSV,
UTF-8 (a byte-order mark is ignored), with a header line and one row per bin:

- ``bin_index,value`` — FlowTime's own series files (``series/<id>.csv`` of a run), so a
  series FlowTime wrote can be fed back; or ``bin,value``: the bin column must count
  0, 1, 2, … in order;
- ``value`` — a single column.

There must be exactly ``grid.bins`` rows of finite numbers. Any other file is refused with
the file name, the line and what was wrong.
"""

from __future__ import annotations

import math
from pathlib import Path

_HEADERS = {("bin_index", "value"), ("bin", "value"), ("value",)}


def source_path(reference: str, base: Path) -> Path:
    """The file a ``file:`` reference names (``ValueError`` for any other scheme)."""
    if not reference.startswith("file:"):
        raise ValueError(
            f"telemetry source {reference!r} is not supported; use file:path/to/series.csv"
        )
    path = reference.removeprefix("file:")
    if path.startswith("//"):
        path = path[2:]
    if not path:
        raise ValueError(f"telemetry source {reference!r} names no file")
    return (base / path) if not Path(path).is_absolute() else Path(path)


def read_series(path: Path, bins: int) -> list[float]:
    """The values of a telemetry CSV with exactly ``bins`` rows."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ValueError(f"telemetry file {str(path)!r} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"cannot read telemetry file {str(path)!r}: {exc}") from None
    lines = [line.strip() for line in text.splitlines()]
    while lines and not lines[-1]:
        lines.pop()
    header = tuple(c.strip().lower() for c in lines[0].split(",")) if lines else ()
    if header not in _HEADERS:
        raise ValueError(
            f"telemetry file {str(path)!r} must start with the header "
            "'bin_index,value', 'bin,value' or 'value'"
        )
    values: list[float] = []
    for number, line in enumerate(lines[1:], start=2):
        cells = [c.strip() for c in line.split(",")]
        where = f"telemetry file {str(path)!r} line {number}"
        if len(cells) != len(header):
            raise ValueError(f"{where}: expected {len(header)} column(s), got {len(cells)}")
        if len(header) == 2 and cells[0] != str(len(values)):
            raise ValueError(f"{where}: expected bin {len(values)}, got {cells[0]!r}")
        try:
            value = float(cells[-1])
        except ValueError:
            raise ValueError(f"{where}: {cells[-1]!r} is not a number") from None
        if not math.isfinite(value):
            raise ValueError(f"{where}: {cells[-1]!r} is not a finite number")
        values.append(value)
    if len(values) != bins:
        raise ValueError(
            f"telemetry file {str(path)!r} has {len(values)} values but grid.bins is {bins}"
        )
    return values
