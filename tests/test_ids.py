"""The id grammar: nothing a user types can make the host read or write outside the root."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flowtime_sim.builtin.file_storage import FileStorage
from flowtime_sim.errors import UserError
from flowtime_sim.ids import parse_ref, slugify

HOSTILE = [
    "../x",
    "..",
    ".",
    "a/b",
    "a\\b",
    "/etc/passwd",
    "%2e%2e",
    "%2e%2e%2fx",
    "a\x00b",
    "A",
    "-x",
    "_x",
    ".hidden",
    "x" * 129,
    "",
    "x@v0",
    "x@v",
    "x@1",
    "x@v1@v2",
    "x@v-1",
    "\u0430bc",
    "abc\n",
    "c:\\windows",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_ids_are_refused_with_the_grammar_in_the_message(text: str) -> None:
    with pytest.raises(
        UserError,
        match=r"invalid artifact id .*: ids are lower-case letters, "
        r"digits, '\.', '_' and '-'",
    ):
        parse_ref(text)


def test_valid_refs() -> None:
    assert str(parse_ref("checkout-baseline_1a2b3c4d@v12")) == "checkout-baseline_1a2b3c4d@v12"
    assert parse_ref("a.b_c-d").version is None
    assert parse_ref("x" * 128).id == "x" * 128
    with pytest.raises(UserError, match=r"expected ID\)"):
        parse_ref("abc@v2", allow_version=False)


def test_slugify() -> None:
    assert slugify("Checkout Baseline!") == "checkout-baseline"
    assert slugify("Caf\u00e9 / Ops") == "cafe-ops"
    with pytest.raises(UserError, match="name '!!!' has no letters or digits"):
        slugify("!!!")


@settings(max_examples=300)
@given(st.text(max_size=200))
def test_any_text_is_refused_or_stays_inside_the_root(text: str) -> None:
    root = Path("/srv/artifacts-root")
    try:
        ref = parse_ref(text)
    except UserError:
        return
    assert re.fullmatch(r"[a-z0-9][a-z0-9._-]{0,127}", ref.id)  # SPEC §6's grammar
    target = (root / "models" / ref.id).resolve()
    assert target.is_relative_to(root)


@given(st.text(max_size=60))
def test_storage_keys_never_leave_the_root(
    tmp_path_factory: pytest.TempPathFactory, text: str
) -> None:
    base = tmp_path_factory.getbasetemp() / "keys"
    storage = FileStorage(str(base))
    try:
        path = storage._path(f"models/{text}")
    except UserError as exc:
        assert "would leave the root" in str(exc)
        return
    assert path.resolve().is_relative_to(base.resolve())


@pytest.mark.parametrize(
    "key", ["../x", "models/../../x", "/abs", "models//x", "a\\..\\b", "models/\x00"]
)
def test_storage_refuses_escaping_keys(tmp_path: Path, key: str) -> None:
    storage = FileStorage(str(tmp_path))
    message = f"refusing the storage key {key!r}: it would leave the root"
    with pytest.raises(UserError, match=re.escape(message)):
        storage.read(key)
