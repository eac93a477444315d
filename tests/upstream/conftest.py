"""Shared helpers of the FlowTime-Sim template tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from flowtime_sim.builtin.parameters import schema_defaults
from flowtime_sim.types import Template
from flowtime_sim.upstream import load_upstream_file, render_upstream

FIXTURES = Path(__file__).parent / "fixtures"
CLINIC = FIXTURES / "clinic-intake.yaml"


def write(folder: Path, text: str, name: str = "t.yaml") -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def converted(template: Template | Path, **values: Any) -> Any:
    """The model document of ``template`` with its defaults and ``values``."""
    if isinstance(template, Path):
        template = load_upstream_file(template)
    merged = {**schema_defaults(template.manifest.parameters), **values}
    return yaml.safe_load(render_upstream(template, merged))
