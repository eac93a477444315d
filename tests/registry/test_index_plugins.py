"""Choosing the index (``--index``, ``FLOWTIME_SIM_INDEX``, the ``flowtime_index_backends``
hook) and what publication through the PostgreSQL index says when it cannot publish."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from worker import make

from flowtime_sim.cli import main
from flowtime_sim.errors import ConflictError, NotFoundError, PluginError, UserError
from flowtime_sim.indexes import open_index
from flowtime_sim.markers import hookimpl
from flowtime_sim.plugins import create_plugin_host
from flowtime_sim.registry import publication
from flowtime_sim.registry.contracts import resolve_index
from flowtime_sim.registry.index import Index
from flowtime_sim.registry.publication import TeamRegistry
from flowtime_sim.storage import open_storage
from flowtime_sim.types import IndexBackend, ParameterSources


def _storage(tmp_path: Path) -> Any:
    return open_storage(create_plugin_host(load_entry_points=False), str(tmp_path / "root"))


def test_the_default_index_is_sqlite_beside_the_root(tmp_path: Path) -> None:
    host = create_plugin_host(load_entry_points=False)
    index = open_index(host, None, _storage(tmp_path))
    assert isinstance(index, Index) and not index.authoritative
    assert index.path == tmp_path / "root" / ".index" / "registry.sqlite"
    index.close()
    other = open_index(host, f"sqlite://{tmp_path}/elsewhere.sqlite", _storage(tmp_path))
    assert isinstance(other, Index) and other.path == tmp_path / "elsewhere.sqlite"
    other.close()


def test_the_index_comes_from_the_option_then_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert resolve_index(None) is None
    monkeypatch.setenv("FLOWTIME_SIM_INDEX", "postgresql://env/db")
    assert resolve_index(None) == "postgresql://env/db"
    assert resolve_index("postgresql://option/db") == "postgresql://option/db"
    with pytest.raises(UserError, match=r"^the index URL contains a NUL character$"):
        resolve_index("postgresql://a\x00b")


def test_an_unknown_scheme_names_the_known_ones(tmp_path: Path) -> None:
    host = create_plugin_host(load_entry_points=False)
    with pytest.raises(NotFoundError) as caught:
        open_index(host, "mysql://u@h/db", _storage(tmp_path))
    assert str(caught.value) == (
        "no index backend for mysql:// indexes; available: postgres://, postgresql://, sqlite://"
    )
    with pytest.raises(NotFoundError, match=r"^no index backend for the index 'db\.sqlite'; "):
        open_index(host, "db.sqlite", _storage(tmp_path))


def test_a_missing_postgresql_backend_says_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FLOWTIME_SIM_DISABLE_PLUGINS", "builtin-postgresql-index")
    host = create_plugin_host(load_entry_points=False)
    with pytest.raises(NotFoundError) as caught:
        open_index(host, "postgresql://u:secret@h/db", _storage(tmp_path))
    assert str(caught.value) == (
        "no index backend for postgresql:// indexes (install flowtime-sim[postgresql] for "
        "postgresql:// indexes); available: sqlite://"
    )


class _Offers:
    def __init__(self, offered: object) -> None:
        self.offered = offered

    @hookimpl
    def flowtime_index_backends(self) -> object:
        return self.offered


def _broken(url: str | None, storage: Any) -> Any:
    raise RuntimeError("no such database")


def test_plugins_that_misbehave_are_named(tmp_path: Path) -> None:
    host = create_plugin_host(load_entry_points=False)
    host.register(_Offers(["not a backend"]), "odd")
    host.register(_Offers(IndexBackend(schemes=("postgresql",), open=_broken)), "rival")
    with pytest.raises(PluginError) as caught:
        open_index(host, "postgresql://u:secret@h/db", _storage(tmp_path))
    assert str(caught.value) == (
        "several plugins offer postgresql:// indexes (builtin-postgresql-index, rival); "
        "disable all but one with FLOWTIME_SIM_DISABLE_PLUGINS"
    )
    with pytest.raises(NotFoundError) as missing:
        open_index(host, "mysql://h/db", _storage(tmp_path))
    assert str(missing.value).endswith(
        "; plugin 'odd': flowtime_index_backends returned a str, not an IndexBackend"
    )
    only = create_plugin_host(load_entry_points=False)
    only.register(_Offers([IndexBackend(schemes=("mysql",), open=_broken)]), "mine")
    with pytest.raises(PluginError) as failed:
        open_index(only, "mysql://u:secret@h/db", _storage(tmp_path))
    assert str(failed.value) == (
        "plugin 'mine': opening the index mysql://u:***@h/db failed: RuntimeError: no such database"
    )


def test_an_index_backend_checks_its_schemes() -> None:
    with pytest.raises(ValueError, match=r"^index scheme 'Post gres' is not a URL scheme$"):
        IndexBackend(schemes=("Post gres",), open=_broken)


def test_an_invalid_postgresql_url_is_refused_in_one_line(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main,
        [
            "list",
            "--root",
            str(tmp_path / "root"),
            "--index",
            "postgresql://u:secret@h/db?nonsense=1",
        ],
    )
    assert result.exit_code == 1
    assert result.stderr.startswith(
        "error: invalid index URL 'postgresql://u:***@h/db?nonsense=1': "
    )
    assert result.stderr == (
        "error: invalid index URL 'postgresql://u:***@h/db?nonsense=1': "
        'invalid URI query parameter: "nonsense"\n'
    )


# -- what publication through the PostgreSQL index reports ---------------------------------


@pytest.fixture
def team(tmp_path: Path, pg_url: str) -> Any:
    ft = make(str(tmp_path / "root"))
    ft.index = pg_url
    yield ft
    ft.close()


def test_a_different_model_with_the_same_id_is_refused(team: Any) -> None:
    import dataclasses

    first = team.create_model("tiny").artifact
    draft = _draft(team, 10)
    with pytest.raises(ConflictError) as caught:
        team.registry().create_model(dataclasses.replace(draft, identity="something-else"))
    assert str(caught.value) == (
        f"model id {first.id} is already taken by a different model (a "
        f"hash-prefix collision with {first.id}@v1); choose another "
        "--name"
    )


def test_bytes_left_at_a_reserved_key_stop_the_publication(tmp_path: Path, pg_url: str) -> None:
    ft = make(str(tmp_path / "versions"), many_versions=True)
    ft.index = pg_url
    registry = ft.registry()
    assert isinstance(registry, TeamRegistry)
    model_id = ft.create_model("tiny", version="1.0.0").artifact.id
    registry.storage.publish(f"models/{model_id}/v2", {"model.yaml": b"left behind\n"})
    with pytest.raises(ConflictError) as caught:
        ft.create_model("tiny", version="1.1.0")
    assert str(caught.value) == (
        f"models/{model_id}/v2 already has files in "
        f"{registry.storage.url}, left by a writer that gc swept; run "
        "'flowtime-sim gc' and try again"
    )
    assert ft.create_model("tiny", version="1.1.0").artifact.version == 3
    ft.close()


def test_a_writer_that_never_finishes_is_waited_for_then_reported(
    tmp_path: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    ft = make(str(tmp_path / "versions"), many_versions=True)
    ft.index = pg_url
    registry = ft.registry()
    model_id = ft.create_model("tiny", version="1.0.0").artifact.id
    # another writer reserved v2 for the inputs this caller is about to create, and hangs
    draft = _draft(ft, 10, template_version="1.1.0")
    registry.team_index.reserve(
        "model", model_id, 2, writer="elsewhere", inputs_hash=draft.inputs_hash
    )
    monkeypatch.setattr(publication, "WAIT_FOR_PEER_S", 0.0)
    with pytest.raises(ConflictError) as caught:
        registry.create_model(draft)
    assert str(caught.value) == (
        f"model {model_id} is still being published by another writer "
        "after 0 s; try again (gc gives up on writers that crashed)"
    )
    ft.close()


def _draft(team: Any, level: int, template_version: str | None = None) -> Any:
    from flowtime_sim.catalogs import model_draft

    sets: dict[str, Any] = {"level": level}
    rendered = team.render("tiny", ParameterSources(sets=sets), version=template_version)
    return model_draft(
        rendered, name="tiny", tags=[], visibility="private", owner="tester", preview=None
    )


def test_a_deleted_run_is_not_published_again(team: Any) -> None:
    model = team.create_model("tiny").artifact
    run = team.run_model(model.id).artifact
    team.delete(run.id)
    with pytest.raises(ConflictError) as caught:
        team.run_model(model.id)
    assert str(caught.value) == (
        f"run {run.id} was deleted; it cannot be published again under the same id"
    )


def test_a_different_run_with_the_same_id_is_refused(team: Any) -> None:
    model = team.create_model("tiny").artifact
    run = team.run_model(model.id).artifact
    registry = team.registry()
    other = {**run.catalog, "inputs_hash": "sha256:" + "1" * 64}
    with pytest.raises(ConflictError) as caught:
        registry.publish_run(other, {"binned_v0.csv": b"x"})
    assert str(caught.value) == (
        f"run id {run.id} is already taken by a different run (a hash-prefix collision)"
    )
    again = registry.publish_run(dict(run.catalog), {"binned_v0.csv": b"x"})
    assert again.unchanged and again.artifact.catalog == run.catalog


def test_a_writer_that_keeps_losing_the_race_gives_up(
    team: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(publication, "MAX_RESERVE_ATTEMPTS", 0)
    draft = _draft(team, 3)
    with pytest.raises(ConflictError) as caught:
        team.registry().create_model(draft)
    assert str(caught.value) == (
        f"could not reserve a version of {draft.model_id} after 0 "
        "attempts; too many concurrent writers"
    )
