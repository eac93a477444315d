"""The built-in DAG preview: a layered left-to-right drawing of a model as SVG.

``render_svg(model, title)`` is what the default ``flowtime_render_preview`` implementation
returns; ``layout_model(model)`` exposes the geometry for other renderers and for tests.
"""

from flowtime_sim.preview.layout import EdgeRoute, Layout, NodeBox, layout_model
from flowtime_sim.preview.svg import render_svg

__all__ = ["EdgeRoute", "Layout", "NodeBox", "layout_model", "render_svg"]
