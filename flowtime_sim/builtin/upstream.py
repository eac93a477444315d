"""The built-in plugin offering FlowTime-Sim's own template files (``--templates-dir`` and
``--template-file``); loading and conversion live in :mod:`flowtime_sim.upstream`, imported
only when such a template is loaded or rendered (every command loads this plugin)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from flowtime_sim.errors import UserError
from flowtime_sim.markers import hookimpl
from flowtime_sim.types import ResolvedParameters, Template

FLOWTIME_SIM_PLUGIN_API = ">=1,<2"
#: the template format of these files (here, so that listing templates need not import the
#: converter to know it)
FORMAT = "flowtime-upstream"

__all__ = ["FORMAT", "UpstreamTemplates", "flowtime_render_template"]


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
        from flowtime_sim.upstream import load_upstream_file

        return [load_upstream_file(f) for f in files]


@hookimpl
def flowtime_render_template(template: Template, parameters: ResolvedParameters) -> str | None:
    if template.format != FORMAT:
        return None
    from flowtime_sim.upstream import render_upstream

    return render_upstream(template, dict(parameters.values))
