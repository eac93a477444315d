"""The built-in plugin offering FlowTime-Sim's own template files (``--templates-dir`` and
``--template-file``); loading and conversion live in :mod:`flowtime_sim.upstream`."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from flowtime_sim.errors import UserError
from flowtime_sim.markers import hookimpl
from flowtime_sim.types import ResolvedParameters, Template
from flowtime_sim.upstream import FORMAT, load_upstream_file, render_upstream

FLOWTIME_SIM_PLUGIN_API = ">=1,<2"

__all__ = ["FORMAT", "UpstreamTemplates", "flowtime_render_template", "load_upstream_file"]


class UpstreamTemplates:
    """Offers the templates in the given files and folders."""

    def __init__(self, paths: Iterable[Path]) -> None:
        self.paths = list(paths)

    @hookimpl
    def flowtime_templates(self) -> list[Template]:
        files: list[Path] = []
        for p in self.paths:
            if p.is_dir():
                files += sorted([*p.glob("*.yaml"), *p.glob("*.yml")])
            elif p.is_file():
                files.append(p)
            else:
                raise UserError(f"template path {str(p)!r} does not exist")
        return [load_upstream_file(f) for f in files]


@hookimpl
def flowtime_render_template(template: Template, parameters: ResolvedParameters) -> str | None:
    if template.format != FORMAT:
        return None
    return render_upstream(template, dict(parameters.values))
