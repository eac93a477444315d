"""Parameters: defaults, then ``--params FILE``, then ``--set``; every violation at once."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flowtime_sim.builtin.parameters import resolve, schema_defaults
from flowtime_sim.errors import ParameterError, UserError
from flowtime_sim.parameter_input import (
    load_params_file,
    parameter_sources,
    parse_params_text,
    parse_sets,
)
from flowtime_sim.types import ParameterSources, Template, TemplateManifest

SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["name"],
    "properties": {
        "bins": {"type": "integer", "minimum": 1, "maximum": 100, "default": 24},
        "rate": {"type": "number", "exclusiveMinimum": 0, "default": 1.5},
        "mode": {"type": "string", "enum": ["fast", "slow"], "default": "fast"},
        "profile": {
            "type": "array",
            "items": {"type": "number", "minimum": 0},
            "minItems": 2,
            "maxItems": 4,
            "default": [1, 2],
        },
        "start": {"type": ["string", "null"], "pattern": r"^\d{4}-", "default": None},
        "name": {"type": "string", "minLength": 1, "maxLength": 8},
        "step": {"type": "number", "multipleOf": 0.5, "exclusiveMaximum": 10, "default": 1},
    },
}
TEMPLATE = Template(
    TemplateManifest(id="queue", version="1.2.0", title="Queue", parameters=SCHEMA),
    read_body=lambda: "",
)
DEFAULTS = {"bins": 24, "rate": 1.5, "mode": "fast", "profile": [1, 2], "start": None, "step": 1}
IN = "(template queue 1.2.0)"


def problems(**sets: Any) -> list[str]:
    with pytest.raises(ParameterError) as err:
        resolve(TEMPLATE, ParameterSources(sets=sets))
    assert str(err.value) == "; ".join(err.value.problems)
    return [p.removesuffix(f" {IN}") for p in err.value.problems if p.endswith(IN)] + [
        p for p in err.value.problems if not p.endswith(IN)
    ]


def write(tmp_path: Path, name: str, text: str | bytes) -> Path:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


# -- precedence -----------------------------------------------------------------------------


def test_schema_defaults_are_copies() -> None:
    defaults = schema_defaults(SCHEMA)
    assert defaults == DEFAULTS
    defaults["profile"].append(3)
    assert SCHEMA["properties"]["profile"]["default"] == [1, 2]
    assert schema_defaults({"type": "object"}) == {}


@pytest.mark.parametrize("suffix", ["yaml", "yml", "json"])
def test_defaults_then_file_then_sets(tmp_path: Path, suffix: str) -> None:
    data = {"name": "filed", "bins": 48, "rate": 2.5}
    text = json.dumps(data) if suffix == "json" else "name: filed\nbins: 48\nrate: 2.5\n"
    path = write(tmp_path, f"params.{suffix}", text)
    sources = parameter_sources(path, ["rate=3", "mode=slow"])
    assert sources == ParameterSources(
        file=data, sets={"rate": 3, "mode": "slow"}, file_name=str(path)
    )
    resolved = resolve(TEMPLATE, sources)
    assert (resolved.template_id, resolved.template_version) == ("queue", "1.2.0")
    assert resolved.values == {**DEFAULTS, "name": "filed", "bins": 48, "rate": 3, "mode": "slow"}


def test_yaml_and_json_files_give_the_same_values(tmp_path: Path) -> None:
    yaml_path = write(
        tmp_path, "p.yaml", "name: q\nstart: 2025-01-06T00:00:00Z\nrate: 1e3\nprofile: [0.5, 1]\n"
    )
    json_path = write(
        tmp_path,
        "p.json",
        '{"name": "q", "start": "2025-01-06T00:00:00Z", "rate": 1e3, "profile": [0.5, 1]}',
    )
    from_yaml, from_json = load_params_file(yaml_path), load_params_file(json_path)
    assert (
        from_yaml
        == from_json
        == {"name": "q", "start": "2025-01-06T00:00:00Z", "rate": 1000.0, "profile": [0.5, 1]}
    )
    assert resolve(TEMPLATE, ParameterSources(file=from_yaml)).values["start"] == (
        "2025-01-06T00:00:00Z"
    )


def test_no_sources_gives_the_defaults() -> None:
    assert parameter_sources(None, []) == ParameterSources()
    assert resolve(TEMPLATE, ParameterSources(sets={"name": "n"})).values == {
        **DEFAULTS,
        "name": "n",
    }


# -- violations -----------------------------------------------------------------------------


def test_every_violation_is_reported_at_once() -> None:
    assert problems(bins=0, rate=0, mode="medium", profile=[1], extra=1, start="x", other=2) == [
        "parameter 'name' is required",
        "unknown parameter(s) 'extra', 'other'; known parameters: bins, mode, name, profile, "
        "rate, start, step",
        "parameter 'bins' = 0 is below the minimum 1",
        "parameter 'mode' = 'medium' is not one of 'fast', 'slow'",
        "parameter 'profile' = [1] has fewer than 2 items",
        "parameter 'rate' = 0 must be greater than 0",
        "parameter 'start' = 'x' does not match the pattern '^\\\\d{4}-'",
    ]


def test_limits_lengths_and_non_finite_numbers() -> None:
    assert problems(bins=101, name="", rate=math.inf, profile=[1, -1, math.nan], step=0.3) == [
        "parameter 'rate' = Infinity is not a finite number",
        "parameter 'profile' = [1, -1, NaN] is not a finite number",
        "parameter 'bins' = 101 is above the maximum 100",
        "parameter 'name' = '' is shorter than 1 characters",
        "parameter 'profile[1]' = -1 is below the minimum 0",
        "parameter 'step' = 0.3 is not a multiple of 0.5",
    ]


def test_types() -> None:
    assert problems(bins=2.5, name="toolongname", mode=None, profile="1,2", start=5, step=10) == [
        "parameter 'bins' = 2.5 is not of type 'integer'",
        "parameter 'mode' = null is not of type 'string'",
        "parameter 'mode' = null is not one of 'fast', 'slow'",
        "parameter 'name' = 'toolongname' is longer than 8 characters",
        "parameter 'profile' = '1,2' is not of type 'array'",
        "parameter 'start' = 5 is not of type 'string' or 'null'",
        "parameter 'step' = 10 must be less than 10",
    ]
    assert problems(bins=True, name=3, step="1") == [
        "parameter 'bins' = true is not of type 'integer'",
        "parameter 'name' = 3 is not of type 'string'",
        "parameter 'step' = '1' is not of type 'number'",
    ]


def test_long_values_are_shortened() -> None:
    (problem,) = problems(name="n", profile=list(range(100)))
    assert problem == (
        "parameter 'profile' = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, "
        "15, 16, 17, 18, 19, 20, 21... has more than 4 items"
    )


def test_other_keywords() -> None:
    schema = {
        "type": "object",
        "properties": {
            "p": {"type": "array", "uniqueItems": True, "default": [1, 1]},
            "unit": {"const": "minutes", "default": "hours"},
        },
    }
    tpl = Template(
        TemplateManifest(id="u", version="1.0.0", title="U", parameters=schema),
        read_body=lambda: "",
    )
    with pytest.raises(ParameterError) as err:
        resolve(tpl, ParameterSources())
    assert err.value.problems == [
        "parameter 'p' = [1, 1] fails uniqueItems: [1, 1] has non-unique elements (template u "
        "1.0.0)",
        "parameter 'unit' = 'hours' is not 'minutes' (template u 1.0.0)",
    ]


# -- the params file ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        (
            "bad.yaml",
            "a: [1\nb: 2\n",
            "is not valid YAML: while parsing a flow sequence, did not find expected ',' or ']' at "
            "line 2, column 2",
        ),
        (
            "tab.yml",
            "a:\n\tb: 1\n",
            "is not valid YAML: while scanning for the next token, found character that "
            "cannot start any token at line 2, column 1",
        ),
        (
            "bad.json",
            '{"a": 1,}',
            "is not valid JSON: Expecting property name enclosed in double quotes at line 1, "
            "column 9",
        ),
        ("list.yaml", "- 1\n", "must hold a mapping of parameter names to values"),
        ("list.json", "[1]", "must hold a mapping of parameter names to values"),
        ("text.yaml", "just text\n", "must hold a mapping of parameter names to values"),
        ("keys.yaml", "1: a\n", "must hold a mapping of parameter names to values"),
        (
            "code.yaml",
            "a: !!python/object/apply:os.system ['id']\n",
            "is not valid YAML: could not determine a constructor for the tag "
            "'tag:yaml.org,2002:python/object/apply:os.system' at line 1, column 4",
        ),
    ],
)
def test_malformed_params_files(tmp_path: Path, name: str, text: str, message: str) -> None:
    path = write(tmp_path, name, text)
    with pytest.raises(UserError) as err:
        load_params_file(path)
    assert str(err.value) == f"parameters file {str(path)!r} {message}"
    assert err.value.field == "params"


def test_unreadable_params_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cases = [
        (tmp_path / "missing.yaml", "parameters file {} does not exist"),
        (tmp_path, "cannot read parameters file {}: Is a directory"),
        (
            write(tmp_path, "latin1.yaml", b"a: \xff\n"),
            "cannot read parameters file {}: 'utf-8' codec can't decode byte 0xff in position "
            "3: invalid start byte",
        ),
    ]
    for path, message in cases:
        with pytest.raises(UserError) as err:
            load_params_file(path)
        assert str(err.value) == message.format(repr(str(path)))
    monkeypatch.setattr("flowtime_sim.parameter_input.MAX_PARAMS_FILE", 10)
    big = write(tmp_path, "big.yaml", "a: 12345678901\n")
    with pytest.raises(UserError) as err:
        load_params_file(big)
    assert str(err.value) == (
        f"parameters file {str(big)!r} is larger than 1 MB; pass a file of parameter values only"
    )


def test_empty_params_file_is_no_values(tmp_path: Path) -> None:
    assert load_params_file(write(tmp_path, "empty.yaml", "# nothing yet\n")) == {}
    assert parse_params_text("x: &a [1]\ny: *a\n", "anchors.yaml") == {"x": [1], "y": [1]}


# -- --set ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("item", "value"),
    [
        ("a=1", 1),
        ("a=1.5", 1.5),
        ("a=-2", -2),
        ("a=1e3", 1000.0),
        ("a=true", True),
        ("a=null", None),
        ("a=~", None),
        ("a=[1, 2]", [1, 2]),
        ("a=[]", []),
        ("a={b: 1}", {"b": 1}),
        ("a=text", "text"),
        ("a=text: with colon", "text: with colon"),
        ("a=- item", "- item"),
        ("a=# not a comment", "# not a comment"),
        ("a=[1, 2", "[1, 2"),
        ("a=x=y", "x=y"),
        ("a='quoted'", "quoted"),
        ("a=", ""),
        ("a=  ", ""),
        (" a = 2", 2),
        ("a=2025-01-06", "2025-01-06"),
        ("a=2025-01-06T00:00:00Z", "2025-01-06T00:00:00Z"),
        ("a=.nan", "nan"),
    ],
)
def test_set_values_are_read_as_yaml(item: str, value: Any) -> None:
    parsed = parse_sets([item])["a"]
    if value == "nan":
        assert math.isnan(parsed)
    else:
        assert parsed == value
        assert type(parsed) is type(value)


def test_later_sets_win() -> None:
    assert parse_sets(["a=1", "b=2", "a=3"]) == {"a": 3, "b": 2}


@pytest.mark.parametrize("item", ["a", "=1", " =1", ""])
def test_set_without_key_or_equals(item: str) -> None:
    with pytest.raises(UserError) as err:
        parse_sets([item])
    assert str(err.value) == f"--set expects key=value, got {item!r}"
    assert err.value.field == "set"


# The compiled validator answers the common case; jsonschema decides whenever it sees a problem.
# So it may be stricter than jsonschema, never more lenient.

_JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(10**6), 10**6)
    | st.floats(-1e6, 1e6, allow_nan=False)
    | st.text(max_size=12),
    lambda inner: (
        st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=12,
)


def _bundled_templates() -> list[Template]:
    from flowtime_sim.core import Flowtime

    index = Flowtime().templates
    return [
        t
        for versions in index.by_id.values()
        for t in versions
        if t.manifest.parameters.get("properties")
    ]


@pytest.mark.parametrize(
    "template", [TEMPLATE, *_bundled_templates()], ids=lambda t: f"{t.id}-{t.version}"
)
@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_the_fast_validator_never_accepts_what_jsonschema_refuses(
    template: Template, data: st.DataObject
) -> None:
    from flowtime_sim.builtin.parameters import _surely_valid, _validator

    values = schema_defaults(template.manifest.parameters)
    names = sorted(template.manifest.parameters["properties"])
    for name in data.draw(st.lists(st.sampled_from([*names, "unknown"]), max_size=3)):
        values[name] = data.draw(_JSON_VALUES)
    if _surely_valid(template, values):
        assert list(_validator(template).iter_errors(values)) == []
