"""The storage contract (flowtime_sim.storage.Storage), for every backend.

Each test runs against the local ``file`` backend and against ``s3`` on a loopback moto server.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import pytest
from kit import Backend

from flowtime_sim.canonical import file_hash
from flowtime_sim.registry import Query
from flowtime_sim.registry.catalog import dump_catalog
from flowtime_sim.registry.ledger import entry, record_key
from flowtime_sim.types import ParameterSources


def _storage(backend: Backend):  # type: ignore[no-untyped-def]
    return backend.flowtime().registry().storage


def test_publish_is_visible_at_once_and_never_clobbered(backend: Backend) -> None:
    storage = _storage(backend)
    first = {"model.yaml": b"first\n", "catalog.json": b'{"n": 1}\n'}
    assert storage.publish("models/m/v1", first)
    assert storage.read("models/m/v1/model.yaml") == b"first\n"
    assert storage.exists("models/m/v1") and storage.exists("models/m/v1/catalog.json")
    assert not storage.exists("models/m/v2") and not storage.exists("models/m/v1/nothing")
    assert storage.children("models/m") == ["v1"]
    assert storage.children("models/m/v1") == ["catalog.json", "model.yaml"]
    assert storage.children("models/absent") == []
    # a second writer of the same folder is refused and changes nothing
    assert not storage.publish("models/m/v1", {"model.yaml": b"second\n", "other.txt": b"x"})
    assert storage.read("models/m/v1/model.yaml") == b"first\n"
    assert storage.children("models/m/v1") == ["catalog.json", "model.yaml"]
    with pytest.raises(KeyError):
        storage.read("models/m/v1/other.txt")
    with pytest.raises(KeyError):
        storage.read("models/m/v9/model.yaml")
    assert [key for key, _ in storage.walk_catalogs()] == ["models/m/v1/catalog.json"]


def test_put_if_absent_creates_once(backend: Backend) -> None:
    storage = _storage(backend)
    assert storage.put_if_absent("tombstones/runs/r1", b"one")
    assert not storage.put_if_absent("tombstones/runs/r1", b"two")
    assert storage.read("tombstones/runs/r1") == b"one"
    assert storage.children("tombstones/runs") == ["r1"]


def test_keys_that_would_leave_the_root_are_refused(backend: Backend) -> None:
    from flowtime_sim.errors import UserError

    storage = _storage(backend)
    for key in ("../x", "models/../../x", "models//x", "a\\b", "models/./x"):
        with pytest.raises(UserError, match=r"refusing the storage key .* it would leave the root"):
            storage.read(key)


def test_thirty_concurrent_creators_of_one_model_make_one_v1(backend: Backend) -> None:
    def create(_: int) -> tuple[str, int, bool]:
        ft = backend.flowtime()
        try:
            r = ft.create_model("tiny", ParameterSources(sets={"level": 7}))
            return r.artifact.id, r.artifact.version, r.unchanged
        finally:
            ft.close()

    with ThreadPoolExecutor(30) as pool:
        results = list(pool.map(create, range(30)))
    assert {(i, v) for i, v, _ in results} == {(results[0][0], 1)}
    assert sum(not unchanged for *_, unchanged in results) == 1
    model_id = results[0][0]
    files = [k for k in backend.stored_keys() if k.startswith(f"models/{model_id}/")]
    assert sorted(
        k.rsplit("/", 1)[1] for k in files if not k.rsplit("/", 1)[1].startswith(".")
    ) == ["catalog.json", "model.yaml", "preview.svg"]
    assert all(k.startswith(f"models/{model_id}/v1/") for k in files)
    assert not [k for k in backend.stored_keys() if k.startswith((".staging/", "_staging/"))]


def test_a_retried_creation_never_makes_a_second_version(backend: Backend) -> None:
    ft = backend.flowtime()
    first = ft.create_model("tiny")
    again = ft.create_model("tiny")
    assert again.unchanged and again.artifact.ref == first.artifact.ref
    assert [v.version for v in ft.versions(first.artifact.id)] == [1]
    assert not _storage(backend).publish(first.artifact.key, {"catalog.json": b"{}"})
    assert [v.version for v in ft.versions(first.artifact.id)] == [1]


def test_listing_pages_past_a_thousand_keys(backend: Backend) -> None:
    folders = {}
    for i in range(1050):
        catalog = {
            "kind": "run",
            "id": f"bulk-run_{i:08x}",
            "model_id": "bulk_00000000",
            "created_utc": f"2025-01-01T00:{i // 60 % 60:02d}:{i % 60:02d}Z",
            "files": {"binned_v0.csv": file_hash(b"x")},
            "tags": [],
        }
        folders[f"runs/{catalog['id']}"] = {
            "binned_v0.csv": b"x",
            "catalog.json": dump_catalog(catalog),
        }
    backend.inject_folders(folders)
    backend.inject_files(
        {record_key(key): entry(files["catalog.json"]) for key, files in folders.items()}
    )
    ft = backend.flowtime()
    storage = ft.registry().storage
    assert len(storage.children("runs")) == 1050
    walked = [key for key, _ in storage.walk_catalogs()]
    assert walked == sorted(f"{k}/catalog.json" for k in folders)
    assert ft.registry().reindex() == 1050
    seen, cursor = [], None
    while True:
        page = ft.list(Query(kind="run", limit=400, cursor=cursor))
        assert page.total == 1050
        seen += [c["id"] for c in page.items]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) == 1050
    assert ft.registry().verify() == (1050, [])


def test_verify_names_a_tampered_file(backend: Backend) -> None:
    ft = backend.flowtime()
    art = ft.create_model("tiny").artifact
    registry = ft.registry()
    assert registry.verify() == (1, [])
    tampered = b"schemaVersion: 1\n"
    backend.overwrite(f"{art.key}/model.yaml", tampered)
    checked, problems = registry.verify()
    assert checked == 1
    assert problems == [
        f"{art.key}/model.yaml: hash {file_hash(tampered)} does not match the "
        f"catalog's {art.catalog['files']['model.yaml']}"
    ]


def test_soft_delete_hides_and_gc_purges(backend: Backend) -> None:
    ft = backend.flowtime()
    art = ft.create_model("tiny").artifact
    assert ft.delete(art.id) == [art.key]
    assert ft.list(Query()).total == 0
    assert ft.registry().gc(3600) == []
    assert _storage(backend).exists(art.key)
    assert ft.registry().gc(-(10**9)) == [art.key]
    assert not _storage(backend).exists(art.key)
    assert not [k for k in backend.stored_keys() if k.startswith(art.key + "/")]


def test_reindex_matches_the_incremental_index(backend: Backend) -> None:
    ft = backend.flowtime()
    ft.create_model("tiny", name="A")
    model = ft.create_model("tiny", name="B", tags=["x"]).artifact
    ft.run_model(model.id)
    registry = ft.registry()
    before = registry.index.listing_snapshot()
    assert registry.reindex() == 3
    assert registry.index.listing_snapshot() == before
    catalogs = {json.loads(raw)["id"] for _, raw in registry.storage.walk_catalogs()}
    assert len(catalogs) == 3
