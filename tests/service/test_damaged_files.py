"""Damaged files never turn into a 500: a corrupt listing index rebuilds itself, and a damaged
catalog is left out of listings and the page and answers 404 on its own paths."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from flowtime_sim.core import Flowtime
from tests.service.conftest import Client, MakeModel, problem


def test_a_corrupt_index_is_rebuilt_behind_every_read(
    client: Client,
    make_model: MakeModel,
    artifacts_root: Path,
    ft: Flowtime,
    capsys: pytest.CaptureFixture[str],
) -> None:
    made = make_model(name="shop").artifact
    ft.close()  # the service's own registry opens the index again, damaged
    (artifacts_root / ".index" / "registry.sqlite").write_bytes(os.urandom(3000))
    listing = client.get("/v1/artifacts")
    assert listing.status_code == 200
    assert [a["id"] for a in listing.json()["artifacts"]] == [made.id]
    assert (
        f"rebuilt the listing index of {artifacts_root}: it was corrupt (1 artifact)"
        in capsys.readouterr().err
    )
    page = client.get("/")
    assert page.status_code == 200 and made.id in page.text


def test_a_damaged_catalog_costs_only_its_artifact(
    client: Client,
    make_model: MakeModel,
    artifacts_root: Path,
    ft: Flowtime,
    capsys: pytest.CaptureFixture[str],
) -> None:
    good = make_model(name="good").artifact
    bad = make_model(name="bad").artifact
    ft.run_model(bad.id)
    (artifacts_root / bad.key / "catalog.json").write_text("{not json")
    capsys.readouterr()
    listing = client.get("/v1/artifacts", params={"kind": "model"})
    assert listing.status_code == 200
    assert [a["id"] for a in listing.json()["artifacts"]] == [good.id]
    assert capsys.readouterr().err == (
        f"warning: skipped {bad.key}: its catalog.json is not "
        "valid JSON (see 'flowtime-sim verify')\n"
    )
    page = client.get("/")
    assert page.status_code == 200
    assert good.id in page.text and f'href="/models/{bad.id}' not in page.text
    for path in (
        f"/sim/models/{bad.id}",
        f"/sim/models/{bad.id}/v1",
        f"/v1/artifacts/{bad.id}",
        f"/sim/models/{bad.id}/versions",
    ):
        problem(client.get(path), 404)
    problem(client.post("/sim/run", json={"model_id": bad.id}), 404)
    assert client.get(f"/sim/models/{good.id}").status_code == 200
