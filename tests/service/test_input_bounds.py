"""Hostile parameters and model YAML over HTTP get the same bounds as files: a 4xx problem
document, never a 500 or a hang."""

from __future__ import annotations

import pytest

from tests.service.conftest import Client, problem

LAUGHS = "\n".join(
    ['a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    + [
        f"{name}: &{name} [" + ", ".join(["*" + prev] * 9) + "]"
        for prev, name in zip("abcdefgh", "bcdefghi", strict=True)
    ]
)


def post_json(client: Client, path: str, text: str) -> object:
    return client.post(path, content=text, headers={"content-type": "application/json"})


@pytest.mark.parametrize(
    ("parameters", "detail"),
    [
        (
            '{"bins": ' + "9" * 4000 + "}",
            "parameters: Value error, an integer has more than 100 "
            "digits; write numbers of at most 100 digits",
        ),
        (
            '{"daily_profile": ' + "[" * 900 + "]" * 900 + "}",
            "parameters: Value error, collections are nested more than 64 levels deep",
        ),
    ],
)
def test_new_bounds_its_parameters(client: Client, parameters: str, detail: str) -> None:
    body = '{"template": "checkout", "parameters": ' + parameters + "}"
    doc = problem(post_json(client, "/sim/new", body), 422, "parameters")
    assert doc["detail"] == detail


def test_derive_bounds_its_parameters(client: Client) -> None:
    body = '{"from": "a_12345678", "name": "x", "parameters": {"x": ' + "[" * 70 + "]" * 70 + "}}"
    doc = problem(post_json(client, "/sim/derive", body), 422, "parameters")
    assert doc["detail"] == (
        "parameters: Value error, collections are nested more than 64 levels deep"
    )


@pytest.mark.parametrize(
    "body",
    [
        '{"template": "checkout", "parameters": {"bins": ' + "9" * 5000 + "}}",
        '{"template": "checkout", "parameters": {"x": ' + "[" * 100_000 + "]" * 100_000 + "}}",
    ],
)
def test_bodies_json_cannot_read_are_a_400(client: Client, body: str) -> None:
    doc = problem(post_json(client, "/sim/new", body), 400)
    assert doc["detail"] == "There was an error parsing the body"


@pytest.mark.parametrize(
    ("model", "detail"),
    [
        (
            LAUGHS,
            "malformed YAML in model: aliases would add 490,329,036 nodes to the document; "
            "at most 1,000,000 are allowed",
        ),
        (
            "grid: {bins: " + "9" * 5000 + "}\n",
            "malformed YAML in model at line 1, column 14: "
            "integer 999999999999... has 5,000 digits; at most 100 are read",
        ),
        (
            "- " * 100_000 + "1\n",
            "malformed YAML in model at line 1, column 1999: while "
            "increasing block level, exceeded maximum nesting depth",
        ),
        (
            "x: " + "[" * 65 + "]" * 65 + "\n",
            "malformed YAML in model at line 1, column 67: "
            "collections are nested more than 64 levels deep",
        ),
        (
            "grid: {}\ngrid: {}\n",
            "duplicate key 'grid' in model at line 2, column 1; give each key once per mapping",
        ),
    ],
)
def test_run_bounds_a_model_given_as_yaml(client: Client, model: str, detail: str) -> None:
    doc = problem(client.post("/sim/run", json={"model": model}), 422, "model")
    assert doc["detail"] == detail
