"""Canonical JSON hashing (RFC 8785 after NFC): golden vectors and properties."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flowtime_sim.canonical import canonical_hash, canonical_json
from flowtime_sim.catalogs import identity_hash, model_id_for
from flowtime_sim.errors import UserError
from flowtime_sim.parameter_input import parse_params_text


def test_golden_vectors() -> None:
    assert canonical_json({"b": 1, "a": [1.0, "x"]}) == b'{"a":[1,"x"],"b":1}'
    assert canonical_hash({}) == (
        "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
    )
    assert canonical_hash({"template_id": "checkout", "parameters": {"peak_factor": 1.5}}) == (
        "sha256:"
        + __import__("hashlib")
        .sha256(b'{"parameters":{"peak_factor":1.5},"template_id":"checkout"}')
        .hexdigest()
    )


def test_key_order_does_not_matter() -> None:
    assert canonical_hash({"a": 1, "b": 2}) == canonical_hash({"b": 2, "a": 1})


def test_one_and_one_point_zero_hash_the_same() -> None:
    assert canonical_hash({"x": 1}) == canonical_hash({"x": 1.0})
    assert canonical_hash({"x": 1}) != canonical_hash({"x": 1.5})


def test_nfc_and_nfd_strings_hash_the_same() -> None:
    nfc, nfd = "caf\u00e9", "cafe\u0301"
    assert nfc != nfd
    assert canonical_hash({"name": nfc}) == canonical_hash({"name": nfd})
    assert canonical_hash({nfd: 1}) == canonical_hash({nfc: 1})


def test_yaml_and_json_spellings_hash_the_same() -> None:
    from_yaml = parse_params_text("peak: 2\nname: caf\u00e9\nlist: [1, 2.5]\n", "p.yaml")
    from_json = parse_params_text(
        '{"list": [1.0, 2.5], "name": "cafe\\u0301", "peak": 2.0}', "p.json"
    )
    assert canonical_hash(from_yaml) == canonical_hash(from_json)


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_nan_and_infinity_are_rejected(bad: float) -> None:
    with pytest.raises(UserError, match="cannot be hashed: NaN and infinity are not allowed"):
        canonical_hash({"x": [bad]})


def test_the_same_id_in_processes_with_different_hash_seeds() -> None:
    code = (
        "from flowtime_sim.catalogs import identity_hash, model_id_for;"
        "print(model_id_for('Checkout Baseline', identity_hash('checkout', 'checkout', "
        "{'b': [1, 2.0], 'a': {'y': 'caf\\u00e9', 'x': None}})))"
    )
    ids = set()
    for seed in ("0", "1", "12345"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        out = subprocess.run(
            [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
        )
        ids.add(out.stdout.strip())
    identity = identity_hash(
        "checkout", "checkout", {"a": {"x": None, "y": "cafe\u0301"}, "b": [1.0, 2]}
    )
    assert ids == {model_id_for("Checkout Baseline", identity)}
    assert next(iter(ids)).startswith("checkout-baseline_")


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**53), 2**53)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)


@given(json_values)
def test_canonical_json_round_trips_to_an_equal_value(value: object) -> None:
    def nfc(v: object) -> object:
        if isinstance(v, int | float) and not isinstance(v, bool):
            return float(v)  # JSON numbers are doubles: 1 and 1.0 are one value
        if isinstance(v, str):
            return unicodedata.normalize("NFC", v)
        if isinstance(v, list):
            return [nfc(x) for x in v]
        if isinstance(v, dict):
            return {nfc(k): nfc(x) for k, x in v.items()}
        return v

    try:
        text = canonical_json(value)
    except UserError:
        return  # two keys that collide after NFC: refused, never silently merged
    assert nfc(json.loads(text)) == nfc(value)
    assert canonical_json(json.loads(text)) == text


numbers = st.one_of(
    st.integers(-(2**60), 2**60),
    st.floats(allow_nan=False, allow_infinity=False),
    st.floats(min_value=-1e-3, max_value=1e-3),
    st.sampled_from([0.0, -0.0, 1.0, 5.0, 1e16, 2.0**53, 1e-4, 9.99e-5, 123.456]),
)


@settings(deadline=None)  # the first example imports NumPy
@given(st.lists(numbers, min_size=64, max_size=200), st.booleans())
def test_long_number_lists_take_a_fast_path_with_the_same_bytes(
    values: list[float], as_tuple: bool
) -> None:
    import rfc8785

    from flowtime_sim.canonical import _ints_to_float, normalise

    doc = {"values": tuple(values) if as_tuple else values, "name": "caf\u00e9"}
    plain = normalise(doc)  # the general path only
    try:
        expected = rfc8785.dumps(plain)
    except rfc8785.IntegerDomainError:
        expected = rfc8785.dumps(_ints_to_float(plain))
    assert canonical_json(doc) == expected


def test_a_document_string_cannot_pose_as_a_fast_list() -> None:
    values = list(range(100))
    lookalike = "\x00" + "0" * 16 + ":0"
    assert canonical_json({"a": values, "b": lookalike}) == (
        b'{"a":[' + ",".join(map(str, values)).encode() + b'],"b":"\\u0000' + b"0" * 16 + b':0"}'
    )
