"""Draw a :class:`~flowtime_sim.preview.layout.Layout` as a self-contained SVG document.

Shapes follow what a node is: a box per value node (``const``, ``pmf``, ``expr``), a split
pointed at both ends for a router with one edge per route labelled with its share, a
cylinder for a queue (``serviceWithBuffer``, ``queue``, ``dlq``) labelled with its queue series,
a box with a bar for a sink; a dispatch schedule or WIP limit is a badge under the box.
Edges read at the same bin are solid; reads through ``SHIFT(x, k)`` are dashed and labelled
``t−k``, and those closing a loop arc back over the drawing.

The SVG is meant to be inlined into HTML pages, so it carries no scripts, no external
references and no ``<style>`` element (whose rules would leak into the page); its ``id``
values start with a prefix derived from the drawing's content, so two different previews on
one page never clash.
"""

from __future__ import annotations

import hashlib
import math
import re
from dataclasses import dataclass
from xml.sax.saxutils import escape

from flowtime_sim.model.types import Model
from flowtime_sim.preview.graph import Link, PreviewGraph, Vertex, preview_graph
from flowtime_sim.preview.layout import (
    LABEL_FONT_SIZE,
    ROUTER_POINT,
    BackEdge,
    EdgeRoute,
    NodeBox,
    layout_graph,
)

MARGIN = 24.0
TITLE_FONT_SIZE = 15.0
TITLE_CHAR_WIDTH = 9.5  # generous for proportional faces, so the title never runs off
TITLE_MAX_CHARS = 120
LEGEND_FONT_SIZE = 11.0
LEGEND_CHAR_WIDTH = 6.2
LEGEND_SWATCH = (24.0, 13.0)
LEGEND_ITEM_GAP = 16.0
HEADER_GAP = 18.0

MONO = "ui-monospace, SFMono-Regular, Menlo, Consolas, 'DejaVu Sans Mono', monospace"
SANS = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif"
EDGE_COLOUR = "#8a94a6"
TEXT_COLOUR = "#1f2937"
MUTED_COLOUR = "#556070"
OUTPUT_STROKE = 2.2
PLAIN_STROKE = 1.2
FEEDBACK_COLOUR = "#c2410c"
DASHES = "5 4"
EDGE_LABEL_FONT_SIZE = 10.0
BADGE_FONT_SIZE = 9.5
BADGE_CHAR_WIDTH = 5.8
BADGE_HEIGHT = 13.0
#: The depth of a cylinder's elliptical top and bottom.
CYLINDER_RIM = 5.0
SINK_BAR = 5.0
CORNER_RADIUS = 8.0


@dataclass(frozen=True, slots=True)
class KindStyle:
    """How nodes of one kind look; ``radius`` is the corner radius as a share of the height,
    ``shape`` one of ``box``, ``cylinder`` (a queue), ``split`` (a router), ``sink``."""

    fill: str
    stroke: str
    text: str
    radius: float
    shape: str = "box"
    dashed: bool = False


#: const: square-cornered; pmf: a stadium; expr: rounded; queues: cylinders; a router: a
#: split. Other kinds (from plugins): grey.
KIND_STYLES: dict[str, KindStyle] = {
    "const": KindStyle(fill="#e3edfd", stroke="#3d6fd6", text="#17306b", radius=0.1),
    "pmf": KindStyle(fill="#fdf1d8", stroke="#c48716", text="#6b4300", radius=0.5),
    "expr": KindStyle(fill="#e2f4e8", stroke="#2e9457", text="#124a2a", radius=0.27),
    "router": KindStyle(
        fill="#f1e6fc", stroke="#8a3fd1", text="#46166f", radius=0.0, shape="split"
    ),
    "route": KindStyle(fill="#f8f2fd", stroke="#a879d8", text="#46166f", radius=0.27),
    "serviceWithBuffer": KindStyle(
        fill="#dff3f6", stroke="#1f8a9c", text="#0d4650", radius=0.0, shape="cylinder"
    ),
    "queue": KindStyle(
        fill="#e6f6f1", stroke="#2a8c6f", text="#0f4636", radius=0.0, shape="cylinder"
    ),
    "dlq": KindStyle(
        fill="#fde6e6", stroke="#c43d3d", text="#6b1414", radius=0.0, shape="cylinder"
    ),
    "service": KindStyle(fill="#eceafd", stroke="#5b4fd1", text="#241c6b", radius=0.27),
    "sink": KindStyle(fill="#eef0f3", stroke="#4b5563", text="#1f2937", radius=0.1, shape="sink"),
    "dependency": KindStyle(
        fill="#f6f7f9", stroke="#7a8494", text="#2b313b", radius=0.27, dashed=True
    ),
    "constraint": KindStyle(
        fill="#fff6dc", stroke="#b7791f", text="#5c3b06", radius=0.1, dashed=True
    ),
}
OTHER_STYLE = KindStyle(fill="#eef0f3", stroke="#7a8494", text="#2b313b", radius=0.1)

# Characters XML 1.0 does not allow at all; a title is free text and may contain them.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def render_svg(model: Model, title: str | None = None) -> str:
    """Render ``model``'s dependency graph as an SVG document (a ``str``).

    Inputs are on the left, outputs on the right; node shape and colour follow the node kind,
    output series have a bold border (unless every node is an output, when that would say
    nothing), and ``title`` (any text, escaped) heads the drawing.
    Every node is a ``<g class="node" data-node-id=... data-kind=...>`` whose first child is
    its shape, then its label; every edge a ``<path class="edge" data-from=... data-to=...>``,
    with class ``lagged`` (and ``data-lag``) when read through SHIFT and ``feedback`` when it
    closes a loop. The same model and title give the same bytes on every machine.
    """
    graph = preview_graph(model)
    layout = layout_graph(graph)
    outputs = _emphasised_outputs(model, graph)
    prefix = _id_prefix(graph, model, title)
    shown_title = _display_title(title)

    header_height = 0.0
    parts: list[str] = []
    if shown_title:
        header_height += TITLE_FONT_SIZE
        parts.append(
            f'<text class="title" x="{_n(MARGIN)}" y="{_n(MARGIN + TITLE_FONT_SIZE * 0.8)}" '
            f'font-family="{SANS}" font-size="{_n(TITLE_FONT_SIZE)}" font-weight="600" '
            f'fill="{TEXT_COLOUR}">{_text(shown_title)}</text>'
        )
        header_height += 10.0
    kinds = _kinds_in_order(graph.vertices)
    lagged = any(link.lag for link in graph.links)
    legend, legend_width = _legend(kinds, bool(outputs), lagged, MARGIN + header_height)
    parts.append(legend)
    header_height += LEGEND_SWATCH[1] + HEADER_GAP

    top = MARGIN + header_height
    links = {(link.source, link.target): link for link in graph.links}
    parts.append(_edges(layout.edges, layout.back_edges, layout.nodes, links, prefix, MARGIN, top))
    parts.append(_nodes(layout.nodes, graph.vertices, outputs, MARGIN, top))

    title_width = len(shown_title) * TITLE_CHAR_WIDTH
    width = 2 * MARGIN + max(layout.width, legend_width, title_width)
    height = top + layout.height + MARGIN
    label = _text(shown_title or "Model dependency graph")
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="flowtime-preview" '
        f'viewBox="0 0 {_n(width)} {_n(height)}" width="{_n(width)}" height="{_n(height)}" '
        f'role="img" aria-labelledby="{prefix}-title">\n'
        f'<title id="{prefix}-title">{label}</title>\n'
        f"<defs>"
        f'<marker id="{prefix}-arrow" viewBox="0 0 10 10" refX="9" refY="5" '
        f'markerWidth="9" markerHeight="9" markerUnits="userSpaceOnUse" orient="auto">'
        f'<path d="M0,1 L9,5 L0,9 z" fill="{EDGE_COLOUR}"/></marker>'
        + (
            f'<marker id="{prefix}-back" viewBox="0 0 10 10" refX="9" refY="5" '
            f'markerWidth="9" markerHeight="9" markerUnits="userSpaceOnUse" orient="auto">'
            f'<path d="M0,1 L9,5 L0,9 z" fill="{FEEDBACK_COLOUR}"/></marker>'
            if layout.back_edges
            else ""
        )
        + "</defs>\n"
        f'<rect width="{_n(width)}" height="{_n(height)}" rx="8" fill="#ffffff"/>\n'
    )
    return head + "\n".join(part for part in parts if part) + "\n</svg>\n"


# ---------------------------------------------------------------------------------------------


def _edges(
    routes: tuple[EdgeRoute, ...],
    arcs: tuple[BackEdge, ...],
    boxes: tuple[NodeBox, ...],
    links: dict[tuple[str, str], Link],
    prefix: str,
    dx: float,
    dy: float,
) -> str:
    by_id = {box.id: box for box in boxes}
    lines = [
        f'<g class="edges" fill="none" stroke="{EDGE_COLOUR}" stroke-width="1.4" '
        f'stroke-linecap="round" marker-end="url(#{prefix}-arrow)">'
    ]
    labels: list[str] = []
    for route in routes:
        link = links[route.source, route.target]
        hop = route.points[-3], route.points[-2]  # the last curve, into the target's column
        points = list(route.points)
        (x0, y0), (x1, y1) = points[0], points[-1]
        points[0] = (x0 - _corner_inset(by_id[route.source], y0), y0)
        points[-1] = (x1 + _corner_inset(by_id[route.target], y1), y1)
        lines.append(
            f'<path class="edge{" lagged" if link.lag else ""}"{_link_attributes(link)} '
            f'd="{_path_data(points, dx, dy)}"/>'
        )
        text = _lag_text(link) or link.label
        if text:  # on the middle of the last curve, where no other edge of the target runs
            x = (hop[0][0] + hop[1][0]) / 2 + dx
            y = (hop[0][1] + hop[1][1]) / 2 + dy
            labels.append(_label(x, y - 4, text, "middle", link))
    for arc in arcs:
        link = links[arc.source, arc.target]
        points = list(arc.points)
        (x0, y0), (x1, y1) = points[0], points[-1]
        points[0] = (x0 - _corner_inset(by_id[arc.source], y0), y0)
        points[-1] = (x1 + _corner_inset(by_id[arc.target], y1), y1)
        lines.append(
            f'<path class="edge feedback{" lagged" if link.lag else ""}"'
            f"{_link_attributes(link)} "
            f'stroke="{FEEDBACK_COLOUR}" marker-end="url(#{prefix}-back)" '
            f'd="{_rounded_path(points, dx, dy)}"/>'
        )
        if link.lag:
            (xa, ya), (xb, _) = points[2], points[3]
            labels.append(_label((xa + xb) / 2 + dx, ya + dy - 4, _lag_text(link), "middle", link))
    lines.append("</g>")
    if labels:
        lines.append(
            f'<g class="edge-labels" font-family="{SANS}" '
            f'font-size="{_n(EDGE_LABEL_FONT_SIZE)}" stroke="#ffffff" stroke-width="3" '
            f'paint-order="stroke" stroke-linejoin="round">'
        )
        lines += labels
        lines.append("</g>")
    return "\n".join(lines)


def _rounded_path(points: list[tuple[float, float]], dx: float, dy: float) -> str:
    """Horizontal and vertical runs through ``points``, each corner rounded."""
    moved = [(x + dx, y + dy) for x, y in points]
    commands = [f"M{_n(moved[0][0])},{_n(moved[0][1])}"]
    for (xa, ya), (xb, yb), (xc, yc) in zip(moved, moved[1:], moved[2:], strict=False):
        before = min(CORNER_RADIUS, (abs(xb - xa) + abs(yb - ya)) / 2)
        after = min(CORNER_RADIUS, (abs(xc - xb) + abs(yc - yb)) / 2)
        x_in = xb - before * _sign(xb - xa)
        y_in = yb - before * _sign(yb - ya)
        x_out = xb + after * _sign(xc - xb)
        y_out = yb + after * _sign(yc - yb)
        commands.append(f"L{_n(x_in)},{_n(y_in)} Q{_n(xb)},{_n(yb)} {_n(x_out)},{_n(y_out)}")
    commands.append(f"L{_n(moved[-1][0])},{_n(moved[-1][1])}")
    return " ".join(commands)


def _sign(value: float) -> float:
    return 1.0 if value > 0 else -1.0 if value < 0 else 0.0


def _link_attributes(link: Link) -> str:
    lag = f' data-lag="{link.lag}" stroke-dasharray="{DASHES}"' if link.lag else ""
    return f' data-from="{_text(link.source)}" data-to="{_text(link.target)}"{lag}'


def _lag_text(link: Link) -> str:
    return f"t\u2212{link.lag}" if link.lag else ""


def _label(x: float, y: float, text: str, anchor: str, link: Link) -> str:
    colour = FEEDBACK_COLOUR if link.feedback else MUTED_COLOUR
    return (
        f'<text class="edge-label" data-from="{_text(link.source)}" '
        f'data-to="{_text(link.target)}" x="{_n(x)}" y="{_n(y)}" text-anchor="{anchor}" '
        f'fill="{colour}">{_text(text)}</text>'
    )


def _corner_inset(box: NodeBox, y: float) -> float:
    """How far inside the box's side its outline is at height ``y`` (rounded corners, the
    points of a router)."""
    style = KIND_STYLES.get(box.kind, OTHER_STYLE)
    if style.shape == "split":
        return ROUTER_POINT * abs(y - (box.y + box.height / 2)) / (box.height / 2)
    if style.shape == "cylinder":
        return 0.0  # ports stay on the straight sides, below the rim
    radius = box.height * style.radius
    into_corner = abs(y - (box.y + box.height / 2)) - (box.height / 2 - radius)
    if into_corner <= 0:
        return 0.0
    return radius - math.sqrt(radius * radius - into_corner * into_corner)


def _path_data(points: list[tuple[float, float]], dx: float, dy: float) -> str:
    """Straight runs within columns, curves with horizontal ends across the gaps."""
    moved = [(x + dx, y + dy) for x, y in points]
    x0, y0 = moved[0]
    commands = [f"M{_n(x0)},{_n(y0)}"]
    for i, (x1, y1) in enumerate(moved[1:]):
        if i % 2 == 1:
            bend = (x1 - x0) / 2
            curve = f"C{_n(x0 + bend)},{_n(y0)} {_n(x1 - bend)},{_n(y1)} {_n(x1)},{_n(y1)}"
            commands.append(curve)
        elif _n(x1) != _n(x0):
            commands.append(f"H{_n(x1)}")
        x0, y0 = x1, y1
    return " ".join(commands)


def _nodes(
    boxes: tuple[NodeBox, ...],
    vertices: tuple[Vertex, ...],
    outputs: set[str],
    dx: float,
    dy: float,
) -> str:
    lines = [
        f'<g class="nodes" font-family="{MONO}" font-size="{_n(LABEL_FONT_SIZE)}" '
        f'text-anchor="middle">'
    ]
    for box, vertex in zip(boxes, vertices, strict=True):
        style = KIND_STYLES.get(box.kind, OTHER_STYLE)
        is_output = box.id in outputs
        output_attribute = ' data-output="true"' if is_output else ""
        x, y = box.x + dx, box.y + dy
        stroke = OUTPUT_STROKE if is_output else PLAIN_STROKE
        paint = f'fill="{style.fill}" stroke="{style.stroke}" stroke-width="{_n(stroke)}"' + (
            ' stroke-dasharray="4 3"' if style.dashed else ""
        )
        label_y = y + box.height / 2 + 4.2 + (CYLINDER_RIM / 2 if style.shape == "cylinder" else 0)
        lines.append(
            f'<g class="node" data-node-id="{_text(box.id)}" data-kind="{_text(box.kind)}"'
            f"{output_attribute}>"
            f"<title>{_text(_tooltip(vertex, is_output))}</title>"
            f"{_shape(box, style, x, y, paint)}"
            f'<text x="{_n(x + box.width / 2)}" y="{_n(label_y)}" '
            f'fill="{style.text}">{_text(box.id)}</text>'
            f"{_badge(vertex.badge, style, x + box.width / 2, y + box.height)}</g>"
        )
    lines.append("</g>")
    return "\n".join(lines)


def _shape(box: NodeBox, style: KindStyle, x: float, y: float, paint: str) -> str:
    w, h = box.width, box.height
    if style.shape == "split":
        p = ROUTER_POINT
        corners = (
            (x, y + h / 2),
            (x + p, y),
            (x + w - p, y),
            (x + w, y + h / 2),
            (x + w - p, y + h),
            (x + p, y + h),
        )
        points = " ".join(f"{_n(px)},{_n(py)}" for px, py in corners)
        return f'<polygon class="shape" points="{points}" {paint}/>'
    if style.shape == "cylinder":
        rim = (
            f'<path class="rim" d="M{_n(x)},{_n(y + CYLINDER_RIM)} '
            f'A{_n(w / 2)},{_n(CYLINDER_RIM)} 0 0 0 {_n(x + w)},{_n(y + CYLINDER_RIM)}" '
            f'fill="none" stroke="{style.stroke}" stroke-width="{_n(PLAIN_STROKE)}"/>'
        )
        return (
            f'<rect class="shape" x="{_n(x)}" y="{_n(y)}" width="{_n(w)}" height="{_n(h)}" '
            f'rx="{_n(w / 2)}" ry="{_n(CYLINDER_RIM)}" {paint}/>{rim}'
        )
    rect = (
        f'<rect class="shape" x="{_n(x)}" y="{_n(y)}" width="{_n(w)}" height="{_n(h)}" '
        f'rx="{_n(h * style.radius)}" {paint}/>'
    )
    if style.shape == "sink":
        bar = x + w - SINK_BAR
        rect += (
            f'<path class="bar" d="M{_n(bar)},{_n(y)} V{_n(y + h)}" '
            f'stroke="{style.stroke}" stroke-width="{_n(SINK_BAR / 2)}"/>'
        )
    return rect


def _badge(text: str, style: KindStyle, centre: float, bottom: float) -> str:
    """A dispatch schedule or WIP limit, on the box's lower edge."""
    if not text:
        return ""
    width = len(text) * BADGE_CHAR_WIDTH + 10
    top = bottom - BADGE_HEIGHT / 2
    return (
        f'<g class="badge"><rect x="{_n(centre - width / 2)}" y="{_n(top)}" '
        f'width="{_n(width)}" height="{_n(BADGE_HEIGHT)}" rx="{_n(BADGE_HEIGHT / 2)}" '
        f'fill="#ffffff" stroke="{style.stroke}" stroke-width="1"/>'
        f'<text x="{_n(centre)}" y="{_n(top + BADGE_HEIGHT / 2 + 3.3)}" '
        f'font-family="{SANS}" font-size="{_n(BADGE_FONT_SIZE)}" '
        f'fill="{style.text}">{_text(text)}</text></g>'
    )


def _tooltip(vertex: Vertex, is_output: bool) -> str:
    badge = f", {vertex.badge}" if vertex.badge else ""
    return f"{vertex.id} ({vertex.detail}{badge}){' - output' if is_output else ''}"


def _legend(kinds: list[str], has_outputs: bool, has_lags: bool, top: float) -> tuple[str, float]:
    """The key to shapes and colours, one row; returns the SVG and its width."""
    swatch_w, swatch_h = LEGEND_SWATCH
    items = [(kind, KIND_STYLES.get(kind, OTHER_STYLE), PLAIN_STROKE) for kind in kinds]
    if has_outputs:
        items.append(("output", OTHER_STYLE, OUTPUT_STROKE))
    if has_lags:
        items.append(("read through SHIFT (t\u2212k)", OTHER_STYLE, PLAIN_STROKE))
    lines = [
        f'<g class="legend" font-family="{SANS}" font-size="{_n(LEGEND_FONT_SIZE)}" '
        f'fill="{MUTED_COLOUR}">'
    ]
    x = MARGIN
    for name, style, stroke in items:
        if name.startswith("read through"):
            middle = top + swatch_h / 2
            swatch = (
                f'<path class="swatch" d="M{_n(x)},{_n(middle)} H{_n(x + swatch_w)}" '
                f'stroke="{FEEDBACK_COLOUR}" stroke-width="1.4" stroke-dasharray="{DASHES}"/>'
            )
        else:
            fill = "#ffffff" if name == "output" else style.fill
            ry = f' ry="{_n(swatch_h * 0.3)}"' if style.shape == "cylinder" else ""
            rx = swatch_w / 2 if style.shape == "cylinder" else swatch_h * style.radius
            swatch = (
                f'<rect x="{_n(x)}" y="{_n(top)}" width="{_n(swatch_w)}" '
                f'height="{_n(swatch_h)}" rx="{_n(rx)}"{ry} fill="{fill}" '
                f'stroke="{style.stroke}" stroke-width="{_n(stroke)}"/>'
            )
        lines.append(
            f'{swatch}<text x="{_n(x + swatch_w + 6)}" y="{_n(top + swatch_h / 2 + 4)}">'
            f"{_text(name)}</text>"
        )
        x += swatch_w + 6 + len(name) * LEGEND_CHAR_WIDTH + LEGEND_ITEM_GAP
    lines.append("</g>")
    return "\n".join(lines), x - LEGEND_ITEM_GAP - MARGIN


_NOT_SERIES = frozenset({"router", "service", "sink", "dependency", "constraint"})


def _emphasised_outputs(model: Model, graph: PreviewGraph) -> set[str]:
    outputs = {output.series for output in model.outputs}
    # routers, services, sinks and constraints are drawn but are no series of their own
    series = {vertex.id for vertex in graph.vertices if vertex.kind not in _NOT_SERIES}
    return set() if outputs >= series else outputs & series


def _kinds_in_order(vertices: tuple[Vertex, ...]) -> list[str]:
    present: set[str] = {vertex.kind for vertex in vertices}
    known = [kind for kind in KIND_STYLES if kind in present]
    return known + sorted(present - set(KIND_STYLES))


def _display_title(title: str | None) -> str:
    """The title on one line, without characters XML forbids, cut to a readable length."""
    if not title:
        return ""
    line = " ".join(_NOT_XML.sub("\ufffd", title).split())
    if len(line) > TITLE_MAX_CHARS:
        line = line[: TITLE_MAX_CHARS - 1] + "\u2026"
    return line


def _id_prefix(graph: PreviewGraph, model: Model, title: str | None) -> str:
    """A prefix for the document's ids, stable for the same drawing and distinct otherwise."""
    digest = hashlib.sha256()
    for vertex in graph.vertices:
        digest.update(f"n\0{vertex.id}\0{vertex.kind}\0".encode())
    for link in graph.links:
        digest.update(f"e\0{link.source}\0{link.target}\0{link.lag}\0{link.feedback}\0".encode())
    for output in model.outputs:
        digest.update(f"o\0{output.series}\0".encode())
    digest.update(f"t\0{title or ''}".encode("utf-8", "surrogatepass"))
    return "ftp-" + digest.hexdigest()[:10]


def _text(value: str) -> str:
    """Escape for XML text and for double- or single-quoted attribute values."""
    return escape(value, {'"': "&quot;", "'": "&apos;"})


def _n(value: float) -> str:
    """A coordinate with one fixed decimal, without ``.0`` or a negative zero."""
    text = f"{value:.1f}"
    if text.endswith(".0"):
        text = text[:-2]
    return "0" if text == "-0" else text
