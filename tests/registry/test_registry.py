"""Model artifacts: creation, ids, versions, derive, listing, verify, gc, reindex."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml

from flowtime_sim.canonical import canonical_hash
from flowtime_sim.errors import ConflictError, IntegrityError, NotFoundError, UserError
from flowtime_sim.registry import Query
from flowtime_sim.registry.catalog import catalog_schema
from flowtime_sim.types import ParameterSources

SETS = ParameterSources


def test_new_writes_the_three_files_and_a_complete_catalog(ft, root: Path) -> None:
    created = ft.create_model("tiny", name="Tiny Baseline", tags=["demo"])
    art = created.artifact
    assert not created.unchanged
    assert art.id.startswith("tiny-baseline_") and len(art.id) == len("tiny-baseline_") + 8
    folder = root / "models" / art.id / "v1"
    assert sorted(p.name for p in folder.iterdir()) == ["catalog.json", "model.yaml", "preview.svg"]
    catalog = json.loads((folder / "catalog.json").read_text())
    jsonschema.Draft202012Validator(catalog_schema()).validate(catalog)
    params = {"level": 10, "bins": 4, "label": "plain"}
    assert catalog["parameters"] == params
    assert catalog["kind"] == "model" and catalog["version"] == 1
    assert catalog["name"] == "Tiny Baseline"
    assert catalog["schema_version"] == "treehouse.binned.v0"
    assert catalog["template_id"] == "tiny" and catalog["template_version"] == "1.0.0"
    assert catalog["pack"] == {
        "name": "flowtime-pack-tiny",
        "version": "1.0.0",
        "plugin": "tinypack",
    }
    assert catalog["tags"] == ["test", "queue", "demo"]
    assert catalog["capabilities"] == ["counts"]
    assert catalog["source"] == "sim" and catalog["owner"] == "tester"
    assert catalog["visibility"] == "private"
    assert catalog["generator"].startswith("flowtime-sim/")
    assert catalog["created_utc"].endswith("Z") and len(catalog["created_utc"]) == 20
    assert catalog["inputs_hash"] == canonical_hash(
        {"template_id": "tiny", "template_version": "1.0.0", "parameters": params}
    )
    # every parameter has its default: none of them is part of the identity
    identity = canonical_hash({"template_id": "tiny", "pack": "tinypack", "parameters": {}})
    assert catalog["identity"] == identity
    assert art.id == f"tiny-baseline_{identity[7:15]}"
    model_doc = yaml.safe_load((folder / "model.yaml").read_text())
    assert catalog["model_hash"] == canonical_hash(model_doc)
    assert set(catalog["files"]) == {"model.yaml", "preview.svg"}
    assert {n["id"] for n in catalog["topology"]["nodes"]} == {"demand", "size", "served"}
    assert catalog["topology"]["edges"] == [
        {"from": "demand", "to": "served"},
        {"from": "size", "to": "served"},
    ]


def test_only_parameters_changed_from_their_defaults_make_the_identity(ft) -> None:
    changed = ft.create_model("tiny", SETS(sets={"level": 11}), name="Tiny Baseline")
    identity = canonical_hash(
        {"template_id": "tiny", "pack": "tinypack", "parameters": {"level": 11}}
    )
    assert changed.artifact.catalog["identity"] == identity
    assert changed.artifact.id == f"tiny-baseline_{identity[7:15]}"
    # a value equal to its default (1 and 1.0 are one JSON number) changes nothing
    default = ft.create_model("tiny", SETS(sets={"level": 10.0}), name="Tiny Baseline")
    assert default.artifact.id == ft.create_model("tiny", name="Tiny Baseline").artifact.id


def test_same_inputs_are_unchanged_and_keep_the_first_catalog(ft) -> None:
    first = ft.create_model("tiny")
    again = ft.create_model("tiny")
    assert again.unchanged and again.artifact.ref == first.artifact.ref
    assert again.artifact.catalog["created_utc"] == first.artifact.catalog["created_utc"]
    assert [v.version for v in ft.versions(first.artifact.id)] == [1]


def test_yaml_and_json_parameter_files_give_the_same_model(ft, tmp_path: Path) -> None:
    from flowtime_sim.parameter_input import parameter_sources

    (tmp_path / "p.yaml").write_text('level: 12\nlabel: "caf\\u00e9"\n')
    (tmp_path / "p.json").write_text('{"label": "cafe\\u0301", "level": 12.0}')
    a = ft.create_model("tiny", parameter_sources(tmp_path / "p.yaml", []))
    b = ft.create_model("tiny", parameter_sources(tmp_path / "p.json", []))
    assert b.unchanged and a.artifact.ref == b.artifact.ref


def test_newer_template_version_becomes_the_next_version(ft_versions) -> None:
    v1 = ft_versions.create_model("tiny", version="1.0.0")
    v2 = ft_versions.create_model("tiny", version="1.1.0")
    latest = ft_versions.create_model("tiny")
    assert (v1.artifact.version, v2.artifact.version, latest.artifact.version) == (1, 2, 3)
    assert v1.artifact.id == v2.artifact.id == latest.artifact.id
    assert latest.artifact.catalog["template_version"] == "1.40.0"
    again = ft_versions.create_model("tiny", version="1.0.0")
    assert again.unchanged and again.artifact.version == 1


def test_derive_records_its_source(ft) -> None:
    base = ft.create_model("tiny", name="base")
    child = ft.derive(base.artifact.id, name="busier", sets={"level": 50})
    cat = child.artifact.catalog
    assert cat["derived_from"] == f"{base.artifact.id}@v1"
    assert cat["parameters"]["level"] == 50 and cat["name"] == "busier"
    assert child.artifact.id.startswith("busier_")
    same = ft.derive(f"{base.artifact.id}@v1", name="base")
    assert same.unchanged and same.artifact.ref == base.artifact.ref


def test_show_and_versions_errors_name_what_is_missing(ft) -> None:
    base = ft.create_model("tiny")
    with pytest.raises(
        NotFoundError, match=r"no model 'nope_12345678' in .*; see 'flowtime-sim list'"
    ):
        ft.model("nope_12345678")
    with pytest.raises(
        NotFoundError, match=rf"model {base.artifact.id} has no version 7 \(versions: v1\)"
    ):
        ft.model(f"{base.artifact.id}@v7")
    with pytest.raises(UserError, match=r"invalid model id '\.\./x'"):
        ft.model("../x")


def test_hash_prefix_collision_is_refused(ft, monkeypatch: pytest.MonkeyPatch) -> None:
    import flowtime_sim.catalogs as catalogs

    first = ft.create_model("tiny", name="clash")
    monkeypatch.setattr(catalogs, "model_id_for", lambda *a: first.artifact.id)
    with pytest.raises(
        ConflictError,
        match=rf"model id {first.artifact.id} is already taken by a different "
        rf"model \(a hash-prefix collision with {first.artifact.id}@v1\); "
        "choose another --name",
    ):
        ft.create_model("tiny", SETS(sets={"level": 11}), name="clash")
    assert [v.version for v in ft.versions(first.artifact.id)] == [1]


def test_listing_filters_and_pages_without_gaps(ft) -> None:
    for level in range(7):
        ft.create_model(
            "tiny", SETS(sets={"level": level}), tags=["even"] if level % 2 == 0 else ["odd"]
        )
    page = ft.list(Query(limit=3))
    seen = [c["id"] for c in page.items]
    while page.next_cursor:
        page = ft.list(Query(limit=3, cursor=page.next_cursor))
        seen += [c["id"] for c in page.items]
    assert len(seen) == len(set(seen)) == 7 and page.total == 7
    assert ft.list(Query(tags=["even"])).total == 4
    assert ft.list(Query(tags=["even", "odd"])).total == 0
    assert ft.list(Query(template="tiny", kind="model", owner="tester")).total == 7
    assert ft.list(Query(owner="someone-else")).total == 0
    with pytest.raises(UserError, match="invalid cursor 'garbage'"):
        ft.list(Query(cursor="garbage"))


def test_listing_shows_latest_version_unless_all_versions(ft_versions) -> None:
    ft_versions.create_model("tiny", version="1.0.0")
    ft_versions.create_model("tiny", version="1.2.0")
    items = ft_versions.list(Query()).items
    assert [(c["version"], c["template_version"]) for c in items] == [(2, "1.2.0")]
    assert ft_versions.list(Query(all_versions=True)).total == 2


def test_verify_names_a_tampered_file(ft, root: Path) -> None:
    art = ft.create_model("tiny").artifact
    registry = ft.registry()
    assert registry.verify() == (1, [])
    path = root / art.key / "model.yaml"
    data = bytearray(path.read_bytes())
    data[5] ^= 1
    path.write_bytes(bytes(data))
    checked, problems = registry.verify()
    assert checked == 1 and len(problems) == 1
    assert problems[0].startswith(f"{art.key}/model.yaml: hash sha256:")
    assert "does not match the catalog's sha256:" in problems[0]
    with pytest.raises(IntegrityError, match="1 problem"):
        registry.verify_or_raise()


def test_reindex_reproduces_the_listing(ft, root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for level in range(5):
        ft.create_model("tiny", SETS(sets={"level": level}))
    registry = ft.registry()
    before = registry.index.listing_snapshot()
    (root / ".index" / "registry.sqlite").unlink()
    registry.close()
    ft._registries.clear()
    fresh = ft.registry()
    assert fresh.index.listing_snapshot() == before  # a missing index rebuilds itself
    assert capsys.readouterr().err == (
        f"rebuilt the listing index of {root}: it was missing (5 artifacts)\n"
    )
    assert fresh.reindex() == 5
    assert fresh.index.listing_snapshot() == before


def test_gc_removes_only_old_staging(ft, root: Path) -> None:
    import os
    import time

    ft.create_model("tiny")
    stale = root / ".staging" / "123-deadbeef"
    stale.mkdir(parents=True)
    (stale / "model.yaml").write_text("partial")
    old = time.time() - 7200
    os.utime(stale, (old, old))
    fresh = root / ".staging" / "456-cafebabe"
    fresh.mkdir()
    assert ft.registry().gc(3600) == ["123-deadbeef"]
    assert not stale.exists() and fresh.exists()


def test_root_resolution(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from flowtime_sim.storage import resolve_root

    monkeypatch.delenv("FLOWTIME_ARTIFACTS_ROOT", raising=False)
    assert resolve_root(None) == "./artifacts"
    monkeypatch.setenv("FLOWTIME_ARTIFACTS_ROOT", str(tmp_path))
    assert resolve_root(None) == str(tmp_path)
    assert resolve_root("elsewhere") == "elsewhere"


def test_unknown_scheme_is_a_clear_error(ft) -> None:
    with pytest.raises(
        NotFoundError,
        match=r"no storage backend for s3:// roots \(install "
        r"flowtime-sim-s3 for s3:// roots\); available "
        "schemes: file",
    ):
        ft.registry("s3://bucket/prefix")


def test_owner_from_environment(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from worker import make

    monkeypatch.setenv("FLOWTIME_OWNER", "ada")
    flowtime = make(str(root))
    flowtime.owner = None
    assert flowtime.create_model("tiny").artifact.catalog["owner"] == "ada"


def test_bad_visibility_and_tags(ft) -> None:
    with pytest.raises(UserError, match="visibility 'secret' must be one of private, team, public"):
        ft.create_model("tiny", visibility="secret")
    with pytest.raises(UserError, match="tag '' must be 1 to 64 characters"):
        ft.create_model("tiny", tags=[""])
    assert not (ft.registry().storage.index_path().parent.parent / "models").exists()


def test_an_invalid_catalog_is_never_written(ft, root: Path) -> None:
    from flowtime_sim.errors import FlowtimeError
    from flowtime_sim.registry.catalog import validate_catalog

    catalog = dict(ft.create_model("tiny").artifact.catalog)
    validate_catalog(catalog)
    with pytest.raises(
        FlowtimeError,
        match="refusing to write an invalid catalog: version: 0 is less than the minimum of 1",
    ):
        validate_catalog({**catalog, "version": 0})
    with pytest.raises(FlowtimeError, match="refusing to write an invalid catalog: "):
        validate_catalog({k: v for k, v in catalog.items() if k != "owner"})


def test_a_pack_preview_is_stored_in_the_version(ft, root: Path) -> None:
    from flowtime_sim import Preview, hookimpl

    class PngPreview:
        @hookimpl
        def flowtime_render_preview(self, model, title):
            return Preview(
                content=b"PNG " + title.encode(), media_type="image/png", filename="preview.png"
            )

    ft.host.register(PngPreview(), "png-pack")
    art = ft.create_model("tiny", name="pictured").artifact
    folder = root / art.key
    assert sorted(p.name for p in folder.iterdir()) == ["catalog.json", "model.yaml", "preview.png"]
    assert (folder / "preview.png").read_bytes() == b"PNG pictured"
    assert set(art.catalog["files"]) == {"model.yaml", "preview.png"}


def test_flowtime_artifact_created_fires_once_per_new_artifact(ft) -> None:
    from flowtime_sim import hookimpl

    seen: list[str] = []

    class Listener:
        @hookimpl
        def flowtime_artifact_created(self, artifact):
            seen.append(f"{artifact.catalog['kind']}:{artifact.id}")

    class Broken:
        @hookimpl
        def flowtime_artifact_created(self, artifact):
            raise RuntimeError("listener down")

    ft.host.register(Listener(), "listener")
    ft.host.register(Broken(), "broken-listener")
    created = ft.create_model("tiny")
    model = created.artifact
    assert created.warnings == (
        "plugin 'broken-listener': flowtime_artifact_created failed: "
        "RuntimeError: listener down; the artifact is published",
    )
    assert ft.create_model("tiny").warnings == ()  # unchanged: no event
    ran = ft.run_model(model.id)
    run = ran.artifact
    assert len(ran.warnings) == 1 and "broken-listener" in ran.warnings[0]
    assert seen == [f"model:{model.id}", f"run:{run.id}"]
    assert ft.registry().storage.index_path().exists()
