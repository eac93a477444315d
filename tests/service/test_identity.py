"""Tokens files, bearer authentication and the page's sign-in."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from flowtime_sim.core import Flowtime
from flowtime_sim.service import create_app
from flowtime_sim.service.identity import (
    SESSION_COOKIE,
    Account,
    Caller,
    Tokens,
    TokensFileError,
    parse_tokens,
)
from tests.service.conftest import TOKEN_OF, Client, bearer, problem


def test_tokens_files_in_yaml_and_json(tmp_path: Path) -> None:
    text = "tok-aaaaaaaaaaaaaaaa: {identity: alice, teams: [pricing]}\n"
    assert parse_tokens(text, "t.yaml") == {
        "tok-aaaaaaaaaaaaaaaa": Account("alice", frozenset({"pricing"}))
    }
    path = tmp_path / "tokens.json"
    path.write_text(json.dumps({"tok-bbbbbbbbbbbbbbbb": {"identity": "bob"}}))
    tokens = Tokens.load(path)
    assert tokens.authenticate("tok-bbbbbbbbbbbbbbbb") == Account("bob")
    assert tokens.authenticate("tok-bbbbbbbbbbbbbbbc") is None
    assert tokens.authenticate("") is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "[1, 2]",
            "tokens file 't.yaml' must be a non-empty mapping of token to {identity, teams}",
        ),
        ("", "tokens file 't.yaml' must be a non-empty mapping"),
        (
            "short: {identity: a}",
            "tokens file 't.yaml': token shor... must be at least 16 "
            "characters of letters, digits and - . _ ~ + /",
        ),
        ("'has spaces in it ok': {identity: a}", "token has ... must be at least 16"),
        (
            "tok-aaaaaaaaaaaaaaaa: alice",
            "tokens file 't.yaml', token tok-...: each entry must be "
            "a mapping with 'identity' and optionally 'teams'",
        ),
        ("tok-aaaaaaaaaaaaaaaa: {identity: a, owner: b}", "each entry must be a mapping"),
        (
            "tok-aaaaaaaaaaaaaaaa: {identity: ' a'}",
            "tokens file 't.yaml', token tok-...: identity "
            "' a' must be 1 to 128 printable characters "
            "without surrounding spaces",
        ),
        ("tok-aaaaaaaaaaaaaaaa: {teams: [x]}", "identity None must be 1 to 128"),
        (
            "tok-aaaaaaaaaaaaaaaa: {identity: a, teams: x}",
            "tokens file 't.yaml', token tok-...: teams 'x' must be a list of team names",
        ),
        ("a: [", "tokens file 't.yaml' is not valid YAML: "),
    ],
)
def test_bad_tokens_files_are_refused_with_the_reason(text: str, message: str) -> None:
    with pytest.raises(TokensFileError) as caught:
        parse_tokens(text, "t.yaml")
    assert message in str(caught.value)
    assert caught.value.field == "tokens"


def test_a_missing_tokens_file_is_refused(tmp_path: Path, ft: Flowtime) -> None:
    missing = tmp_path / "nope.yaml"
    with pytest.raises(TokensFileError) as caught:
        create_app(ft, tokens_file=missing)
    assert str(caught.value).startswith(f"cannot read the tokens file '{missing}': ")
    bad = tmp_path / "bad.json"
    bad.write_text("{")
    with pytest.raises(TokensFileError) as caught:
        Tokens.load(bad)
    assert str(caught.value).startswith(f"tokens file '{bad}' is not valid JSON: ")


def test_teammates_share_a_team() -> None:
    tokens = Tokens(
        {
            "t-aaaaaaaaaaaaaaaa": Account("alice", frozenset({"pricing"})),
            "t-bbbbbbbbbbbbbbbb": Account("bob", frozenset({"pricing", "ops"})),
            "t-cccccccccccccccc": Account("carol", frozenset({"ops"})),
            "t-dddddddddddddddd": Account("dave"),
        }
    )
    assert tokens.caller(Account("alice")).teammates == {"alice", "bob"}
    assert tokens.caller(Account("bob")).teammates == {"alice", "bob", "carol"}
    assert tokens.caller(Account("dave")).teammates == frozenset()


@pytest.mark.parametrize(
    ("owner", "visibility", "seen"),
    [
        ("me", "private", True),
        ("x", "private", False),
        ("mate", "team", True),
        ("x", "team", False),
        ("x", "public", True),
        ("mate", "private", False),
    ],
)
def test_who_can_see_what(owner: str, visibility: str, seen: bool) -> None:
    caller = Caller("me", frozenset({"me", "mate"}))
    assert caller.can_see({"owner": owner, "visibility": visibility}) is seen
    assert caller.viewer == ("me", frozenset({"me", "mate"}))
    everyone = Caller("local", sees_everything=True)
    assert everyone.can_see({"owner": owner, "visibility": visibility})
    assert everyone.viewer is None


def test_requests_need_a_bearer_token(secured: Client) -> None:
    response = secured.get("/v1/artifacts")
    doc = problem(response, 401, "authorization")
    assert doc["detail"] == "authentication required: send 'Authorization: Bearer <token>'"
    assert response.headers["www-authenticate"] == 'Bearer realm="flowtime-sim"'

    response = secured.get("/v1/artifacts", headers={"Authorization": "Bearer nope-nope-nope"})
    doc = problem(response, 401, "authorization")
    assert doc["detail"] == (
        "the bearer token is not valid; ask the operator of this service for a token"
    )
    assert response.headers["www-authenticate"] == 'Bearer error="invalid_token"'

    response = secured.get("/v1/artifacts", headers={"Authorization": "Basic YTpi"})
    doc = problem(response, 401, "authorization")
    assert doc["detail"] == "the Authorization header must be 'Bearer <token>'"
    assert response.headers["www-authenticate"] == 'Bearer error="invalid_request"'

    assert secured.get("/v1/artifacts", headers=bearer("alice")).status_code == 200
    assert secured.get("/healthz").json() == {"status": "ok", "version": "0.1.0"}


def test_the_openapi_document_declares_the_bearer_scheme(secured: Client, client: Client) -> None:
    doc = secured.get("/openapi.json").json()
    assert doc["components"]["securitySchemes"] == {"bearer": {"type": "http", "scheme": "bearer"}}
    assert doc["paths"]["/v1/artifacts"]["get"]["security"] == [{"bearer": []}]
    assert "security" not in doc["paths"]["/healthz"]["get"]
    assert "securitySchemes" not in client.get("/openapi.json").json().get("components", {})


def test_without_a_tokens_file_one_local_user_sees_everything(
    client: Client, make_model: object
) -> None:
    from tests.service.conftest import MakeModel

    assert callable(make_model)
    make: MakeModel = make_model  # type: ignore[assignment]
    mid = make(owner="someone-else", visibility="private").artifact.id
    assert client.get(f"/sim/models/{mid}").status_code == 200
    assert (
        client.get(f"/sim/models/{mid}", headers={"Authorization": "Bearer x"}).status_code == 200
    )


def test_the_page_signs_in_with_a_cookie(secured: Client) -> None:
    page = secured.get("/")
    assert page.status_code == 401
    assert 'action="/session"' in page.text and "Sign in" in page.text

    wrong = secured.post("/session", data={"token": "wrong-wrong-wrong-wrong"})
    assert wrong.status_code == 401
    assert "That token is not valid. Ask the operator of this service for one." in wrong.text

    signed = secured.post("/session", data={"token": TOKEN_OF["alice"]})
    assert signed.status_code == 303 and signed.headers["location"] == "/"
    cookie = signed.headers["set-cookie"]
    assert cookie.startswith(f"{SESSION_COOKIE}=") and "HttpOnly" in cookie
    assert "SameSite=strict" in cookie and "Path=/" in cookie
    secured.forget_cookies()  # send the cookie explicitly from here on
    jar = {"Cookie": f"{SESSION_COOKIE}={TOKEN_OF['alice']}"}
    home = secured.get("/", headers=jar)
    assert home.status_code == 200 and "alice" in home.text and "Sign out" in home.text
    assert secured.get("/v1/artifacts", headers=jar).status_code == 200

    same_origin = {**jar, "Origin": "http://testserver"}
    created = secured.post("/sim/new", json={"template": "checkout"}, headers=same_origin)
    assert created.status_code == 201
    doc = problem(
        secured.post(
            "/sim/new",
            json={"template": "checkout"},
            headers={**jar, "Origin": "https://evil.example"},
        ),
        403,
        "origin",
    )
    assert doc["detail"] == (
        "a signed-in page may only send requests from its own origin; "
        "other clients send 'Authorization: Bearer <token>'"
    )
    problem(secured.post("/sim/new", json={"template": "checkout"}, headers=jar), 403, "origin")

    out = secured.post("/session/end", headers=jar)
    assert out.status_code == 303 and f'{SESSION_COOKIE}=""' in out.headers["set-cookie"]


def test_signing_in_without_tokens_goes_home(client: Client) -> None:
    response = client.post("/session", data={"token": "whatever-whatever"})
    assert response.status_code == 303 and response.headers["location"] == "/"
