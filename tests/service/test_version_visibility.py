"""A new version of a model may not hide it from anyone who can already see it.

The same request against a newer template version becomes the next version of the same model,
whoever sends it. Were that version narrower than the ones before, the model would vanish from
other callers' listings (a listing shows each model's newest version) and its owner would be
locked out of their own id. The rule lives in ``flowtime_sim.registry.visibility``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from flowtime_sim.core import Flowtime
from flowtime_sim.service import create_app
from tests.registry.worker import make
from tests.service.conftest import Client, bearer, problem


@pytest.fixture
def tiny(artifacts_root: Path, tokens_file: Path) -> Iterator[Client]:
    """A service with tokens over the tiny template at versions 1.0.0 … 1.40.0, which share
    their parameters: every version of one request lands on one model id."""
    flowtime: Flowtime = make(str(artifacts_root), many_versions=True)
    client = Client(create_app(flowtime, tokens_file=tokens_file))
    yield client
    client.close()
    flowtime.close()


def _new(client: Client, who: str, version: str, visibility: str | None = None) -> Any:
    body: dict[str, Any] = {"template": "tiny", "version": version}
    if visibility is not None:
        body["visibility"] = visibility
    return client.post("/sim/new", json=body, headers=bearer(who))


def _listed(client: Client, who: str) -> list[tuple[str, int, str]]:
    items = client.get("/v1/artifacts", headers=bearer(who)).json()["artifacts"]
    return [(a["id"], a["version"], a["visibility"]) for a in items]


def test_another_user_cannot_hide_a_public_model(tiny: Client) -> None:
    first = _new(tiny, "alice", "1.0.0", "public")
    assert first.status_code == 201
    model_id = first.json()["model_id"]
    doc = problem(_new(tiny, "carol", "1.1.0", "private"), 409, field="visibility")
    assert doc["detail"] == (
        f"{model_id}@v1 by alice is public: a new version of {model_id} "
        "must be seen by everyone who sees it, so it must be public (not "
        "private); choose another name for a separate model"
    )
    for who in ("alice", "bob", "carol", "dave"):
        assert _listed(tiny, who) == [(model_id, 1, "public")]
    # without a visibility, carol's version takes the model's: everyone still sees it
    second = _new(tiny, "carol", "1.1.0")
    assert second.status_code == 201 and second.json()["version"] == 2
    for who in ("alice", "bob", "carol", "dave"):
        assert _listed(tiny, who) == [(model_id, 2, "public")]
    # and alice is not locked out of her model
    third = _new(tiny, "alice", "1.2.0")
    assert third.status_code == 201 and third.json()["version"] == 3


def test_a_team_model_takes_new_versions_only_from_its_owner_or_in_public(tiny: Client) -> None:
    model_id = _new(tiny, "alice", "1.0.0", "team").json()["model_id"]
    doc = problem(_new(tiny, "bob", "1.1.0", "team"), 409, field="visibility")
    assert doc["detail"].startswith(f"{model_id}@v1 by alice is team: ")
    assert doc["detail"].endswith(
        "so it must be public (not team); choose another name for a separate model"
    )
    assert _new(tiny, "alice", "1.1.0").json()["version"] == 2  # inherits team
    assert _listed(tiny, "bob") == [(model_id, 2, "team")]
    assert _listed(tiny, "carol") == []
    # dave sees none of it: the id is taken by a model he cannot see
    problem(_new(tiny, "dave", "1.2.0", "public"), 409, field="name")


def test_an_owner_cannot_narrow_their_own_model(tiny: Client) -> None:
    model_id = _new(tiny, "alice", "1.0.0", "public").json()["model_id"]
    doc = problem(_new(tiny, "alice", "1.1.0", "team"), 409, field="visibility")
    assert doc["detail"] == (
        f"{model_id}@v1 is public: a new version of {model_id} must be "
        "seen by everyone who sees it, so it must be public (not team); "
        "choose another name for a separate model"
    )
    created = _new(tiny, "alice", "1.1.0")
    assert created.status_code == 201
    assert _listed(tiny, "carol") == [(model_id, 2, "public")]


def test_a_private_model_stays_private_by_default(tiny: Client) -> None:
    model_id = _new(tiny, "alice", "1.0.0").json()["model_id"]
    assert _new(tiny, "alice", "1.1.0").json()["version"] == 2
    assert _listed(tiny, "alice") == [(model_id, 2, "private")]
    assert _new(tiny, "alice", "1.2.0", "public").json()["version"] == 3  # widening is fine
    assert _listed(tiny, "carol") == [(model_id, 3, "public")]
