"""Vectorised value text: byte for byte what ``format_number`` writes, for any finite double."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flowtime_sim.engine.decimal_text import decimal_text_groups
from flowtime_sim.model.expr import format_number


def texts(values: npt.ArrayLike) -> list[str]:
    groups = decimal_text_groups(np.asarray(values, dtype=np.float64))
    rows = groups.view(np.uint8)
    return [row[row != 0].tobytes().decode("ascii") for row in rows]


def assert_like_format_number(values: npt.ArrayLike) -> None:
    array = np.asarray(values, dtype=np.float64)
    assert texts(array) == [format_number(v) for v in array.tolist()]


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (8.0, "8"),
        (-3.0, "-3"),
        (0.0, "0"),
        (-0.0, "0"),
        (0.8333333333333334, "0.8333333333333334"),
        (0.1, "0.1"),
        (-0.5, "-0.5"),
        (2.5, "2.5"),
        (0.7000000000000002, "0.7000000000000002"),
        (123456789.125, "123456789.125"),
        (0.0001, "0.0001"),
        (1e-05, "1e-05"),
        (-2.5e-07, "-2.5e-07"),
        (9999999999999998.0, "9999999999999998"),
        (1e16, "1e+16"),
        (1e20, "1e+20"),
        (-1.5e300, "-1.5e+300"),
        (4503599627370495.5, "4503599627370495.5"),
        (5e-324, "5e-324"),
        (1.7976931348623157e308, "1.7976931348623157e+308"),
    ],
)
def test_known_texts(value: float, text: str) -> None:
    assert texts([value]) == [text]
    assert format_number(value) == text


def test_a_mixed_batch_keeps_each_row_its_own() -> None:
    values = [1.0, -0.25, 1e-7, 1234.5678, 0.0, -1e17, 3.0000000000000004]
    assert texts(values) == [
        "1",
        "-0.25",
        "1e-07",
        "1234.5678",
        "0",
        "-1e+17",
        "3.0000000000000004",
    ]


def test_a_repeated_value() -> None:
    assert texts([2.5] * 3) == ["2.5"] * 3
    assert texts([0.0, -0.0, 0.0]) == ["0"] * 3
    assert texts([-1e-7] * 2) == ["-1e-07"] * 2


def test_empty_input() -> None:
    assert decimal_text_groups(np.array([])).shape[0] == 0


def test_non_finite_values_are_refused() -> None:
    for bad in (np.inf, -np.inf, np.nan):
        with pytest.raises(ValueError, match=r"^decimal text needs finite values$"):
            decimal_text_groups(np.array([1.0, bad]))


def test_edges_of_the_fast_range() -> None:
    edges = [float(f"1e{k}") for k in range(-6, 18)] + [2.0**k for k in range(-20, 60)]
    values = np.array(edges)
    assert_like_format_number(
        np.concatenate([values, np.nextafter(values, 0), np.nextafter(values, np.inf), -values])
    )


def test_many_random_values() -> None:
    rng = np.random.default_rng(20240601)
    bits = rng.integers(0, 2**64 - 1, 50000, dtype=np.uint64).view(np.float64)
    assert_like_format_number(bits[np.isfinite(bits)])
    assert_like_format_number(rng.normal(100, 30, 50000))
    assert_like_format_number(10 ** rng.uniform(-5, 17, 50000) * rng.choice([-1, 1], 50000))
    assert_like_format_number(np.round(rng.uniform(-1000, 1000, 50000), 3))
    # Dyadic fractions: exact short decimals and the ties between shortest candidates.
    assert_like_format_number(
        rng.integers(-(2**20), 2**20, 50000) / 2.0 ** rng.integers(0, 45, 50000)
    )


@settings(max_examples=300)
@given(st.lists(st.floats(allow_nan=False, allow_infinity=False), min_size=1, max_size=50))
def test_any_finite_doubles(values: list[float]) -> None:
    assert_like_format_number(values)
