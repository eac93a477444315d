"""Fixtures shared by the whole suite.

Every test runs with the plugin environment variables cleared, the process-wide plugin host
rebuilt on first use and ``FLOWTIME_ARTIFACTS_ROOT`` pointing at a temporary folder, so that no
test depends on another or on the developer's shell, and none writes into the working tree.
"""

from __future__ import annotations

import importlib
import importlib.util
import shutil
import sys
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from flowtime_sim.plugins import PluginHost, create_plugin_host, get_plugin_host

PLUGIN_ENV = ("FLOWTIME_SIM_STRICT", "FLOWTIME_SIM_DISABLE_PLUGINS", "FLOWTIME_SIM_TRACE_PLUGINS")

FakeDist = Callable[..., Path]
FAKE_PACKS = Path(__file__).parent / "fixtures" / "fakepacks"


@pytest.fixture(autouse=True)
def _isolated_plugins(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in PLUGIN_ENV:
        monkeypatch.delenv(name, raising=False)
    get_plugin_host.cache_clear()
    yield
    get_plugin_host.cache_clear()


@pytest.fixture(autouse=True)
def _no_index_from_the_shell(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FLOWTIME_SIM_INDEX", raising=False)


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """A PostgreSQL database for the PostgreSQL index: ``FLOWTIME_SIM_TEST_PG_DSN`` when set,
    else a server started here from the machine's binaries (Debian's ``postgresql``). Without
    either the tests skip, except under CI, where they fail. Tests share the database: each
    uses its own root, and the index keeps every root's rows apart."""
    import os

    from flowtime_sim.testing.postgres import DSN_ENV, LoopbackPostgres, server_binaries

    if os.environ.get(DSN_ENV):
        yield os.environ[DSN_ENV]
        return
    if server_binaries() is None or importlib.util.find_spec("psycopg_pool") is None:
        missing = (
            "the PostgreSQL index tests need PostgreSQL's server binaries "
            "(apt-get install postgresql) or FLOWTIME_SIM_TEST_PG_DSN, and "
            "pip install -e '.[postgresql]'"
        )
        if os.environ.get("CI"):
            pytest.fail(f"CI is set but {missing}")
        pytest.skip(missing)
    server = LoopbackPostgres().start()
    yield server.url
    server.close()


@pytest.fixture(autouse=True)
def artifacts_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh, empty artifacts root (also the default root of every command in the test)."""
    root = tmp_path / "artifacts"
    monkeypatch.setenv("FLOWTIME_ARTIFACTS_ROOT", str(root))
    return root


@pytest.fixture
def host() -> PluginHost:
    """A fresh plugin host: built-ins plus whatever packs are installed (or faked)."""
    return create_plugin_host()


@pytest.fixture
def runner() -> CliRunner:
    """A click runner; stdout and stderr stay apart (``result.stdout`` / ``result.stderr``).

    Its output is not a terminal, so tables come out as tab-separated lines."""
    return CliRunner()


@pytest.fixture
def cli(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Callable[..., Result]:
    """Run the CLI in ``tmp_path``: ``cli("templates", "--json")``; ``spelling="flowtime"``
    runs ``flowtime sim templates --json`` instead of ``flowtime-sim templates --json``."""
    from flowtime_sim.cli import flowtime, main

    monkeypatch.chdir(tmp_path)  # relative paths (--out m.yaml) land in the test's folder

    def invoke(*args: str, spelling: str = "flowtime-sim") -> Result:
        if spelling == "flowtime":
            return runner.invoke(flowtime, ["sim", *args])
        assert spelling == "flowtime-sim", spelling
        return runner.invoke(main, list(args))

    return invoke


@pytest.fixture
def fake_dist(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeDist]:
    """Install fake distributions for the rest of the test: ``fake_dist("pack_a")``.

    Copies the package ``tests/fixtures/fakepacks/{package}`` (when it exists) and ``files``
    (relative path → text) into one folder on ``sys.path``, with a
    ``flowtime-pack-{package}-{version}.dist-info`` holding METADATA and an ``entry_points.txt``
    whose ``flowtime_sim`` group maps ``entry_points`` (default ``{package: package}``).
    :mod:`importlib.metadata` finds it like an installed distribution. Modules imported from
    the folder are forgotten afterwards.
    """
    site = tmp_path / "site-packages"
    site.mkdir()
    monkeypatch.syspath_prepend(str(site))
    before = set(sys.modules)

    def make(
        package: str,
        files: Mapping[str, str] | None = None,
        *,
        entry_points: Mapping[str, str] | None = None,
        version: str = "1.0",
    ) -> Path:
        if (FAKE_PACKS / package).is_dir():
            shutil.copytree(FAKE_PACKS / package, site / package)
        dist = "flowtime-pack-" + package.replace("_", "-")
        info = site / f"{dist.replace('-', '_')}-{version}.dist-info"
        info.mkdir()
        info.joinpath("METADATA").write_text(
            f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n", encoding="utf-8"
        )
        eps = entry_points if entry_points is not None else {package: package}
        info.joinpath("entry_points.txt").write_text(
            "[flowtime_sim]\n" + "".join(f"{k} = {v}\n" for k, v in eps.items()), encoding="utf-8"
        )
        for rel, text in (files or {}).items():
            path = site / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        importlib.invalidate_caches()  # importlib.metadata caches folder listings
        return site

    yield make
    for module in set(sys.modules) - before:
        if str(getattr(sys.modules[module], "__file__", "") or "").startswith(str(site)):
            del sys.modules[module]
