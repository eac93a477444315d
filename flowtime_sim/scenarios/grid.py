"""The parameter grid of a sweep: ``--grid k=v1,v2`` and ranges ``k=1..3:0.5`` (SPEC §13).

Each value follows the ``--set`` rules (:func:`flowtime_sim.parameter_input.parse_sets`): a
YAML scalar or flow collection, else the literal text. Values are separated by commas outside
brackets, braces and quotes, so ``profile=[1, 2],[3, 4]`` is two lists.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from flowtime_sim.errors import UserError

MAX_SCENARIOS = 10_000  # a sweep is a set of runs people compare, not a search space
_RANGE = re.compile(
    r"^\s*(?P<lo>[-+]?[0-9.eE+-]+?)\s*\.\.\s*(?P<hi>[-+]?[0-9.eE+-]+?)"
    r"\s*(?::\s*(?P<step>[-+]?[0-9.eE+-]+))?\s*$"
)


@dataclass(frozen=True, slots=True)
class Axis:
    """One parameter of the grid and the values it takes, in the order given."""

    name: str
    values: tuple[Any, ...]


@dataclass(frozen=True, slots=True)
class Grid:
    """Parameters and their values; every combination is a scenario."""

    axes: tuple[Axis, ...]

    @property
    def size(self) -> int:
        n = 1
        for axis in self.axes:
            n *= len(axis.values)
        return n

    def scenarios(self) -> Iterator[dict[str, Any]]:
        """Every combination, the last axis varying fastest."""
        names = [a.name for a in self.axes]
        for combo in itertools.product(*(a.values for a in self.axes)):
            yield dict(zip(names, combo, strict=True))

    def as_json(self) -> list[dict[str, Any]]:
        """``[{parameter, values}]`` in the order given (a mapping would lose it when hashed)."""
        return [{"parameter": a.name, "values": list(a.values)} for a in self.axes]


def parse_grid(items: Iterable[str]) -> Grid:
    """``["peak_factor=1,1.5,2", "base_capacity=200..400:100"]`` → a :class:`Grid`."""
    from flowtime_sim.parameter_input import parse_sets

    axes: list[Axis] = []
    for item in items:
        key, sep, raw = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise UserError(f"--grid expects key=v1,v2,..., got {item!r}", field="grid")
        if (spread := _range(key, raw)) is not None:
            values = spread
        else:
            texts = split_values(raw)
            if any(not t.strip() for t in texts):
                raise UserError(
                    f"--grid {key}: empty value in {raw!r}; separate values with single commas",
                    field="grid",
                )
            values = [parse_sets([f"{key}={text}"])[key] for text in texts]
        axes.append(Axis(key, tuple(values)))
    return grid_of(axes)


def grid_from_mapping(grid: Mapping[str, Sequence[Any]]) -> Grid:
    """A grid given as JSON (``POST /sim/sweeps``): parameter → list of values."""
    axes = []
    for key, values in grid.items():
        if not isinstance(values, list | tuple):
            raise UserError(f"grid.{key} must be a list of values", field=f"grid.{key}")
        axes.append(Axis(str(key), tuple(values)))
    return grid_of(axes)


def grid_of(axes: Sequence[Axis]) -> Grid:
    if not axes:
        raise UserError("a sweep needs at least one --grid parameter", field="grid")
    seen: set[str] = set()
    for axis in axes:
        if axis.name in seen:
            raise UserError(
                f"--grid {axis.name} is given twice; list all its values in one --grid",
                field=f"grid.{axis.name}",
            )
        seen.add(axis.name)
        if not axis.values:
            raise UserError(f"--grid {axis.name} has no values", field=f"grid.{axis.name}")
        keys = [_key(v) for v in axis.values]
        if len(set(keys)) != len(keys):
            raise UserError(
                f"--grid {axis.name} repeats a value: {list(axis.values)}",
                field=f"grid.{axis.name}",
            )
    grid = Grid(tuple(axes))
    if grid.size > MAX_SCENARIOS:
        raise UserError(
            f"the grid makes {grid.size} scenarios, more than the limit of "
            f"{MAX_SCENARIOS}; use fewer values",
            field="grid",
        )
    return grid


def split_values(raw: str) -> list[str]:
    """Split at commas outside ``[]``, ``{}`` and quotes."""
    parts: list[str] = []
    depth, quote, start = 0, "", 0
    for i, ch in enumerate(raw):
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "\"'":
            quote = ch
        elif ch in "[{":
            depth += 1
        elif ch in "]}":
            depth = max(0, depth - 1)
        elif ch == "," and depth == 0:
            parts.append(raw[start:i])
            start = i + 1
    parts.append(raw[start:])
    return parts


def _range(key: str, raw: str) -> list[int | float] | None:
    """``lo..hi[:step]``, both ends included; integers stay integers. ``None``: not a range."""
    m = _RANGE.match(raw)
    if m is None:
        return None
    try:
        lo, hi = Decimal(m.group("lo")), Decimal(m.group("hi"))
        step = Decimal(m.group("step") or "1")
    except InvalidOperation:
        raise UserError(
            f"--grid {key}={raw}: a range is lo..hi or lo..hi:step with numbers",
            field=f"grid.{key}",
        ) from None
    if step <= 0:
        raise UserError(
            f"--grid {key}={raw}: the step {step} must be positive", field=f"grid.{key}"
        )
    if hi < lo:
        raise UserError(
            f"--grid {key}={raw}: the range ends ({hi}) before it starts ({lo})",
            field=f"grid.{key}",
        )
    count = int((hi - lo) / step) + 1
    if count > MAX_SCENARIOS:
        raise UserError(
            f"--grid {key}={raw} has {count} values, more than the limit of {MAX_SCENARIOS}",
            field=f"grid.{key}",
        )
    integral = all(
        d == d.to_integral_value() and "." not in m.group(g) and "e" not in m.group(g).lower()
        for d, g in ((lo, "lo"), (step, "step"))
        if m.group(g)
    )
    # Decimal steps: 0.1..0.3:0.1 is [0.1, 0.2, 0.3], never 0.30000000000000004
    values = [lo + step * i for i in range(count)]
    return [int(v) if integral else float(v) for v in values]


def _key(value: Any) -> bytes:
    from flowtime_sim.canonical import canonical_json

    return canonical_json(value)


def describe(parameters: Mapping[str, Any]) -> str:
    """``peak_factor=1.5, base_capacity=300``: a scenario's label."""
    import json

    return ", ".join(
        f"{k}={v if isinstance(v, str) else json.dumps(v)}" for k, v in parameters.items()
    )
