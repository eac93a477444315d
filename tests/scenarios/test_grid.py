"""``--grid`` values: the ``--set`` rules, lists, ranges, and every mistake named."""

from __future__ import annotations

import pytest

from flowtime_sim.errors import UserError
from flowtime_sim.scenarios.grid import describe, grid_from_mapping, parse_grid


def test_values_follow_the_set_rules() -> None:
    grid = parse_grid(
        [
            "peak_factor=1,1.5,2",
            "start=null,2025-11-28T00:00:00Z",
            "daily_profile=[1, 2],[3, 4]",
            "note=a: b,plain",
        ]
    )
    assert [(a.name, a.values) for a in grid.axes] == [
        ("peak_factor", (1, 1.5, 2)),
        ("start", (None, "2025-11-28T00:00:00Z")),
        ("daily_profile", ([1, 2], [3, 4])),
        ("note", ("a: b", "plain")),
    ]
    assert grid.size == 24


def test_ranges_include_both_ends_and_keep_integers() -> None:
    grid = parse_grid(["a=1..3", "b=0.1..0.3:0.1", "c=200..500:100", "d=1..2:0.5"])
    assert [a.values for a in grid.axes] == [
        (1, 2, 3),
        (0.1, 0.2, 0.3),
        (200, 300, 400, 500),
        (1.0, 1.5, 2.0),
    ]


def test_scenarios_vary_the_last_parameter_fastest() -> None:
    grid = parse_grid(["a=1,2", "b=x,y"])
    assert list(grid.scenarios()) == [
        {"a": 1, "b": "x"},
        {"a": 1, "b": "y"},
        {"a": 2, "b": "x"},
        {"a": 2, "b": "y"},
    ]
    assert describe({"a": 1.5, "b": "x", "c": [1, 2]}) == "a=1.5, b=x, c=[1, 2]"


@pytest.mark.parametrize(
    ("items", "message"),
    [
        (["peak_factor"], "--grid expects key=v1,v2,..., got 'peak_factor'"),
        (["=1,2"], "--grid expects key=v1,v2,..., got '=1,2'"),
        (["a=1,,2"], "--grid a: empty value in '1,,2'; separate values with single commas"),
        (["a=1,2", "a=3"], "--grid a is given twice; list all its values in one --grid"),
        (["a=1,1"], "--grid a repeats a value: [1, 1]"),
        (["a=3..1"], "--grid a=3..1: the range ends (1) before it starts (3)"),
        (["a=1..3:0"], "--grid a=1..3:0: the step 0 must be positive"),
        (["a=1..100000"], "--grid a=1..100000 has 100000 values, more than the limit of 10000"),
        (
            ["a=1..101", "b=1..100"],
            "the grid makes 10100 scenarios, more than the limit of 10000; use fewer values",
        ),
        ([], "a sweep needs at least one --grid parameter"),
    ],
)
def test_mistakes_are_named(items: list[str], message: str) -> None:
    with pytest.raises(UserError) as caught:
        parse_grid(items)
    assert str(caught.value) == message


def test_a_json_grid_needs_lists() -> None:
    assert grid_from_mapping({"a": [1, 2]}).size == 2
    with pytest.raises(UserError) as caught:
        grid_from_mapping({"a": 3})  # type: ignore[dict-item]
    assert str(caught.value) == "grid.a must be a list of values"
    assert caught.value.field == "grid.a"
