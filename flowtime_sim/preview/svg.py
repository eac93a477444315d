"""Draw a :class:`~flowtime_sim.preview.layout.Layout` as a self-contained SVG document.

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

from flowtime_sim.model.types import ConstNode, ExprNode, Model, Node, PmfNode
from flowtime_sim.preview.layout import (
    LABEL_FONT_SIZE,
    EdgeRoute,
    NodeBox,
    layout_model,
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


@dataclass(frozen=True, slots=True)
class KindStyle:
    """How nodes of one kind look; ``radius`` is the corner radius as a share of the height."""

    fill: str
    stroke: str
    text: str
    radius: float


#: const: square-cornered; pmf: a stadium; expr: rounded. Other kinds (from plugins): grey.
KIND_STYLES: dict[str, KindStyle] = {
    "const": KindStyle(fill="#e3edfd", stroke="#3d6fd6", text="#17306b", radius=0.1),
    "pmf": KindStyle(fill="#fdf1d8", stroke="#c48716", text="#6b4300", radius=0.5),
    "expr": KindStyle(fill="#e2f4e8", stroke="#2e9457", text="#124a2a", radius=0.27),
}
OTHER_STYLE = KindStyle(fill="#eef0f3", stroke="#7a8494", text="#2b313b", radius=0.1)

# Characters XML 1.0 does not allow at all; a title is free text and may contain them.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def render_svg(model: Model, title: str | None = None) -> str:
    """Render ``model``'s dependency graph as an SVG document (a ``str``).

    Inputs are on the left, outputs on the right; node shape and colour follow the node kind,
    output series have a bold border (unless every node is an output, when that would say
    nothing), and ``title`` (any text, escaped) heads the drawing.
    Every node is a ``<g class="node" data-node-id=...>`` and every edge a
    ``<path class="edge" data-from=... data-to=...>``. The same model and title give the same
    bytes on every machine.
    """
    layout = layout_model(model)
    outputs = _emphasised_outputs(model)
    prefix = _id_prefix(model, title)
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
    kinds = _kinds_in_order(model.nodes)
    legend, legend_width = _legend(kinds, bool(outputs), MARGIN + header_height)
    parts.append(legend)
    header_height += LEGEND_SWATCH[1] + HEADER_GAP

    top = MARGIN + header_height
    parts.append(_edges(layout.edges, layout.nodes, prefix, MARGIN, top))
    parts.append(_nodes(layout.nodes, model, outputs, MARGIN, top))

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
        f"</defs>\n"
        f'<rect width="{_n(width)}" height="{_n(height)}" rx="8" fill="#ffffff"/>\n'
    )
    return head + "\n".join(part for part in parts if part) + "\n</svg>\n"


# ---------------------------------------------------------------------------------------------


def _edges(
    routes: tuple[EdgeRoute, ...], boxes: tuple[NodeBox, ...], prefix: str, dx: float, dy: float
) -> str:
    by_id = {box.id: box for box in boxes}
    lines = [
        f'<g class="edges" fill="none" stroke="{EDGE_COLOUR}" stroke-width="1.4" '
        f'stroke-linecap="round" marker-end="url(#{prefix}-arrow)">'
    ]
    for route in routes:
        points = list(route.points)
        (x0, y0), (x1, y1) = points[0], points[-1]
        points[0] = (x0 - _corner_inset(by_id[route.source], y0), y0)
        points[-1] = (x1 + _corner_inset(by_id[route.target], y1), y1)
        lines.append(
            f'<path class="edge" data-from="{_text(route.source)}" '
            f'data-to="{_text(route.target)}" d="{_path_data(points, dx, dy)}"/>'
        )
    lines.append("</g>")
    return "\n".join(lines)


def _corner_inset(box: NodeBox, y: float) -> float:
    """How far inside the box's side its outline is at height ``y`` (rounded corners)."""
    radius = box.height * KIND_STYLES.get(box.kind, OTHER_STYLE).radius
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
    boxes: tuple[NodeBox, ...], model: Model, outputs: set[str], dx: float, dy: float
) -> str:
    lines = [
        f'<g class="nodes" font-family="{MONO}" font-size="{_n(LABEL_FONT_SIZE)}" '
        f'text-anchor="middle">'
    ]
    for box, node in zip(boxes, model.nodes, strict=True):
        style = KIND_STYLES.get(box.kind, OTHER_STYLE)
        is_output = box.id in outputs
        output_attribute = ' data-output="true"' if is_output else ""
        x, y = box.x + dx, box.y + dy
        lines.append(
            f'<g class="node" data-node-id="{_text(box.id)}" data-kind="{_text(box.kind)}"'
            f"{output_attribute}>"
            f"<title>{_text(_tooltip(node, is_output))}</title>"
            f'<rect x="{_n(x)}" y="{_n(y)}" width="{_n(box.width)}" height="{_n(box.height)}" '
            f'rx="{_n(box.height * style.radius)}" fill="{style.fill}" stroke="{style.stroke}" '
            f'stroke-width="{_n(OUTPUT_STROKE if is_output else PLAIN_STROKE)}"/>'
            f'<text x="{_n(x + box.width / 2)}" y="{_n(y + box.height / 2 + 4.2)}" '
            f'fill="{style.text}">{_text(box.id)}</text></g>'
        )
    lines.append("</g>")
    return "\n".join(lines)


def _tooltip(node: Node, is_output: bool) -> str:
    if isinstance(node, ExprNode):
        detail = f"{node.kind}: {node.expr}"
    elif isinstance(node, PmfNode):
        detail = f"{node.kind}, expected value {node.expected_value:.6g}"
    elif isinstance(node, ConstNode):
        detail = f"{node.kind}, {len(node.values)} values"
    else:
        detail = node.kind
    return f"{node.id} ({detail}){' - output' if is_output else ''}"


def _legend(kinds: list[str], has_outputs: bool, top: float) -> tuple[str, float]:
    """The key to shapes and colours, one row; returns the SVG and its width."""
    swatch_w, swatch_h = LEGEND_SWATCH
    items = [(kind, KIND_STYLES.get(kind, OTHER_STYLE), PLAIN_STROKE) for kind in kinds]
    if has_outputs:
        items.append(("output", OTHER_STYLE, OUTPUT_STROKE))
    lines = [
        f'<g class="legend" font-family="{SANS}" font-size="{_n(LEGEND_FONT_SIZE)}" '
        f'fill="{MUTED_COLOUR}">'
    ]
    x = MARGIN
    for name, style, stroke in items:
        fill = "#ffffff" if name == "output" else style.fill
        lines.append(
            f'<rect x="{_n(x)}" y="{_n(top)}" width="{_n(swatch_w)}" height="{_n(swatch_h)}" '
            f'rx="{_n(swatch_h * style.radius)}" fill="{fill}" stroke="{style.stroke}" '
            f'stroke-width="{_n(stroke)}"/>'
            f'<text x="{_n(x + swatch_w + 6)}" y="{_n(top + swatch_h / 2 + 4)}">'
            f"{_text(name)}</text>"
        )
        x += swatch_w + 6 + len(name) * LEGEND_CHAR_WIDTH + LEGEND_ITEM_GAP
    lines.append("</g>")
    return "\n".join(lines), x - LEGEND_ITEM_GAP - MARGIN


def _emphasised_outputs(model: Model) -> set[str]:
    outputs = {output.series for output in model.outputs}
    return set() if outputs >= {node.id for node in model.nodes} else outputs


def _kinds_in_order(nodes: tuple[Node, ...]) -> list[str]:
    present: set[str] = {node.kind for node in nodes}
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


def _id_prefix(model: Model, title: str | None) -> str:
    """A prefix for the document's ids, stable for the same drawing and distinct otherwise."""
    digest = hashlib.sha256()
    for node in model.nodes:
        digest.update(f"n\0{node.id}\0{node.kind}\0".encode())
    for source, target in model.edges:
        digest.update(f"e\0{source}\0{target}\0".encode())
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
