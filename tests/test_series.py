"""Reading ``binned_v0.csv`` back: the engine's own files fast, anything else with csv."""

from __future__ import annotations

from flowtime_sim.series import Binned, Series, read_binned

ENGINE = (
    b"bin,time_bin,series,value\n0,2025-01-01T00:00:00Z,a,1\n1,2025-01-01T01:00:00Z,a,2.5\n"
    b"0,2025-01-01T00:00:00Z,b,3\n1,2025-01-01T01:00:00Z,b,-4e-05\n"
)


def test_the_engines_files_are_read_by_column() -> None:
    expected = Binned(
        [Series("a", (1.0, 2.5)), Series("b", (3.0, -4e-05))],
        ["2025-01-01T00:00:00Z", "2025-01-01T01:00:00Z"],
    )
    assert read_binned(ENGINE) == expected
    assert read_binned(ENGINE.replace(b"\n", b"\r\n")) == expected
    assert read_binned(b"bin,time_bin,series,value\n") == Binned([], [])
    assert read_binned(b"bin,time_bin,series,value\n0,,a,1\n").times == [""]
    assert Series("s", (1.0, 3.0, 3.0)).peak_bin == 1


def test_other_files_fall_back_to_the_csv_module() -> None:
    quoted = b'bin,time_bin,series,value\n0,,"a,b",1\n1,,"a,b",2\n'
    assert read_binned(quoted).series == [Series("a,b", (1.0, 2.0))]
    scattered = b"bin,time_bin,series,value\n0,,a,1\n0,,b,2\n1,,a,3\n1,,b,x\n"
    assert read_binned(scattered).series == [Series("a", (1.0, 3.0)), Series("b", (2.0,))]
    apart = b"bin,time_bin,series,value\n0,t0,a,1\n0,t0,b,2\n1,t1,a,3\n1,t1,b,4\n"
    assert read_binned(apart) == Binned(
        [Series("a", (1.0, 3.0)), Series("b", (2.0, 4.0))], ["t0", "t1"]
    )
    short = b"bin,time_bin,series,value\n0,,a\n0,,b,2\n"
    assert read_binned(short).series == [Series("b", (2.0,))]
