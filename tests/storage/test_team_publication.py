"""Publication through the PostgreSQL index (reserve → upload → visible), with a crash injected
at each step, then the sweeper; on a local folder and on a bucket."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from kit import Backend

from flowtime_sim.errors import ConflictError
from flowtime_sim.registry import Query
from flowtime_sim.registry import publication as publication_module
from flowtime_sim.registry.publication import TeamRegistry
from flowtime_sim.types import ParameterSources


class Crash(BaseException):
    """The process dies here: no cleanup runs after it."""


@pytest.fixture(params=["file", "s3"])
def team(request: pytest.FixtureRequest, tmp_path: Path, pg_url: str) -> Backend:
    if request.param == "file":
        return Backend("file", str(tmp_path / "root"), tmp_path / "cache", index=pg_url)
    server = request.getfixturevalue("s3_env")
    bucket = server.create_bucket(f"team-{secrets.token_hex(6)}")
    return Backend("s3", f"s3://{bucket}/root", tmp_path / "cache", server, bucket, index=pg_url)


def _registry(team: Backend) -> tuple[Any, TeamRegistry]:
    ft = team.flowtime()
    registry = ft.registry()
    assert isinstance(registry, TeamRegistry)
    return ft, registry


def _dies_after_reservation(monkeypatch: pytest.MonkeyPatch, registry: TeamRegistry) -> None:
    def upload(*_: object) -> bool:
        raise Crash

    monkeypatch.setattr(publication_module, "upload", upload)


def _dies_mid_upload(monkeypatch: pytest.MonkeyPatch, registry: TeamRegistry) -> None:
    real = publication_module.upload

    def upload(storage: Any, key: str, files: dict[str, Any]) -> bool:
        real(storage, key, {"model.yaml": files["model.yaml"]})  # one file made it
        raise Crash

    monkeypatch.setattr(publication_module, "upload", upload)


def _dies_before_visible(monkeypatch: pytest.MonkeyPatch, registry: TeamRegistry) -> None:
    def mark_visible(*_: object, **__: object) -> bool:
        raise Crash

    monkeypatch.setattr(registry.team_index, "mark_visible", mark_visible)


def _dies_after_visible(monkeypatch: pytest.MonkeyPatch, registry: TeamRegistry) -> None:
    real = registry.team_index.mark_visible

    def mark_visible(*args: Any, **kwargs: Any) -> bool:
        real(*args, **kwargs)
        raise Crash

    monkeypatch.setattr(registry.team_index, "mark_visible", mark_visible)


STEPS: dict[str, Callable[[pytest.MonkeyPatch, TeamRegistry], None]] = {
    "after-reservation": _dies_after_reservation,
    "mid-upload": _dies_mid_upload,
    "before-visible": _dies_before_visible,
    "after-visible": _dies_after_visible,
}


@pytest.mark.parametrize("step", list(STEPS))
def test_a_crash_at_each_step_never_shows_a_version_without_its_bytes(
    team: Backend, step: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    ft, registry = _registry(team)
    with monkeypatch.context() as patch:
        patch.setattr(registry, "_give_up", lambda *_: None)  # a dead process cleans nothing
        STEPS[step](patch, registry)
        with pytest.raises(Crash):
            ft.create_model("tiny", ParameterSources(sets={"level": 3}))
    listed = [(c["id"], c["version"]) for c in ft.list(Query(all_versions=True)).items]
    shown = step == "after-visible"
    assert len(listed) == int(shown)
    assert registry.verify()[1] == []
    # the sweeper: pending rows of crashed writers become failures, their bytes go
    swept = registry.gc(0)
    assert registry.gc(0) == []  # once gone, nothing more to remove
    checked, problems = registry.verify()
    assert problems == []
    assert checked == int(shown)
    model_keys = [k for k in team.stored_keys() if k.startswith("models/")]
    if shown:
        assert {k.rsplit("/", 1)[1] for k in model_keys} >= {
            "catalog.json",
            "model.yaml",
            "preview.svg",
        }
    else:
        assert model_keys == []
        assert swept == ([] if step == "after-reservation" else [model_keys_of(swept)])
    # the next creation takes a fresh number: a failed one is never reused
    again = ft.create_model("tiny", ParameterSources(sets={"level": 3}))
    assert again.unchanged is shown
    assert again.artifact.version == 1 if shown else again.artifact.version == 2
    assert registry.verify() == (1, [])
    ft.close()


def model_keys_of(swept: list[str]) -> str:
    """The one model version folder among what gc removed (staging names aside)."""
    [key] = [k for k in swept if k.startswith("models/")]
    return key


def test_a_late_writer_cannot_revive_a_swept_version(
    team: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    ft, registry = _registry(team)
    real = registry.team_index.mark_visible

    def swept_while_uploading(*args: Any, **kwargs: Any) -> bool:
        registry.team_index.sweep(0)  # gc ran while this writer was uploading
        return real(*args, **kwargs)

    monkeypatch.setattr(registry.team_index, "mark_visible", swept_while_uploading)
    with pytest.raises(ConflictError) as caught:
        ft.create_model("tiny")
    assert str(caught.value).endswith(
        "took longer than gc's grace period and gc gave it up; try again"
    )
    assert ft.list(Query()).total == 0
    assert [k for k in team.stored_keys() if k.startswith("models/")] == []
    [row] = registry.team_index.rows("model", str(caught.value).split("/")[1])
    assert row.state == "failed"
    monkeypatch.undo()
    assert ft.create_model("tiny").artifact.version == 2


def test_deleted_versions_keep_their_numbers_through_gc_and_reindex(team: Backend) -> None:
    ft, registry = _registry(team)
    first = ft.create_model("tiny").artifact
    assert ft.delete(first.ref) == [first.key]
    assert registry.gc(0) == [first.key]
    assert not [k for k in team.stored_keys() if k.startswith(first.key + "/")]
    assert registry.reindex() == 0
    second = ft.create_model("tiny").artifact
    assert (second.id, second.version) == (first.id, 2)
    assert [v.version for v in ft.versions(first.id)] == [2]


def test_reads_of_a_version_come_from_the_index(team: Backend) -> None:
    ft, registry = _registry(team)
    model = ft.create_model("tiny", tags=["east"]).artifact
    stored = registry.storage.read(f"{model.key}/catalog.json")
    assert registry.read_file(model, "catalog.json") == stored
    assert ft.artifact(model.ref).catalog == model.catalog
    with pytest.raises(Exception, match=f"model {model.id} has no version 7 \\(versions: v1\\)"):
        ft.model(f"{model.id}@v7")


def test_reindex_migrates_a_bucket_written_with_the_journal_design(
    s3_env: Any, pg_url: str, tmp_path: Path
) -> None:
    """Folders committed with markers, a tombstone and the old journal's entries: reindex
    turns them into the PostgreSQL index, and creation goes on from the stored numbers."""
    import json

    from flowtime_sim.canonical import file_hash
    from flowtime_sim.registry.catalog import dump_catalog

    bucket = s3_env.create_bucket(f"journal-{secrets.token_hex(6)}")
    old = Backend("s3", f"s3://{bucket}/root", tmp_path / "cache", s3_env, bucket)
    before = old.flowtime()  # the SQLite index: how the journal design's machines wrote
    model = before.create_model("tiny").artifact
    gone = before.create_model("tiny", ParameterSources(sets={"level": 2})).artifact
    before.delete(gone.id)
    catalog = {
        "kind": "run",
        "id": "old-run_00000001",
        "model_id": model.id,
        "created_utc": "2025-01-01T00:00:00Z",
        "files": {"binned_v0.csv": file_hash(b"x")},
        "tags": [],
    }
    old.inject_folders(
        {"runs/old-run_00000001": {"binned_v0.csv": b"x", "catalog.json": dump_catalog(catalog)}}
    )
    s3_env.put_direct(
        bucket,
        {
            "root/_journal/00000000001.000001-abc.json": json.dumps(
                {"key": f"{model.key}/catalog.json", "data": "{}"}
            ).encode()
        },
    )
    # the journal design recorded no catalog hashes: no ledger/ at all
    for key in [k for k, _ in before.registry().storage.walk_catalogs()]:
        before.registry().storage.remove(f"ledger/{key.removesuffix('/catalog.json')}")
    before.close()
    team = Backend("s3", old.root, tmp_path / "other-cache", s3_env, bucket, index=pg_url)
    ft, registry = _registry(team)
    assert ft.list(Query()).total == 0
    assert registry.reindex() == 2  # the root is adopted: its catalogs recorded as found
    assert {c["id"] for c in ft.list(Query()).items} == {model.id, "old-run_00000001"}
    assert ft.artifact(model.ref).catalog == model.catalog
    assert registry.verify() == (3, [])  # the deleted version's files are still stored
    # the deleted model's number stays taken; the next version of the kept one is v2
    again = ft.create_model("tiny", ParameterSources(sets={"level": 2})).artifact
    assert (again.id, again.version) == (gone.id, 2)
    later = ft.create_model("tiny", ParameterSources(sets={"level": 10})).artifact
    assert later.ref == model.ref


def test_the_kept_count_follows_creation_deletion_and_reindex(team: Backend) -> None:
    ft, registry = _registry(team)
    a = ft.create_model("tiny").artifact
    ft.create_model("tiny", ParameterSources(sets={"level": 2}))
    run = ft.run_model(a.id).artifact

    def totals() -> tuple[int, int, int, int]:
        # unfiltered (the kept count) against a filter that counts the rows themselves
        return (
            ft.list(Query()).total,
            ft.list(Query(kind="model")).total,
            ft.list(Query(kind="run")).total,
            ft.list(Query(text="tiny")).total,
        )

    assert totals() == (3, 2, 1, 3)
    ft.delete(run.id)
    assert totals() == (2, 2, 0, 2)
    ft.delete(a.id)
    assert totals() == (1, 1, 0, 1)
    assert registry.reindex() == 1
    assert totals() == (1, 1, 0, 1)


def test_reading_a_version_asks_the_bucket_for_the_file_only(
    s3_env: Any, pg_url: str, tmp_path: Path
) -> None:
    bucket = s3_env.create_bucket(f"reads-{secrets.token_hex(6)}")
    team = Backend("s3", f"s3://{bucket}/root", tmp_path / "cache", s3_env, bucket, index=pg_url)
    model = team.flowtime().create_model("tiny").artifact
    ft = team.flowtime()  # another machine: nothing cached
    storage = ft.registry().storage
    sent: list[str] = []
    storage.bucket.client.meta.events.register(
        "before-send.s3", lambda request, **_: sent.append(f"{request.method} {request.url}")
    )
    shown = ft.artifact(model.id)
    assert [v.version for v in ft.versions(model.id)] == [1]
    assert ft.list(Query()).total == 1
    served = ft.read_file(shown, "catalog.json")
    assert sent == []  # listing, showing and the catalog come from the index
    assert served == storage.read(f"{model.key}/catalog.json")
    sent.clear()
    ft.read_file(shown, "model.yaml")
    assert len(sent) == 1 and sent[0].startswith("GET ")
    assert sent[0].endswith(f"/root/{model.key}/model.yaml")
