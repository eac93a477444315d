"""A pack described by ``flowtime_pack.toml``: its templates are read without importing it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flowtime_sim.manifests import templates_in_folder
from flowtime_sim.markers import hookimpl
from flowtime_sim.types import Template


class StaticPack:
    """Serves the templates of a pack folder; registered under the pack's entry-point name."""

    def __init__(self, package_dir: Path, manifest: dict[str, Any], module: str) -> None:
        self.package_dir = package_dir
        self.folder = package_dir / str(manifest.get("templates", "templates"))
        self.module = module

    def __repr__(self) -> str:
        return f"StaticPack({self.module!r})"

    @hookimpl
    def flowtime_templates(self) -> list[Template]:
        if not self.folder.is_dir():
            raise ValueError(f"templates folder {self.folder} does not exist")
        return templates_in_folder(self.folder)
