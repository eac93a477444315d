"""yaml_literal: a parameter value becomes a YAML literal that reads back as exactly itself,
with PyYAML's loaders and with the host's own dialect."""

from __future__ import annotations

import math
from typing import Any

import pytest
import yaml
from hypothesis import example, given
from hypothesis import strategies as st

from flowtime_sim.yaml_dialect import load_yaml
from flowtime_sim.yamlsafe import yaml_literal

LOADERS = [yaml.SafeLoader, getattr(yaml, "CSafeLoader", yaml.SafeLoader), None]

scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)


def read_back(literal: str, loader: Any = yaml.SafeLoader) -> Any:
    text = "v: " + literal + "\n"
    return (load_yaml(text) if loader is None else yaml.load(text, Loader=loader))["v"]


@given(values)
@example("x\nnodes: []")
@example("\u2028\u2029\x85\ufeff\x00\x1b\x7f\ud7ff\ue000\U0001f600")
@example({"a: b": ["#", "{{ x }}", "'", '"', "\\", "- item"]})
@example({"<<": {"a": 1}, "=": "~", "null": "yes"})
@example([1e16, 5e-324, -0.0, 1.5e300, 12.0])
def test_any_value_reads_back_unchanged(value: Any) -> None:
    for loader in LOADERS:
        assert read_back(yaml_literal(value), loader) == value


@given(st.floats(allow_nan=False, allow_infinity=False))
@example(1e16)
@example(1e-7)
@example(-2.0)
def test_floats_read_back_as_floats(value: float) -> None:
    for loader in LOADERS:
        back = read_back(yaml_literal(value), loader)
        assert type(back) is float
        assert back == value
        assert math.copysign(1, back) == math.copysign(1, value)


@given(st.text())
def test_a_string_is_one_line(value: str) -> None:
    literal = yaml_literal(value)
    assert literal.startswith('"') and literal.endswith('"')
    assert len(literal.splitlines()) == 1


@pytest.mark.parametrize(
    ("value", "literal"),
    [
        (None, "null"),
        (True, "true"),
        (False, "false"),
        (7, "7"),
        (-3, "-3"),
        (0.5, "0.5"),
        (1e16, "1.0e+16"),
        (2.5e-08, "2.5e-08"),
        ("plain", '"plain"'),
        ("a\nnodes: []", '"a\\nnodes: []"'),
        ('tab\tquote"back\\', '"tab\\tquote\\"back\\\\"'),
        ("\u2028\x85", '"\\u2028\\u0085"'),
        ("héllo ✓", '"héllo ✓"'),
        ([1, "a", [2.0]], '[1, "a", [2.0]]'),
        ((1, 2), "[1, 2]"),
        ({"k": 1, 2: None}, '{"k": 1, "2": null}'),
        ([], "[]"),
        ({}, "{}"),
    ],
)
def test_literals(value: object, literal: str) -> None:
    assert yaml_literal(value) == literal


@pytest.mark.parametrize(
    ("value", "error", "message"),
    [
        (math.nan, ValueError, "nan is not a finite number"),
        (-math.inf, ValueError, "-inf is not a finite number"),
        ([1, math.inf], ValueError, "inf is not a finite number"),
        ({1, 2}, TypeError, "cannot insert a set into a model"),
        (b"bytes", TypeError, "cannot insert a bytes into a model"),
    ],
)
def test_values_that_cannot_be_inserted(
    value: object, error: type[Exception], message: str
) -> None:
    with pytest.raises(error) as err:
        yaml_literal(value)
    assert str(err.value) == message
