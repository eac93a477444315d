"""Telemetry CSV files read into const series."""

from __future__ import annotations

from pathlib import Path

import pytest

from flowtime_sim.upstream.telemetry import read_series, source_path


@pytest.mark.parametrize(
    "text",
    [
        "bin_index,value\n0,1\n1,2.5\n2,0\n",
        "\ufeffbin_index,value\r\n0,1\r\n1,2.5\r\n2,0\r\n",  # as FlowTime's C# engine writes it
        "bin,value\n0,1\n1,2.5\n2,0\n\n",
        "value\n1\n2.5\n0\n",
        "Value\n 1 \n2.5\n0e0\n",
    ],
)
def test_accepted_files(tmp_path: Path, text: str) -> None:
    path = tmp_path / "s.csv"
    path.write_bytes(text.encode("utf-8"))
    assert read_series(path, 3) == [1.0, 2.5, 0.0]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "must start with the header 'bin_index,value', 'bin,value' or 'value'"),
        ("time,value\n", "must start with the header 'bin_index,value', 'bin,value' or 'value'"),
        ("value\n1\n2\n", "has 2 values but grid.bins is 3"),
        ("bin,value\n0,1\n2,2\n1,3\n", "line 3: expected bin 1, got '2'"),
        ("bin,value\n0,1\n1\n", "line 3: expected 2 column(s), got 1"),
        ("value\n1\nx\n", "line 3: 'x' is not a number"),
        ("value\n1\nnan\n", "line 3: 'nan' is not a finite number"),
    ],
)
def test_refused_files(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "s.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ValueError) as err:
        read_series(path, 3)
    where = f"telemetry file {str(path)!r}"
    assert str(err.value) == f"{where} {message}"


def test_missing_and_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(ValueError) as err:
        read_series(tmp_path / "gone.csv", 1)
    assert str(err.value) == f"telemetry file {str(tmp_path / 'gone.csv')!r} does not exist"
    (tmp_path / "bin.csv").write_bytes(b"\xff\xfe")
    with pytest.raises(ValueError) as err:
        read_series(tmp_path / "bin.csv", 1)
    assert str(err.value).startswith(f"cannot read telemetry file {str(tmp_path / 'bin.csv')!r}: ")


@pytest.mark.parametrize(
    ("reference", "expected"),
    [
        ("file:a.csv", "BASE/a.csv"),
        ("file://data/a.csv", "BASE/data/a.csv"),
        ("file:///abs/a.csv", "/abs/a.csv"),
        ("file:/abs/b.csv", "/abs/b.csv"),
    ],
)
def test_source_paths(reference: str, expected: str) -> None:
    assert str(source_path(reference, Path("BASE"))) == expected


def test_a_reference_without_a_file_is_refused() -> None:
    with pytest.raises(ValueError) as err:
        source_path("file://", Path("."))
    assert str(err.value) == "telemetry source 'file://' names no file"
