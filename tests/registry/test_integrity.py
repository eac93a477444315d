"""verify accounts for every byte of a published folder, catalogs included, and for every
folder the ledger says was published; reindex refuses to list a catalog that was changed."""

from __future__ import annotations

import json
import random
import shutil
from pathlib import Path

import pytest

from flowtime_sim.canonical import file_hash
from flowtime_sim.registry import Query
from flowtime_sim.types import ParameterSources


def _catalog(root: Path, key: str) -> Path:
    return root / key / "catalog.json"


def test_every_single_byte_flip_of_a_catalog_is_found(ft, root: Path) -> None:
    art = ft.create_model("tiny").artifact
    registry = ft.registry()
    path = _catalog(root, art.key)
    original = path.read_bytes()
    rng = random.Random(20261204)
    found = still_json = 0
    for _ in range(200):
        data = bytearray(original)
        at = rng.randrange(len(data))
        data[at] = rng.choice([b for b in range(256) if b != data[at]])
        path.write_bytes(bytes(data))
        try:
            json.loads(bytes(data))
            still_json += 1
        except ValueError:
            pass
        checked, problems = registry.verify()
        assert checked == 1
        found += any(p.startswith(f"{art.key}/catalog.json: ") for p in problems)
    path.write_bytes(original)
    assert found == 200
    assert still_json > 0  # flips that leave valid JSON were among them
    assert registry.verify() == (1, [])


def test_every_flip_that_keeps_a_catalog_valid_json_is_found(ft, root: Path) -> None:
    art = ft.create_model("tiny").artifact
    registry = ft.registry()
    path = _catalog(root, art.key)
    original = path.read_bytes()
    alnum = b"abcdefghijklmnopqrstuvwxyz0123456789"
    spots = [i for i, b in enumerate(original) if b in alnum]
    rng = random.Random(7)
    found = 0
    for _ in range(200):
        while True:  # a letter or digit changed for another, as long as the JSON stays valid
            data = bytearray(original)
            at = rng.choice(spots)
            data[at] = rng.choice([b for b in alnum if b != data[at]])
            try:
                json.loads(bytes(data))
                break
            except ValueError:
                continue
        path.write_bytes(bytes(data))
        found += any(p.startswith(f"{art.key}/catalog.json: ") for p in registry.verify()[1])
    assert found == 200


def test_a_catalog_made_public_is_found_and_not_reindexed(ft, root: Path) -> None:
    art = ft.create_model("tiny").artifact
    path = _catalog(root, art.key)
    tampered = path.read_bytes().replace(b'"visibility":"private"', b'"visibility":"public"')
    path.write_bytes(tampered)
    registry = ft.registry()
    _, problems = registry.verify()
    recorded = json.loads((root / "ledger" / art.key).read_text())["catalog"]
    assert problems == [
        f"{art.key}/catalog.json: hash {file_hash(tampered)} does not match the "
        f"one recorded at publication ({recorded} in ledger/{art.key})"
    ]
    refused: list[str] = []
    assert registry.reindex(refused=refused) == 0
    assert refused == problems
    assert ft.list(Query()).total == 0


def test_missing_catalogs_folders_and_records_are_found(ft_versions, root: Path) -> None:
    ft = ft_versions
    v1 = ft.create_model("tiny", version="1.0.0").artifact
    v2 = ft.create_model("tiny", version="1.1.0").artifact
    other = ft.create_model("tiny", ParameterSources(sets={"level": 3})).artifact
    run = ft.run_model(other.id).artifact
    registry = ft.registry()
    assert registry.verify() == (4, [])
    _catalog(root, v1.key).unlink()
    shutil.rmtree(root / v2.key)
    shutil.rmtree(root / "models" / other.id)
    (root / run.key / "extra.txt").write_text("x")
    checked, problems = registry.verify()
    assert checked == 2
    assert sorted(problems) == sorted(
        [  # reported in key order; ids depend on the hash
            f"{v1.key}/catalog.json: missing",
            f"{run.key}/extra.txt: not listed in its catalog",
            f"{v2.key}: missing (published, recorded in ledger/{v2.key}, never deleted)",
            f"{other.key}: missing (published, recorded in ledger/{other.key}, never deleted)",
        ]
    )


def test_a_missing_or_changed_ledger_record_is_found(ft, root: Path) -> None:
    a = ft.create_model("tiny").artifact
    b = ft.create_model("tiny", ParameterSources(sets={"level": 3})).artifact
    (root / "ledger" / a.key).unlink()
    (root / "ledger" / b.key).write_text('{"catalog": 1}')
    _, problems = ft.registry().verify()
    assert sorted(problems) == sorted(
        [
            f"{a.key}/catalog.json: not recorded at publication (ledger/{a.key} is missing)",
            f"ledger/{b.key}: unreadable",
        ]
    )


def test_deleted_and_purged_versions_are_not_missing(ft, root: Path) -> None:
    art = ft.create_model("tiny").artifact
    ft.delete(art.id)
    registry = ft.registry()
    assert registry.gc(-1) == [art.key]
    assert registry.verify() == (0, [])


def test_a_writer_that_died_before_its_record_is_recorded_by_the_next_process(
    ft, root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from worker import make

    from flowtime_sim.registry import ledger

    with monkeypatch.context() as patched:
        patched.setattr(ledger, "record", lambda *args: None)  # dies right after publishing
        art = ft.create_model("tiny").artifact
    registry = ft.registry()
    registry.index.begin(art.key, 0.0)  # as the dead writer left it: pending
    assert not (root / "ledger" / art.key).exists()
    later = make(str(root))
    try:
        assert later.list(Query()).total == 1
        assert later.registry().verify() == (1, [])
    finally:
        later.close()


@pytest.mark.parametrize("text", ["{not json", "[]", '{"kind": "model"}'])
def test_verify_names_an_unreadable_catalog(ft, root: Path, text: str) -> None:
    art = ft.create_model("tiny").artifact
    _catalog(root, art.key).write_text(text)
    _, problems = ft.registry().verify()
    assert len(problems) == 1
    assert problems[0].startswith(f"{art.key}/catalog.json: unreadable (")


def test_a_root_from_before_the_ledger_is_adopted_by_reindex(ft, root: Path) -> None:
    a = ft.create_model("tiny").artifact
    b = ft.create_model("tiny", ParameterSources(sets={"level": 3})).artifact
    ft.delete(b.id)
    shutil.rmtree(root / "ledger")  # as an older flowtime-sim left it: no ledger at all
    registry = ft.registry()
    _, problems = registry.verify()
    assert sorted(problems) == sorted(
        f"{k}/catalog.json: not recorded at publication (ledger/{k} is missing)"
        for k in (a.key, b.key)
    )
    refused: list[str] = []
    assert registry.reindex(refused=refused) == 1 and refused == []
    assert registry.verify() == (2, [])  # every catalog recorded as found, the deleted too
    # once a root has a ledger, a catalog without its record is refused, never adopted
    (root / "ledger" / a.key).unlink()
    assert registry.reindex(refused=refused) == 0
    assert refused == [
        f"{a.key}/catalog.json: not recorded at publication (ledger/{a.key} is missing)"
    ]
