"""The pytest plugin for pack authors (entry point ``pytest11: flowtime_sim``).

Fixtures: ``flowtime_pack`` (the name of the pack under test), ``flowtime_host``,
``flowtime_root``, ``flowtime_cli`` and ``flowtime_client``. The pack under test is, first
found: the test's ``@pytest.mark.flowtime_pack("NAME")``, the ``flowtime_pack`` ini option, the
one ``flowtime_sim`` entry point of the project's pyproject.toml. Override the
``flowtime_pack`` fixture to choose it in code.

This module is imported by every pytest run where flowtime-sim is installed: it imports
nothing heavy until a fixture is used.
"""

from __future__ import annotations

import sys
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from flowtime_sim.plugins import PluginHost
    from flowtime_sim.testing.cli import FlowtimeCli

INI = "flowtime_pack"
HOW_TO_NAME = (
    'set flowtime_pack = "NAME" under [tool.pytest.ini_options], mark the test '
    'with @pytest.mark.flowtime_pack("NAME"), or override the flowtime_pack '
    "fixture; NAME is the entry point's name under [project.entry-points.flowtime_sim]"
)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini(
        INI, "entry-point name of the template pack the flowtime_* fixtures load", default=""
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "flowtime_pack(name): the template pack the flowtime_* fixtures load"
    )


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """A failed ``check_pack`` reads as its report alone: one line per failure, no source."""
    report = yield
    checks = sys.modules.get("flowtime_sim.testing.checks")
    failed = getattr(checks, "PackCheckFailed", None)
    if (
        failed is not None
        and call.excinfo is not None
        and report.failed
        and isinstance(call.excinfo.value, failed)
    ):
        report.longrepr = str(call.excinfo.value)
    return report


@pytest.fixture
def flowtime_pack(request: pytest.FixtureRequest) -> str:
    """The entry-point name of the pack under test."""
    from flowtime_sim.testing.packs import declared_packs

    marker = request.node.get_closest_marker("flowtime_pack")
    if marker is not None and marker.args:
        return str(marker.args[0])
    configured = str(request.config.getini(INI) or "").strip()
    if configured:
        return configured
    declared = declared_packs(request.config.rootpath)
    if len(declared) == 1:
        return next(iter(declared))
    found = (
        f"{request.config.rootpath / 'pyproject.toml'} declares {', '.join(sorted(declared))}"
        if declared
        else f"{request.config.rootpath / 'pyproject.toml'} declares no flowtime_sim entry point"
    )
    pytest.fail(
        f"which template pack should the flowtime_* fixtures load? {found}; {HOW_TO_NAME}",
        pytrace=False,
    )


@pytest.fixture
def flowtime_host(flowtime_pack: str, request: pytest.FixtureRequest) -> PluginHost:
    """A fresh plugin host with the built-in plugins and the pack under test only.

    Fails the test, with the host's reason, when the pack does not load (an import error, an
    incompatible plugin-API range, an unknown hook).
    """
    return _host(flowtime_pack, request.config.rootpath, strict=False)


@pytest.fixture
def flowtime_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty artifacts root, also made the default root (``FLOWTIME_ARTIFACTS_ROOT``)."""
    root = tmp_path / "flowtime-artifacts"
    root.mkdir()
    monkeypatch.setenv("FLOWTIME_ARTIFACTS_ROOT", str(root))
    return root


@pytest.fixture
def flowtime_cli(
    flowtime_host: PluginHost,
    flowtime_pack: str,
    flowtime_root: Path,
    request: pytest.FixtureRequest,
) -> FlowtimeCli:
    """Runs ``flowtime-sim`` commands in-process against ``flowtime_host`` and
    ``flowtime_root``: ``flowtime_cli.invoke("templates")``, ``flowtime_cli.json("list")``."""
    from flowtime_sim.testing.cli import FlowtimeCli

    rootpath = request.config.rootpath
    return FlowtimeCli(
        lambda strict: _host(flowtime_pack, rootpath, strict=strict),
        flowtime_root,
        host=flowtime_host,
    )


@pytest.fixture
def flowtime_client(flowtime_host: PluginHost, flowtime_root: Path) -> Iterator[Any]:
    """An ``httpx`` client for the HTTP service, in-process, on ``flowtime_root``.

    Skips the test when FastAPI or httpx is not installed.
    """
    pytest.importorskip(
        "fastapi", reason="flowtime_client needs FastAPI, which the HTTP service runs on"
    )
    pytest.importorskip("httpx", reason="flowtime_client needs httpx")
    try:
        from flowtime_sim.service import create_app
    except ImportError as exc:
        pytest.skip(f"this flowtime-sim has no HTTP service ({exc})")
    from flowtime_sim.core import Flowtime
    from flowtime_sim.testing.http import app_client

    ft = Flowtime(host=flowtime_host, root=str(flowtime_root))
    try:
        with app_client(create_app(flowtime=ft)) as client:
            yield client
    finally:
        ft.close()


def _host(pack: str, rootpath: Path, *, strict: bool) -> PluginHost:
    from flowtime_sim.errors import FlowtimeError
    from flowtime_sim.testing.packs import is_installed, pack_host

    try:
        host = pack_host(pack, project_dir=rootpath, strict=strict)
    except FlowtimeError as exc:
        pytest.fail(str(exc), pytrace=False)
    record = [r for r in host.records if r.name == pack][-1]
    if record.status != "loaded":
        hint = (
            ""
            if is_installed(pack) or "ModuleNotFoundError" not in record.detail
            else (
                "; the pack is not installed, so its source folder must be on the test path: "
                'add pythonpath = ["src"] under [tool.pytest.ini_options], or pip install -e .'
            )
        )
        pytest.fail(f"pack {pack!r} {record.status}: {record.detail}{hint}", pytrace=False)
    return host
