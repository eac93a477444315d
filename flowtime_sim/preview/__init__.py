"""The built-in DAG preview: a layered left-to-right drawing of a model as SVG.

``render_svg(model, title)`` is what the default ``flowtime_render_preview`` implementation
returns; ``preview_graph(model)`` is what it draws (queues, routers, feedback links) and
``layout_model(model)`` its geometry, for other renderers and for tests.
"""

from flowtime_sim.preview.graph import Link, PreviewGraph, Vertex, preview_graph
from flowtime_sim.preview.layout import (
    BackEdge,
    EdgeRoute,
    Layout,
    NodeBox,
    layout_graph,
    layout_model,
)
from flowtime_sim.preview.svg import render_svg

__all__ = [
    "BackEdge",
    "EdgeRoute",
    "Layout",
    "Link",
    "NodeBox",
    "PreviewGraph",
    "Vertex",
    "layout_graph",
    "layout_model",
    "preview_graph",
    "render_svg",
]
