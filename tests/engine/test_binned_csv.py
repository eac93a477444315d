"""binned_v0.csv (SPEC §8): bytes, row order, time_bin, number text, refusals."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone

import numpy as np
import pytest

from flowtime_sim.engine import evaluate, write_binned_csv
from flowtime_sim.engine.binned_csv import time_bins
from flowtime_sim.engine.synthetic import synthetic_model
from flowtime_sim.errors import ModelError
from flowtime_sim.model import ConstNode, Model
from flowtime_sim.model.expr import format_number
from flowtime_sim.model.types import Grid, Output

BuildModel = Callable[..., Model]


def csv_bytes(model: Model, series: dict[str, np.ndarray] | None = None) -> bytes:
    out = io.BytesIO()
    write_binned_csv(model, evaluate(model) if series is None else series, out)
    return out.getvalue()


def plain_csv(model: Model, series: dict[str, np.ndarray]) -> bytes:
    """The same file, one row at a time, the obvious way."""
    grid = model.grid
    lines = ["bin,time_bin,series,value\n"]
    for output in model.outputs:
        for t, value in enumerate(series[output.series].tolist()):
            when = ""
            if grid.start is not None:
                start = grid.start + timedelta(minutes=t * grid.bin_minutes)
                when = start.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
            lines.append(f"{t},{when},{output.series},{format_number(value)}\n")
    return "".join(lines).encode("utf-8")


def test_exact_bytes_with_a_start(build: BuildModel) -> None:
    model = build(
        {"demand": [10, 12], "served": "demand / 12"},
        bins=2,
        start="2025-01-01T00:00:00Z",
        outputs=["served", "demand"],
    )
    assert csv_bytes(model) == (
        b"bin,time_bin,series,value\n"
        b"0,2025-01-01T00:00:00Z,served,0.8333333333333334\n"
        b"1,2025-01-01T01:00:00Z,served,1\n"
        b"0,2025-01-01T00:00:00Z,demand,10\n"
        b"1,2025-01-01T01:00:00Z,demand,12\n"
    )


def test_without_a_start_time_bin_is_empty(build: BuildModel) -> None:
    model = build({"x": [8, -3]}, bins=2)
    assert csv_bytes(model) == b"bin,time_bin,series,value\n0,,x,8\n1,,x,-3\n"


def test_no_bom_lf_only_utf8(build: BuildModel) -> None:
    data = csv_bytes(build({"x": [1, 2, 3]}, bins=3, start="2025-06-01T00:00:00Z"))
    assert data.startswith(b"bin,")
    assert b"\r" not in data
    assert b"\0" not in data
    assert data.endswith(b"\n")
    data.decode("utf-8")


def test_number_text(build: BuildModel) -> None:
    values = [8.0, 0.8333333333333334, -3.0, -0.0, 1e20, 1e-05, 2.5, 123456789.125, 0.1]
    model = build({"x": values}, bins=len(values))
    rows = csv_bytes(model).decode().splitlines()[1:]
    assert [row.split(",")[3] for row in rows] == [
        "8",
        "0.8333333333333334",
        "-3",
        "0",
        "1e+20",
        "1e-05",
        "2.5",
        "123456789.125",
        "0.1",
    ]


def test_rows_grouped_by_series_in_output_order(build: BuildModel) -> None:
    model = build({"a": [1, 2, 3], "b": [4, 5, 6], "c": "a + b"}, bins=3, outputs=["c", "a"])
    rows = [row.split(",") for row in csv_bytes(model).decode().splitlines()[1:]]
    assert [(r[0], r[2]) for r in rows] == [
        ("0", "c"),
        ("1", "c"),
        ("2", "c"),
        ("0", "a"),
        ("1", "a"),
        ("2", "a"),
    ]


@pytest.mark.parametrize(
    ("unit", "size", "expected"),
    [
        ("minutes", 15, ["2025-03-30T00:45:00Z", "2025-03-30T01:00:00Z"]),
        ("hours", 2, ["2025-03-30T06:00:00Z", "2025-03-30T08:00:00Z"]),
        ("days", 1, ["2025-04-02T00:00:00Z", "2025-04-03T00:00:00Z"]),
        ("weeks", 1, ["2025-04-20T00:00:00Z", "2025-04-27T00:00:00Z"]),
    ],
)
def test_time_bins_step_by_the_bin_size(unit: str, size: int, expected: list[str]) -> None:
    grid = Grid(bins=5, bin_size=size, bin_unit=unit, start=datetime(2025, 3, 30, tzinfo=UTC))  # type: ignore[arg-type]
    assert time_bins(grid)[3:] == expected


def test_time_bins_are_utc() -> None:
    start = datetime(2025, 1, 1, 2, 0, tzinfo=timezone(timedelta(hours=2)))
    assert time_bins(Grid(bins=1, bin_size=1, bin_unit="hours", start=start)) == [
        "2025-01-01T00:00:00Z"
    ]
    assert time_bins(Grid(bins=2, bin_size=1, bin_unit="hours")) == ["", ""]


def test_large_files_match_the_plain_way() -> None:
    # Blocks split both ways: many short series, and series longer than one block.
    for nodes, bins in ((3, 20000), (3000, 7)):
        model = synthetic_model(nodes, bins, seed=nodes)
        series = evaluate(model)
        assert csv_bytes(model, series) == plain_csv(model, series)


def test_sampled_run_matches_the_plain_way() -> None:
    model = synthetic_model(60, 500, seed=4)
    series = evaluate(model, mode="sample", seed=8)
    assert csv_bytes(model, series) == plain_csv(model, series)


def one_series_model(bins: int) -> Model:
    return Model(
        grid=Grid(bins=bins, bin_size=1, bin_unit="hours"),
        nodes=(ConstNode(id="x", values=(0.0,) * bins),),
        outputs=(Output(series="x"),),
        dependencies={"x": ()},
        order=("x",),
    )


def test_a_non_finite_value_is_refused_before_writing() -> None:
    out = io.BytesIO()
    with pytest.raises(ModelError) as caught:
        write_binned_csv(one_series_model(3), {"x": np.array([1.0, 2.0, np.inf])}, out)
    assert str(caught.value) == "node 'x' overflowed to infinity at bin 2; check its inputs"
    assert out.getvalue() == b""


def test_missing_or_misshapen_series_are_refused() -> None:
    model = one_series_model(3)
    with pytest.raises(ValueError, match=r"^no values for output series 'x'$"):
        write_binned_csv(model, {}, io.BytesIO())
    with pytest.raises(ValueError, match=r"^series 'x' has shape \(2,\), expected \(3,\)$"):
        write_binned_csv(model, {"x": np.zeros(2)}, io.BytesIO())


def test_accepts_plain_lists() -> None:
    out = io.BytesIO()
    write_binned_csv(one_series_model(2), {"x": [0.5, 2]}, out)
    assert out.getvalue() == b"bin,time_bin,series,value\n0,,x,0.5\n1,,x,2\n"
