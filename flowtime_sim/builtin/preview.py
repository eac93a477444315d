"""The default preview: a layered SVG drawing of the model's dependency graph."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flowtime_sim.markers import hookimpl
from flowtime_sim.types import Preview

if TYPE_CHECKING:
    from flowtime_sim.model.types import Model

FLOWTIME_SIM_PLUGIN_API = ">=1,<2"


@hookimpl(trylast=True)
def flowtime_render_preview(model: Model, title: str | None) -> Preview | None:
    from flowtime_sim.preview import render_svg

    return Preview(content=render_svg(model, title=title).encode("utf-8"))
