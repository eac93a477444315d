"""A cursor that decodes to numbers SQLite cannot hold is a 400 naming the cursor, not a 500."""

from __future__ import annotations

import base64
import html
import json

import pytest

from tests.service.conftest import Client, MakeModel, problem


def cursor_of(row: list[object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(row).encode()).decode().rstrip("=")


HUGE = cursor_of(["2026-01-01T00:00:00Z", "model", "x_12345678", 10**30])
NEGATIVE = cursor_of(["2026-01-01T00:00:00Z", "model", "x_12345678", -(2**70)])


def message(cursor: str) -> str:
    return f"invalid cursor {cursor[:40]!r}; pass the next_cursor of a previous page"


@pytest.mark.parametrize("cursor", [HUGE, NEGATIVE])
def test_a_cursor_out_of_range_is_a_problem_naming_it(
    client: Client, make_model: MakeModel, cursor: str
) -> None:
    make_model()
    doc = problem(client.get("/v1/artifacts", params={"cursor": cursor}), 400, "cursor")
    assert doc["detail"] == message(cursor)


@pytest.mark.parametrize("cursor", [HUGE, NEGATIVE])
def test_the_page_answers_a_cursor_out_of_range_with_its_error_page(
    client: Client, make_model: MakeModel, cursor: str
) -> None:
    make_model()
    response = client.get("/", params={"cursor": cursor})
    assert response.status_code == 400
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert message(cursor) in html.unescape(response.text)
