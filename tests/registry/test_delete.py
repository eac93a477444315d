"""Soft delete: hidden at once, purged by gc after the grace period, refused while runs
reference a model unless forced."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from flowtime_sim.errors import ConflictError, NotFoundError
from flowtime_sim.registry import Query
from flowtime_sim.types import ParameterSources


def _age_tombstones(root: Path, seconds: int) -> None:
    for stone in (root / "tombstones").rglob("*"):
        if stone.is_file():
            data = json.loads(stone.read_text())
            data["deleted_utc"] = "2000-01-01T00:00:00Z"
            stone.write_text(json.dumps(data))


def test_deleting_a_version_hides_it_and_gc_purges_it(ft_versions, root: Path) -> None:
    ft = ft_versions
    ft.create_model("tiny", version="1.0.0")
    model_id = ft.create_model("tiny", version="1.1.0").artifact.id
    assert ft.delete(f"{model_id}@v2") == [f"models/{model_id}/v2"]
    assert [v.version for v in ft.versions(model_id)] == [1]
    assert ft.model(model_id).version == 1
    assert [c["version"] for c in ft.list(Query()).items] == [1]
    with pytest.raises(
        NotFoundError,
        match=f"model {model_id} has no version 2 "
        r"\(versions: v1\)",
    ):
        ft.model(f"{model_id}@v2")
    assert ft.registry().reindex() == 1
    assert ft.registry().gc(3600) == []
    assert (root / "models" / model_id / "v2").exists()
    _age_tombstones(root, 7200)
    assert ft.registry().gc(3600) == [f"models/{model_id}/v2"]
    assert not (root / "models" / model_id / "v2").exists()
    assert ft.registry().gc(3600) == []
    # a purged number is never reused: the next version is v3
    assert ft.create_model("tiny", version="1.2.0").artifact.version == 3


def test_model_with_runs_needs_force(ft) -> None:
    model = ft.create_model("tiny").artifact
    run = ft.run_model(model.id).artifact
    with pytest.raises(
        ConflictError,
        match=rf"{model.id} is referenced by 1 run\(s\) "
        rf"\({run.id}\); delete those first or pass --force",
    ):
        ft.delete(model.id)
    assert ft.delete(run.id) == [f"runs/{run.id}"]
    with pytest.raises(NotFoundError, match=f"no run '{run.id}'"):
        ft.registry().run(run.id)
    assert ft.delete(model.id) == [f"models/{model.id}/v1"]
    with pytest.raises(NotFoundError, match=f"no model '{model.id}'"):
        ft.model(model.id)
    assert ft.list(Query()).total == 0


def test_force_deletes_a_referenced_model(ft) -> None:
    model = ft.create_model("tiny", ParameterSources(sets={"level": 3})).artifact
    ft.run_model(model.id)
    assert ft.delete(model.id, force=True) == [f"models/{model.id}/v1"]
    assert ft.list(Query(kind="model")).total == 0
    assert ft.list(Query(kind="run")).total == 1
    assert os.path.exists(ft.registry().storage.index_path())
