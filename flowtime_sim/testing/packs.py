"""Finding the pack under test and building a plugin host that holds only it."""

from __future__ import annotations

import tomllib
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path
from typing import Any

from flowtime_sim.errors import UserError
from flowtime_sim.plugins import ENTRY_POINT_GROUP, PluginHost, create_plugin_host
from flowtime_sim.types import PackInfo


def declared_packs(project_dir: Path) -> dict[str, str]:
    """The ``[project.entry-points.flowtime_sim]`` table of ``project_dir/pyproject.toml``.

    Empty when the file is missing, unreadable or declares no pack.
    """
    project = _project(project_dir)
    table = project.get("entry-points", {}).get(ENTRY_POINT_GROUP, {})
    return {str(k): str(v) for k, v in table.items()} if isinstance(table, dict) else {}


def find_entry_point(pack: str, project_dir: Path | None = None) -> EntryPoint:
    """The entry point named ``pack``: an installed one, else one ``project_dir`` declares.

    The second case lets a pack's tests run from a checkout (``pythonpath = ["src"]``) before
    the pack is installed; the distribution name and version then come from pyproject.toml.
    """
    installed = next(iter(entry_points(group=ENTRY_POINT_GROUP, name=pack)), None)
    if installed is not None:
        return installed
    declared = declared_packs(project_dir) if project_dir is not None else {}
    if pack in declared:
        ep = EntryPoint(name=pack, value=declared[pack], group=ENTRY_POINT_GROUP)
        project = _project(project_dir) if project_dir is not None else {}
        # EntryPoint is immutable; importlib.metadata attaches its distribution the same way.
        vars(ep)["dist"] = PackInfo(
            str(project.get("name", pack)), str(project.get("version", "0"))
        )
        return ep
    where = f" and {project_dir / 'pyproject.toml'} does not declare it" if project_dir else ""
    known = sorted({ep.name for ep in entry_points(group=ENTRY_POINT_GROUP)} | set(declared))
    raise UserError(
        f"pack {pack!r} is not installed{where}; installed packs: "
        f"{', '.join(known) or 'none'} (the name is the entry point's name under "
        "[project.entry-points.flowtime_sim])",
        field="pack",
    )


def is_installed(pack: str) -> bool:
    """Whether an installed distribution has the entry point ``pack``."""
    return bool(entry_points(group=ENTRY_POINT_GROUP, name=pack))


def pack_host(pack: str, *, project_dir: Path | None = None, strict: bool = False) -> PluginHost:
    """A fresh host with the built-in plugins and the pack ``pack`` only.

    Other installed packs are left out, so a pack's tests see what its users see when it is
    the only pack installed. Whether the pack loaded is in ``host.records``.
    """
    ep = find_entry_point(pack, project_dir)
    host = create_plugin_host(strict=strict, load_entry_points=False)
    host.load_entry_point(ep, disabled=set())
    return host


def _project(project_dir: Path | None) -> dict[str, Any]:
    if project_dir is None:
        return {}
    try:
        data = tomllib.loads((project_dir / "pyproject.toml").read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError):
        return {}
    project = data.get("project", {})
    return project if isinstance(project, dict) else {}
