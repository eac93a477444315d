"""The one YAML dialect: every rule holds for every kind of file the host reads, hostile input
is refused with a one-line message, and the fast path reads what the strict path reads."""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import Result
from hypothesis import example, given
from hypothesis import strategies as st

from flowtime_sim.engine.synthetic import synthetic_model_source
from flowtime_sim.errors import ModelError, UserError
from flowtime_sim.manifests import load_manifest_file
from flowtime_sim.model import load_model_document, parse_model
from flowtime_sim.parameter_input import load_params_file, parse_sets
from flowtime_sim.service.identity import parse_tokens
from flowtime_sim.upstream import load_upstream_file
from flowtime_sim.yaml_dialect import (
    MODEL_LIMITS,
    SMALL_FILE_LIMITS,
    DuplicateKeyError,
    YamlError,
    YamlLimitError,
    YamlLimits,
    _fast_parser,
    _load_fast,
    _load_strict,
    check_limits,
    load_json,
    load_yaml,
)

Cli = Callable[..., Result]
TOKEN = "a-token-0123456789abcdef"
MODEL = "schemaVersion: 1\ngrid: {bins: 3, binSize: 1, binUnit: hours}\n"
#: 9 levels of 9 aliases: 9**9 "lol"s once expanded, from 342 bytes.
LAUGHS = "\n".join(
    ['a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    + [
        f"{name}: &{name} [" + ", ".join(["*" + prev] * 9) + "]"
        for prev, name in zip("abcdefgh", "bcdefghi", strict=True)
    ]
)
LAUGHS_PROBLEM = (
    "aliases would add 490,329,036 nodes to the document; at most 1,000,000 are allowed"
)
DEEP_YAML = "x: " + "[" * 100_000 + "]" * 100_000 + "\n"
DEEP_JSON = '{"x": ' + "[" * 100_000 + "]" * 100_000 + "}"
BIG_INT = "9" * 5000


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


# -- the rules, for each kind of file -----------------------------------------------------------


def read_manifest(tmp_path: Path, body: str) -> Any:
    folder = tmp_path / "t"
    folder.mkdir()
    write(folder, "model.yaml.j2", MODEL)
    body = "".join("    " + line for line in body.splitlines(keepends=True))
    text = (
        "id: t\nversion: 1.0.0\ntitle: T\nparameters:\n  type: object\n  properties:\n    x:\n"
        + body
    )
    manifest = load_manifest_file(write(folder, "template.yaml", text)).manifest
    return manifest.parameters["properties"]["x"]


def read_params(tmp_path: Path, body: str) -> Any:
    return load_params_file(write(tmp_path, "p.yaml", "x:\n" + body))["x"]


def read_upstream(tmp_path: Path, body: str) -> Any:
    return load_upstream_file(write(tmp_path, "u.yaml", "metadata: {id: u}\nx:\n" + body))


def read_tokens(tmp_path: Path, body: str) -> Any:
    return parse_tokens(f"{TOKEN}:\n  identity: alice\n  teams: []\nx:\n" + body, "t.yaml")


def read_model(tmp_path: Path, body: str) -> Any:
    return load_model_document(MODEL + "x:\n" + body)["x"]


READERS = {
    "manifest": read_manifest,
    "params": read_params,
    "upstream": read_upstream,
    "tokens": read_tokens,
    "model": read_model,
}
DUPLICATE_AT = {
    "manifest": (10, 7),
    "params": (4, 3),
    "upstream": (5, 3),
    "tokens": (7, 3),
    "model": (6, 3),
}


@pytest.mark.parametrize("kind", READERS)
def test_a_duplicate_key_is_refused_naming_the_key_and_its_line(tmp_path: Path, kind: str) -> None:
    with pytest.raises((UserError, ValueError)) as caught:
        READERS[kind](tmp_path, "  a: 1\n  b: 2\n  a: 3\n")
    message = str(caught.value)
    line, column = DUPLICATE_AT[kind]
    assert "duplicate key 'a'" in message
    assert f"at line {line}, column {column}" in message
    assert len(message.splitlines()) == 1


def test_duplicate_key_messages(tmp_path: Path) -> None:
    folder = tmp_path / "t"
    folder.mkdir()
    write(folder, "model.yaml.j2", MODEL)
    manifest = write(folder, "template.yaml", "id: t\nversion: 1.0.0\nid: u\n")
    with pytest.raises(ValueError) as caught:
        load_manifest_file(manifest)
    assert str(caught.value) == (
        f"{manifest}: template manifest is not valid YAML: duplicate key 'id' at line 3, column 1"
    )
    params = write(tmp_path, "p.yaml", "bins: 1\nbins: 2\n")
    with pytest.raises(UserError) as caught:
        load_params_file(params)
    assert str(caught.value) == (
        f"parameters file {str(params)!r} is not valid YAML: duplicate key 'bins' at line 2, "
        "column 1"
    )
    as_json = write(tmp_path, "p.json", '{"bins": 1, "bins": 2}')
    with pytest.raises(UserError) as caught:
        load_params_file(as_json)
    assert str(caught.value) == (
        f"parameters file {str(as_json)!r} is not valid JSON: duplicate key 'bins'"
    )
    with pytest.raises(UserError) as caught:
        parse_sets(["profile={a: 1, a: 2}"])
    assert str(caught.value) == "--set profile: duplicate key 'a' at line 1, column 8"
    with pytest.raises(ModelError) as caught:
        parse_model(MODEL + "nodes: []\nnodes: []\n")
    assert str(caught.value) == (
        "duplicate key 'nodes' in model at line 4, column 1; give each key once per mapping"
    )


@pytest.mark.parametrize("kind", ["manifest", "params", "model"])
def test_exponent_numbers_are_numbers(tmp_path: Path, kind: str) -> None:
    assert READERS[kind](tmp_path, "  default: 1e3\n") == {"default": 1000.0}
    assert parse_sets(["x=1e3"]) == {"x": 1000.0}


def test_exponent_numbers_in_an_upstream_template_are_numbers(tmp_path: Path) -> None:
    text = "metadata: {id: u}\nparameters:\n  - {name: x, type: number, default: 1e3}\n"
    template = load_upstream_file(write(tmp_path, "u.yaml", text))
    assert template.manifest.parameters["properties"]["x"]["default"] == 1000.0


@pytest.mark.parametrize("kind", ["manifest", "params", "model"])
def test_timestamps_stay_the_text_that_was_written(tmp_path: Path, kind: str) -> None:
    body = "  start: 2025-01-01T00:00:00Z\n  day: 2025-01-06\n"
    assert READERS[kind](tmp_path, body) == {"start": "2025-01-01T00:00:00Z", "day": "2025-01-06"}
    assert parse_sets(["start=2025-01-01T00:00:00Z"]) == {"start": "2025-01-01T00:00:00Z"}


def test_a_model_start_written_as_a_timestamp_is_the_grid_start() -> None:
    model = parse_model(
        "schemaVersion: 1\ngrid: {bins: 3, binSize: 1, binUnit: hours, "
        "start: 2025-01-01T00:00:00Z}\nnodes: [{id: a, kind: const, values: [1, 2, 3]}]\n"
    )
    assert model.grid.start is not None
    assert model.grid.start.isoformat() == "2025-01-01T00:00:00+00:00"


def test_tokens_keep_the_rules() -> None:
    with pytest.raises(UserError) as caught:
        parse_tokens(f"{TOKEN}: {{identity: alice}}\n{TOKEN}: {{identity: bob}}\n", "t.yaml")
    assert str(caught.value) == (
        f"tokens file 't.yaml' is not valid YAML: duplicate key {TOKEN!r} at line 2, column 1"
    )


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("yes", "yes"),
        ("on", "on"),
        ("off", "off"),
        ("True", True),
        ("FALSE", False),
        ("~", None),
        ("010", 10),
        ("0o17", 15),
        ("0x1F", 31),
        ("0b101", 5),
        ("1_000", 1000),
        ("1:30", "1:30"),
        (".5", 0.5),
        ("-.inf", -math.inf),
        ("'1e3'", "1e3"),
        ("2025-01-01 10:00:00", "2025-01-01 10:00:00"),
    ],
)
def test_scalars_read_as_yaml_1_2_core(text: str, value: object) -> None:
    assert load_yaml(f"v: {text}\n") == {"v": value}


def test_a_merge_key_is_an_ordinary_key() -> None:
    assert load_yaml("a: &a {x: 1}\nb: {<<: *a}\n") == {"a": {"x": 1}, "b": {"<<": {"x": 1}}}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "a: !!binary aGk=\n",
            "could not determine a constructor for the tag "
            "'tag:yaml.org,2002:binary' at line 1, column 4",
        ),
        (
            "a: !!timestamp 2025-01-01\n",
            "could not determine a constructor for the tag "
            "'tag:yaml.org,2002:timestamp' at line 1, column 4",
        ),
        ("a: !!bool yes\n", "'yes' is not true or false at line 1, column 4"),
        ("a: !!int x\n", "'x' is not an integer at line 1, column 4"),
        (
            "a: 1\n---\nb: 2\n",
            "expected a single document in the stream, but found another "
            "document at line 2, column 1",
        ),
        (
            "? [1, 2]\n: a\n",
            "while constructing a mapping, found unhashable key at line 1, column 3",
        ),
        ("a: &x [*x]\n", "an alias refers to a node that contains it at line 1, column 4"),
        ("1: a\n1.0: b\n", "duplicate key '1.0' at line 2, column 1"),
    ],
)
def test_what_the_dialect_refuses(text: str, message: str) -> None:
    with pytest.raises(YamlError) as caught:
        load_yaml(text)
    assert str(caught.value) == message


def test_an_explicit_core_tag_is_read() -> None:
    assert load_yaml("a: !!str 12\nb: !!float 1\nc: !!int '3'\n") == {"a": "12", "b": 1.0, "c": 3}


# -- bounds ----------------------------------------------------------------------------------


@pytest.fixture
def restore_int_digits() -> Iterator[None]:
    before = sys.get_int_max_str_digits()
    yield
    sys.set_int_max_str_digits(before)


def fails(result: Result, message: str) -> None:
    assert result.exit_code == 1, result.output
    assert result.stderr == f"error: {message}\n"


@pytest.mark.parametrize(
    ("name", "text", "problem"),
    [
        ("laughs.yaml", LAUGHS, f"is refused: {LAUGHS_PROBLEM}"),
        (
            "deep.yaml",
            DEEP_YAML,
            "is not valid YAML: while increasing flow level, exceeded "
            "maximum nesting depth at line 1, column 1003",
        ),
        (
            "nested.yaml",
            "x: " + "[" * 65 + "]" * 65 + "\n",
            "is refused: collections are nested more than 64 levels deep at line 1, column 67",
        ),
        (
            "big.yaml",
            f"bins: {BIG_INT}\n",
            "is refused: integer 999999999999... has 5,000 "
            "digits; at most 100 are read at line 1, column 7",
        ),
        (
            "big.json",
            f'{{"bins": {BIG_INT}}}',
            "is refused: integer 999999999999... has 5,000 digits; at most 100 are read",
        ),
        ("deep.json", DEEP_JSON, "is refused: collections are nested more than 64 levels deep"),
        (
            "nested.json",
            '{"x": ' + "[" * 65 + "]" * 65 + "}",
            "is refused: collections are nested more than 64 levels deep",
        ),
    ],
)
def test_hostile_params_files_are_one_line_errors(
    cli: Cli, tmp_path: Path, name: str, text: str, problem: str
) -> None:
    write(tmp_path, name, text)
    result = cli("new", "--template", "checkout", "--params", name, "--out", "m.yaml")
    fails(result, f"parameters file {name!r} {problem}")


@pytest.mark.parametrize("digits", [101, 4000, 5000])
def test_the_digit_limit_does_not_depend_on_pythons(
    tmp_path: Path, restore_int_digits: None, digits: int
) -> None:
    for python_limit in (0, 4300, 100_000):
        sys.set_int_max_str_digits(python_limit)
        with pytest.raises(UserError) as caught:
            load_params_file(write(tmp_path, "p.yaml", f"bins: {'1' * digits}\n"))
        assert f"has {digits:,} digits; at most 100 are read" in str(caught.value)
        with pytest.raises(UserError) as caught:
            parse_sets([f"bins={'1' * digits}"])
        assert str(caught.value).startswith("--set bins: integer 111111111111... has ")
    assert load_yaml(f"n: {'9' * 100}\n") == {"n": 10**100 - 1}


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("laughs.yaml", LAUGHS, f"malformed YAML in laughs: {LAUGHS_PROBLEM}"),
        (
            "deep.yaml",
            DEEP_YAML,
            "malformed YAML in deep at line 1, column 1003: while "
            "increasing flow level, exceeded maximum nesting depth",
        ),
        (
            "seq.yaml",
            "- " * 100_000 + "1\n",
            "malformed YAML in seq at line 1, column 1999: "
            "while increasing block level, exceeded maximum nesting depth",
        ),
        (
            "big.yaml",
            MODEL.replace("3", BIG_INT, 1),
            "malformed YAML in big at line 2, "
            "column 14: integer 999999999999... has 5,000 digits; at most 100 are read",
        ),
    ],
)
def test_hostile_model_files_are_one_line_errors(
    cli: Cli, tmp_path: Path, name: str, text: str, message: str
) -> None:
    write(tmp_path, name, text)
    fails(cli("run", "--file", name), message)


def test_hostile_manifests_and_upstream_templates_are_refused(tmp_path: Path) -> None:
    folder = tmp_path / "t"
    folder.mkdir()
    write(folder, "model.yaml.j2", MODEL)
    manifest = write(folder, "template.yaml", "id: t\n" + LAUGHS)
    with pytest.raises(ValueError) as caught:
        load_manifest_file(manifest)
    assert str(caught.value) == f"{manifest}: template manifest is not valid YAML: {LAUGHS_PROBLEM}"
    upstream = write(tmp_path, "u.yaml", "metadata: {id: u}\n" + LAUGHS)
    with pytest.raises(UserError) as caught:
        load_upstream_file(upstream)
    assert (
        str(caught.value) == f"template file {str(upstream)!r} is not valid YAML: {LAUGHS_PROBLEM}"
    )


def test_aliases_within_the_bound_are_read() -> None:
    text = "p: &p [" + ", ".join(["1"] * 1000) + "]\n" + "".join(f"n{i}: *p\n" for i in range(999))
    assert len(load_yaml(text)) == 1000
    with pytest.raises(YamlLimitError) as caught:
        load_yaml(text + "n999: *p\nn1000: *p\n")
    assert str(caught.value) == (
        "aliases would add 1,002,001 nodes to the document; at most 1,000,000 are allowed"
    )


def test_an_alias_placed_deeper_than_its_anchor_counts_its_depth() -> None:
    inner = "[" * 40 + "]" * 40
    with pytest.raises(YamlLimitError) as caught:
        load_yaml(f"a: &a {inner}\nb: {'[' * 30}*a{']' * 30}\n")
    assert (
        str(caught.value) == "collections are nested more than 64 levels deep at line 1, column 4"
    )


def test_document_size_is_bounded() -> None:
    with pytest.raises(YamlLimitError) as caught:
        load_yaml("a: 1\n", limits=YamlLimits(max_chars=4))
    assert str(caught.value) == "the document is 5 characters long; at most 4 are read"
    with pytest.raises(YamlLimitError):
        load_json("[1]", limits=YamlLimits(max_chars=2))


def test_check_limits_on_parsed_data() -> None:
    check_limits({"a": [[1]], "b": 10**100 - 1})
    nested: list[Any] = []
    for _ in range(64):
        nested = [nested]
    with pytest.raises(YamlLimitError) as caught:
        check_limits({"x": nested})
    assert str(caught.value) == "collections are nested more than 64 levels deep"
    with pytest.raises(YamlLimitError) as caught:
        check_limits({"x": [-(10**100)]})
    assert str(caught.value) == (
        "an integer has more than 100 digits; write numbers of at most 100 digits"
    )


# -- the fast path reads what the strict path reads ---------------------------------------------

needs_fast = pytest.mark.skipif(_fast_parser() is None, reason="yaml-rs is not installed")


def same(a: Any, b: Any) -> bool:
    """Equal, with the same types all the way down (1 is not 1.0 nor True), NaN equal to NaN."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) and math.isnan(a):
        return math.isnan(b)
    return bool(a == b)


def agree(text: str) -> None:
    """Where the fast path reads ``text``, the strict path reads the same."""
    found, fast = _load_fast(text, MODEL_LIMITS)
    if not found:
        return
    strict = _load_strict(text, MODEL_LIMITS)
    assert same(fast, strict), (text, fast, strict)


@needs_fast
@given(st.text(alphabet="0123456789_.+-eExXoObBinfaNINFtrueFALSnulL~: ", max_size=12))
@example("1_e5")
@example("0x_1")
@example("+.inf")
@example("-.nan")
@example("1.")
@example("._5")
@example("0b")
@example("TRUE")
@example("+0o_7")
def test_plain_scalars_read_the_same_on_both_paths(scalar: str) -> None:
    agree(f"v: {scalar}\n")


values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",))),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@needs_fast
@given(values, st.sampled_from([False, None, True]))
def test_documents_read_the_same_on_both_paths(value: Any, flow: bool | None) -> None:
    agree(yaml.safe_dump({"v": value}, default_flow_style=flow, allow_unicode=True))


@needs_fast
@pytest.mark.parametrize(
    "text",
    [
        "a: &x 1\nb: *x\n",
        "a: !!str 1\n",
        "a: 1\n---\nb: 2\n",
        "a: 1\n...\n",
        "%YAML 1.2\n---\na: 1\n",
        "a: b\x01c\n",
        "a: \ufeffb\n",
        "x:\n" + " " * 128 + "a: 1\n",
        "- " * 40 + "1\n",
        "x: " + "[" * 65 + "]" * 65 + "\n",
        "{[1, 2]: a}\n",
        f"a: {'9' * 101}\n",
        "a: 1\na: 2\n",
        "a: [1\n",
    ],
)
def test_the_fast_path_leaves_what_it_cannot_read_alike_to_the_strict_one(text: str) -> None:
    assert _load_fast(text, MODEL_LIMITS) == (False, None)


@needs_fast
def test_a_single_leading_document_marker_keeps_the_fast_path() -> None:
    assert _load_fast("# a model\n---\na: 1\n", MODEL_LIMITS) == (True, {"a": 1})


@needs_fast
def test_a_large_model_reads_the_same_on_both_paths() -> None:
    source = synthetic_model_source(40, 200, seed=3)
    for flow in (None, False):
        text = yaml.safe_dump(source, sort_keys=False, default_flow_style=flow)
        fast = load_yaml(text, limits=MODEL_LIMITS, fast=True)
        assert _load_fast(text, MODEL_LIMITS)[0]
        assert same(fast, _load_strict(text, MODEL_LIMITS))
        assert fast["grid"]["start"] == "2025-01-01T00:00:00Z"


@needs_fast
def test_long_digit_runs_leave_the_fast_path_where_python_reads_any_integer(
    restore_int_digits: None,
) -> None:
    text = "a: [" + ", ".join(["1.5"] * 20_000) + f"]\nb: {'7' * 5000}\n"
    sys.set_int_max_str_digits(0)
    assert _load_fast(text, MODEL_LIMITS) == (False, None)
    with pytest.raises(YamlLimitError) as caught:
        load_yaml(text, limits=MODEL_LIMITS, fast=True)
    assert str(caught.value) == (
        "integer 777777777777... has 5,000 digits; at most 100 are read at line 2, column 4"
    )


def test_small_files_have_small_limits() -> None:
    assert SMALL_FILE_LIMITS.max_chars == 1_000_000
    assert json.loads("1") == 1  # the json module itself is untouched
    with pytest.raises(DuplicateKeyError) as caught:
        load_yaml("a: 1\na: 2\n")
    assert (caught.value.key, caught.value.line, caught.value.column) == ("a", 2, 1)
