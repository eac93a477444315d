"""Layered left-to-right layout of a model's dependency graph.

The classic Sugiyama pipeline, written out small:

1. **Layers** by longest path: a node sits one column right of the deepest node it reads, so
   inputs are in column 0 and every edge points right.
2. **Dummy nodes** split an edge that spans several columns into one-column hops; they become the
   lanes the edge follows between the boxes of the columns it crosses.
3. **Crossing reduction**: alternating down/up barycenter sweeps plus adjacent transpositions,
   keeping the ordering with the fewest crossings seen. Ties are broken by the current position,
   which starts from file order, so the result depends only on the model.
4. **Coordinates**: columns are as wide as their widest box; within a column, vertical positions
   are pulled toward the median of the neighbours' positions by an exact ordered least-squares
   fit (pool-adjacent-violators) that keeps the minimum spacing.

The graph laid out is :func:`~flowtime_sim.preview.graph.preview_graph`'s without its feedback
links, which is acyclic; feedback links (loops closed through ``SHIFT`` or a queue's series)
are then routed as back-edges: arcs from the top of the box read to the top of the box
reading it, above every box and lane of the columns they span, wider arcs above narrower ones.

Only IEEE-754 +, -, *, / and comparisons are used on floats, so the numbers are the same on
every machine.
"""

from __future__ import annotations

from bisect import bisect_right, insort
from dataclasses import dataclass
from itertools import pairwise

from flowtime_sim.model.types import Model
from flowtime_sim.preview.graph import PreviewGraph, preview_graph

#: Labels are set in a monospace font at this size; 0.6 em is the advance of the common
#: monospace faces (DejaVu Sans Mono, Menlo, Consolas), rounded up so a label never overflows.
LABEL_FONT_SIZE = 12.0
LABEL_CHAR_WIDTH = 7.3
NODE_HEIGHT = 30.0
NODE_PADDING_X = 14.0
NODE_MIN_WIDTH = 56.0
#: Horizontal room between two columns, where the edges curve.
COLUMN_GAP = 76.0
#: Vertical room between two boxes in a column, and around an edge passing through a column.
ROW_GAP = 18.0
LANE_GAP = 9.0
#: How far apart the ends of several edges meeting one side of a box are.
PORT_SPACING = 7.0
PORT_MARGIN = 7.0
#: A router's box is pointed at both ends (a split); each point is this deep.
ROUTER_POINT = 12.0
#: Back-edges run this far above the boxes they pass over, one above the other.
ARC_CLEARANCE = 18.0
ARC_STEP = 16.0
#: A back-edge leaves and enters a box this far below its top, above the other edges' ports.
BACK_PORT = 5.0
#: Where in a gap between columns back-edges rise and fall, and how far apart.
BACK_LANE_OFFSET = 12.0
BACK_LANE_GAP = 6.0
#: Room above a back-edge for its ``t−k`` label, and beside the outermost lanes.
ARC_LABEL_ROOM = 14.0
SIDE_ROOM = 4.0

_ORDER_SWEEPS = 24
_PLACE_ROUNDS = 4


@dataclass(frozen=True, slots=True)
class NodeBox:
    """A node's box: ``x``/``y`` is the top-left corner; ``layer`` is its column (0 = inputs)."""

    id: str
    kind: str
    layer: int
    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True, slots=True)
class EdgeRoute:
    """The way an edge ``source -> target`` is drawn.

    ``points`` come in pairs at one height: where the edge enters and leaves each column it
    touches, from the source's right side (``points[0]``) to the target's left side
    (``points[-1]``). Segment ``i`` (``points[i] -> points[i + 1]``) is a straight, horizontal
    run inside a column when ``i`` is even (possibly of length 0), and a hop across the empty
    gap between two columns, drawn as a curve, when ``i`` is odd. Curves therefore never meet a
    box, and the straight runs keep clear of the boxes in their column.
    """

    source: str
    target: str
    points: tuple[tuple[float, float], ...]


@dataclass(frozen=True, slots=True)
class BackEdge:
    """A feedback link: ``points`` are the corners of a path of horizontal and vertical runs,
    from ``source``'s right side up into the gap after its column, left above the boxes, down
    the gap before ``target``'s column into its left side (the same box for a node reading its
    own past). Drawn with rounded corners."""

    source: str
    target: str
    points: tuple[tuple[float, float], ...]


@dataclass(frozen=True, slots=True)
class Layout:
    """Boxes in vertex order, routes and back-edges in link order, the drawing's extent."""

    nodes: tuple[NodeBox, ...]
    edges: tuple[EdgeRoute, ...]
    width: float
    height: float
    back_edges: tuple[BackEdge, ...] = ()


def node_width(node_id: str, kind: str = "") -> float:
    """The width of the box that fits ``node_id`` set as a label (in a ``kind`` box)."""
    width = max(NODE_MIN_WIDTH, len(node_id) * LABEL_CHAR_WIDTH + 2 * NODE_PADDING_X)
    return width + 2 * ROUTER_POINT if kind == "router" else width


def layout_model(model: Model) -> Layout:
    """Lay out ``model``'s preview graph from inputs (left) to outputs (right)."""
    return layout_graph(preview_graph(model))


def layout_graph(graph: PreviewGraph) -> Layout:
    """Lay out ``graph`` (see :mod:`flowtime_sim.preview.graph`).

    The result depends only on the graph's shape — vertex ids and kinds in order, links and
    which of them are feedback — so models that differ only in their numbers (one template,
    other parameters) share one layout, computed once.
    """
    shape = (
        tuple((vertex.id, vertex.kind) for vertex in graph.vertices),
        tuple((link.source, link.target, link.feedback) for link in graph.links),
    )
    layout = _LAYOUTS.get(shape)
    if layout is None:
        layout = _layout(graph)
        if len(_LAYOUTS) >= _LAYOUT_CACHE_SIZE:
            del _LAYOUTS[next(iter(_LAYOUTS))]  # the oldest entry
        _LAYOUTS[shape] = layout
    return layout


_LAYOUT_CACHE_SIZE = 128
_LAYOUTS: dict[tuple[object, ...], Layout] = {}


def _layout(preview: PreviewGraph) -> Layout:
    ids = [vertex.id for vertex in preview.vertices]
    if not ids:
        return Layout(nodes=(), edges=(), width=0.0, height=0.0)
    kinds = [vertex.kind for vertex in preview.vertices]
    forward = [(link.source, link.target) for link in preview.links if not link.feedback]
    back = [(link.source, link.target) for link in preview.links if link.feedback]
    graph = _Graph.build(ids, forward)
    layers = _order_layers(graph)
    ys = _place_vertically(graph, layers)
    return _assemble(ids, kinds, forward, back, graph, layers, ys)


# ---------------------------------------------------------------------------------------------
# The proper layered graph: real nodes are items 0..n-1, dummies follow.


@dataclass(slots=True)
class _Graph:
    layer: list[int]
    preds: list[list[int]]
    succs: list[list[int]]
    chains: list[list[int]]  # per edge: source, dummies..., target
    n_real: int
    n_layers: int

    @classmethod
    def build(cls, ids: list[str], edges: list[tuple[str, str]]) -> _Graph:
        """``edges`` (acyclic) as ``(source, target)`` ids."""
        index = {node_id: i for i, node_id in enumerate(ids)}
        layer = [0] * len(ids)
        readers: list[list[int]] = [[] for _ in ids]
        waiting = [0] * len(ids)
        for source, target in edges:
            readers[index[source]].append(index[target])
            waiting[index[target]] += 1
        ready = [i for i in range(len(ids)) if waiting[i] == 0]
        while ready:  # longest path, in a topological order
            item = ready.pop()
            for reader in readers[item]:
                layer[reader] = max(layer[reader], layer[item] + 1)
                waiting[reader] -= 1
                if waiting[reader] == 0:
                    ready.append(reader)
        preds: list[list[int]] = [[] for _ in ids]
        succs: list[list[int]] = [[] for _ in ids]
        chains: list[list[int]] = []
        for source, target in edges:
            chain = [index[source]]
            for column in range(layer[index[source]] + 1, layer[index[target]]):
                layer.append(column)
                preds.append([])
                succs.append([])
                chain.append(len(layer) - 1)
            chain.append(index[target])
            for upper, lower in pairwise(chain):
                succs[upper].append(lower)
                preds[lower].append(upper)
            chains.append(chain)
        return cls(layer, preds, succs, chains, len(ids), 1 + max(layer[: len(ids)]))


# ---------------------------------------------------------------------------------------------
# Crossing reduction


def _order_layers(graph: _Graph) -> list[list[int]]:
    layers: list[list[int]] = [[] for _ in range(graph.n_layers)]
    for item, column in enumerate(graph.layer):  # file order first, then dummies by edge
        layers[column].append(item)
    pos = [0] * len(graph.layer)
    for layer in layers:
        _number(layer, pos)

    best = [list(layer) for layer in layers]
    best_crossings = _crossings(layers, graph.succs, pos)
    stale = 0
    for sweep in range(_ORDER_SWEEPS):
        if best_crossings == 0 or stale >= 4:
            break
        if sweep % 2 == 0:
            for column in range(1, len(layers)):
                _reorder(layers[column], graph.preds, pos)
        else:
            for column in range(len(layers) - 2, -1, -1):
                _reorder(layers[column], graph.succs, pos)
        _transpose(layers, graph, pos)
        crossings = _crossings(layers, graph.succs, pos)
        if crossings < best_crossings:
            best, best_crossings, stale = [list(layer) for layer in layers], crossings, 0
        else:
            stale += 1
    return best


def _number(layer: list[int], pos: list[int]) -> None:
    for i, item in enumerate(layer):
        pos[item] = i


def _reorder(layer: list[int], neighbours: list[list[int]], pos: list[int]) -> None:
    """Sort ``layer`` by the barycenter of each item's neighbours in the fixed layer.

    Items without neighbours there keep their slot; ties keep their current relative order.
    """
    movable = sorted(
        (sum(pos[n] for n in neighbours[item]) / len(neighbours[item]), pos[item], item)
        for item in layer
        if neighbours[item]
    )
    moved = iter(movable)
    layer[:] = [next(moved)[2] if neighbours[item] else item for item in layer]
    _number(layer, pos)


def _crossings(layers: list[list[int]], succs: list[list[int]], pos: list[int]) -> int:
    total = 0
    for upper in layers[:-1]:
        # With edges taken in the order of their upper ends, a crossing is an inversion of
        # the lower ends: count, for each edge, the earlier edges whose lower end is further.
        seen: list[int] = []
        for item in upper:
            ends = succs[item]
            for end in sorted(pos[s] for s in ends) if len(ends) > 1 else [pos[s] for s in ends]:
                total += len(seen) - bisect_right(seen, end)
                insort(seen, end)
    return total


def _pair_crossings(left: int, right: int, graph: _Graph, pos: list[int]) -> tuple[int, int]:
    """Crossings among the edges of ``left`` and ``right``: as they are, and when swapped."""
    now = swapped = 0
    for neighbours in (graph.preds, graph.succs):
        right_ends = [pos[b] for b in neighbours[right]]
        for a in neighbours[left]:
            pa = pos[a]
            for pb in right_ends:
                if pa > pb:
                    now += 1
                elif pa < pb:
                    swapped += 1
    return now, swapped


def _transpose(layers: list[list[int]], graph: _Graph, pos: list[int]) -> None:
    """Swap neighbours in a layer while that removes crossings (a few rounds at most).

    A swap only changes crossings next to its own layer, so later rounds revisit just the
    layers beside a change.
    """
    preds, succs = graph.preds, graph.succs
    dirty = set(range(len(layers)))
    for _ in range(3):
        changed: set[int] = set()
        for column in sorted(dirty):
            layer = layers[column]
            for i in range(len(layer) - 1):
                left, right = layer[i], layer[i + 1]
                lp, rp, ls, rs = preds[left], preds[right], succs[left], succs[right]
                if len(lp) == len(rp) == len(ls) == len(rs) == 1:
                    # Two long-edge lanes, by far the commonest pair: one edge each side.
                    a, b, c, d = pos[lp[0]], pos[rp[0]], pos[ls[0]], pos[rs[0]]
                    now = (a > b) + (c > d)
                    swapped = (a < b) + (c < d)
                else:
                    now, swapped = _pair_crossings(left, right, graph, pos)
                if swapped < now:
                    layer[i], layer[i + 1] = right, left
                    pos[left], pos[right] = i + 1, i
                    changed.update((column - 1, column, column + 1))
        dirty = {column for column in changed if 0 <= column < len(layers)}
        if not dirty:
            return


# ---------------------------------------------------------------------------------------------
# Vertical placement


def _half_height(item: int, graph: _Graph) -> float:
    return NODE_HEIGHT / 2 if item < graph.n_real else 0.0


def _place_vertically(graph: _Graph, layers: list[list[int]]) -> list[float]:
    """Centre heights of every item, least-squares close to its neighbours' median.

    Sweeps alternate between following the previous column and the next one. Following one
    side at a time lets a box line up exactly with a neighbour, which keeps many edges
    straight; a few rounds settle it.
    """
    seps = [_separations(layer, graph) for layer in layers]
    ys = [0.0] * len(graph.layer)
    for layer, sep in zip(layers, seps, strict=True):
        for item, y in zip(layer, _fit_ordered([0.0] * len(layer), sep), strict=True):
            ys[item] = y
    down = [(column, graph.preds) for column in range(1, len(layers))]
    up = [(column, graph.succs) for column in range(len(layers) - 2, -1, -1)]
    for column, neighbours in (down + up) * _PLACE_ROUNDS:
        layer = layers[column]
        desired = [_median_of(item, neighbours, ys) for item in layer]
        for item, y in zip(layer, _fit_ordered(desired, seps[column]), strict=True):
            ys[item] = y
    return ys


def _separations(layer: list[int], graph: _Graph) -> list[float]:
    """Minimum distance from each item's centre to the previous one's (0 for the first)."""
    seps = [0.0]
    for above, below in pairwise(layer):
        both_real = above < graph.n_real and below < graph.n_real
        gap = ROW_GAP if both_real else LANE_GAP
        seps.append(_half_height(above, graph) + gap + _half_height(below, graph))
    return seps


def _median_of(item: int, neighbours: list[list[int]], ys: list[float]) -> float:
    """The median height of ``item``'s ``neighbours``; its own height when it has none."""
    values = sorted(ys[n] for n in neighbours[item])
    if not values:
        return ys[item]
    middle = len(values) // 2
    return values[middle] if len(values) % 2 else (values[middle - 1] + values[middle]) / 2


def _fit_ordered(desired: list[float], seps: list[float]) -> list[float]:
    """Minimise Σ (y − desired)² subject to y[i] − y[i−1] ≥ seps[i], exactly.

    Subtracting the cumulative separations turns the constraints into ``z`` non-decreasing,
    which is isotonic regression, solved by pooling adjacent violators.
    """
    offsets: list[float] = []
    total = 0.0
    for sep in seps:
        total += sep
        offsets.append(total)
    blocks: list[list[float]] = []  # [sum of targets, count]
    for d, offset in zip(desired, offsets, strict=True):
        blocks.append([d - offset, 1.0])
        while len(blocks) > 1 and (blocks[-2][0] * blocks[-1][1] >= blocks[-1][0] * blocks[-2][1]):
            total_, count = blocks.pop()
            blocks[-1][0] += total_
            blocks[-1][1] += count
    zs = [block[0] / block[1] for block in blocks for _ in range(int(block[1]))]
    return [z + offset for z, offset in zip(zs, offsets, strict=True)]


# ---------------------------------------------------------------------------------------------
# Boxes and routes


def _assemble(
    ids: list[str],
    kinds: list[str],
    forward: list[tuple[str, str]],
    back: list[tuple[str, str]],
    graph: _Graph,
    layers: list[list[int]],
    ys: list[float],
) -> Layout:
    widths = [node_width(node_id, kind) for node_id, kind in zip(ids, kinds, strict=True)]
    column_width = [max(widths[item] for item in layer if item < graph.n_real) for layer in layers]
    column_left: list[float] = []
    x = 0.0
    for width in column_width:
        column_left.append(x)
        x += width + COLUMN_GAP
    total_width = x - COLUMN_GAP
    column_right = [left + width for left, width in zip(column_left, column_width, strict=True)]

    top = min(ys[item] - _half_height(item, graph) for item in range(len(ys)))
    bottom = max(ys[item] + _half_height(item, graph) for item in range(len(ys)))
    lefts = [
        column_left[graph.layer[i]] + (column_width[graph.layer[i]] - widths[i]) / 2
        for i in range(len(ids))
    ]
    sides = [(left, left + width) for left, width in zip(lefts, widths, strict=True)]
    index = {node_id: i for i, node_id in enumerate(ids)}
    arcs = _back_edges(back, index, graph, layers, ys, column_left, column_right, sides)
    shift_x = 0.0
    if arcs:
        xs = [x for arc in arcs for x, _ in arc.points]
        top = min(top, min(y for arc in arcs for _, y in arc.points) - ARC_LABEL_ROOM)
        shift_x = max(0.0, SIDE_ROOM - min(xs))
        total_width = max(total_width, max(xs) + SIDE_ROOM) + shift_x
        arcs = [
            BackEdge(arc.source, arc.target, tuple((x + shift_x, y - top) for x, y in arc.points))
            for arc in arcs
        ]
        column_left = [x + shift_x for x in column_left]
        column_right = [x + shift_x for x in column_right]
        lefts = [x + shift_x for x in lefts]
    ys = [y - top for y in ys]

    boxes: list[NodeBox] = []
    for i, (node_id, kind) in enumerate(zip(ids, kinds, strict=True)):
        column = graph.layer[i]
        boxes.append(
            NodeBox(
                id=node_id,
                kind=kind,
                layer=column,
                x=lefts[i],
                y=ys[i] - NODE_HEIGHT / 2,
                width=widths[i],
                height=NODE_HEIGHT,
            )
        )

    out_port, in_port = _ports(graph, ys)
    routes: list[EdgeRoute] = []
    for (source, target), chain in zip(forward, graph.chains, strict=True):
        start, end = boxes[chain[0]], boxes[chain[-1]]
        leave = out_port[chain[0], chain[1]]
        points = [(start.x + start.width, leave), (column_right[start.layer], leave)]
        for dummy in chain[1:-1]:
            column = graph.layer[dummy]
            points.append((column_left[column], ys[dummy]))
            points.append((column_right[column], ys[dummy]))
        arrive = in_port[chain[-2], chain[-1]]
        points.append((column_left[end.layer], arrive))
        points.append((end.x, arrive))
        routes.append(EdgeRoute(source=source, target=target, points=tuple(points)))
    return Layout(
        nodes=tuple(boxes),
        edges=tuple(routes),
        width=total_width,
        height=bottom - top,
        back_edges=tuple(arcs),
    )


def _back_edges(
    back: list[tuple[str, str]],
    index: dict[str, int],
    graph: _Graph,
    layers: list[list[int]],
    ys: list[float],
    column_left: list[float],
    column_right: list[float],
    boxes: list[tuple[float, float]],
) -> list[BackEdge]:
    """Routes for the feedback links, in their order, before the drawing is moved.

    ``boxes`` are each vertex's left and right x. A route leaves the source's right side near
    its top, rises in the gap after the source's column, runs left above every box and lane
    of the columns it spans, and comes down in the gap before the target's column to enter
    the target's left side near its top; routes sharing a gap or spanning the same columns
    keep apart.
    """
    column_top = [min(ys[item] - _half_height(item, graph) for item in layer) for layer in layers]
    order = sorted(
        range(len(back)),
        key=lambda k: (abs(graph.layer[index[back[k][0]]] - graph.layer[index[back[k][1]]]), k),
    )
    up_lanes: dict[int, int] = {}
    down_lanes: dict[int, int] = {}
    over: list[tuple[int, int, float]] = []  # columns spanned and the height run at
    routes: dict[int, BackEdge] = {}
    for k in order:
        source, target = index[back[k][0]], index[back[k][1]]
        source_column, target_column = graph.layer[source], graph.layer[target]
        low, high = sorted((source_column, target_column))
        clear = min(column_top[low : high + 1]) - ARC_CLEARANCE
        for other_low, other_high, height in over:
            if other_low <= high and low <= other_high:
                clear = min(clear, height - ARC_STEP)
        over.append((low, high, clear))
        up = up_lanes.get(source_column, 0)
        up_lanes[source_column] = up + 1
        down = down_lanes.get(target_column, 0)
        down_lanes[target_column] = down + 1
        x_up = column_right[source_column] + BACK_LANE_OFFSET + up * BACK_LANE_GAP
        x_down = column_left[target_column] - BACK_LANE_OFFSET - down * BACK_LANE_GAP
        y_out = ys[source] - NODE_HEIGHT / 2 + BACK_PORT
        y_in = ys[target] - NODE_HEIGHT / 2 + BACK_PORT
        points = (
            (boxes[source][1], y_out),
            (x_up, y_out),
            (x_up, clear),
            (x_down, clear),
            (x_down, y_in),
            (boxes[target][0], y_in),
        )
        routes[k] = BackEdge(back[k][0], back[k][1], points)
    return [routes[k] for k in range(len(back))]


def _ports(
    graph: _Graph, ys: list[float]
) -> tuple[dict[tuple[int, int], float], dict[tuple[int, int], float]]:
    """Where each hop leaves its source box and enters its target box.

    Several edges on one side of a box are spread over its height in the order of the heights
    they come from or go to, so they neither cross at the box nor share one arrowhead.
    """
    out_port: dict[tuple[int, int], float] = {}
    in_port: dict[tuple[int, int], float] = {}
    for item in range(graph.n_real):
        for neighbours, ports, outgoing in (
            (graph.succs, out_port, True),
            (graph.preds, in_port, False),
        ):
            ordered = sorted(neighbours[item], key=lambda n: (ys[n], n))
            step = PORT_SPACING
            if len(ordered) > 1:
                step = min(PORT_SPACING, (NODE_HEIGHT - 2 * PORT_MARGIN) / (len(ordered) - 1))
            for k, n in enumerate(ordered):
                y = ys[item] + (k - (len(ordered) - 1) / 2) * step
                ports[(item, n) if outgoing else (n, item)] = y
    return out_port, in_port
