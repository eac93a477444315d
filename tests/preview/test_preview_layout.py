"""The layered layout: columns, ordering, routes that keep clear of boxes."""

from __future__ import annotations

from collections.abc import Callable
from itertools import pairwise

from flowtime_sim.model.types import Model
from flowtime_sim.preview import Layout, NodeBox, layout_model
from flowtime_sim.preview.layout import NODE_MIN_WIDTH, node_width


def hits(box: NodeBox, x0: float, x1: float, y: float) -> bool:
    """Whether the horizontal run from ``x0`` to ``x1`` at height ``y`` touches ``box``."""
    inside_x = x0 < box.x + box.width and box.x < x1
    return inside_x and box.y <= y <= box.y + box.height


def check_routes(model: Model, layout: Layout) -> None:
    boxes = {box.id: box for box in layout.nodes}
    assert [(route.source, route.target) for route in layout.edges] == list(model.edges)
    for route in layout.edges:
        source, target = boxes[route.source], boxes[route.target]
        assert source.layer < target.layer
        points = route.points
        assert len(points) == 2 * (target.layer - source.layer + 1)
        (x0, y0), (x1, y1) = points[0], points[-1]
        assert x0 == source.x + source.width and source.y < y0 < source.y + source.height
        assert x1 == target.x and target.y < y1 < target.y + target.height
        for i, ((ax, ay), (bx, by)) in enumerate(pairwise(points)):
            assert ax <= bx
            if i % 2 == 0:  # a straight run inside a column
                assert ay == by
                ends = {route.source, route.target} if i in (0, len(points) - 2) else set()
                for box in layout.nodes:
                    if box.id not in ends:
                        assert not hits(box, ax, bx, ay), f"{route} cuts through {box.id}"
            else:  # a curve across a gap: no box may reach into it
                for box in layout.nodes:
                    assert box.x + box.width <= ax or bx <= box.x, f"{route} meets {box.id}"


def test_layers_follow_the_longest_path(make_model: Callable[..., Model]) -> None:
    model = make_model(
        [
            ("a", "const", ()),
            ("b", "expr", ("a",)),
            ("c", "expr", ("a", "b", "d")),
            ("d", "pmf", ()),
            ("e", "const", ()),
        ]
    )
    layout = layout_model(model)
    assert {box.id: box.layer for box in layout.nodes} == {"a": 0, "b": 1, "c": 2, "d": 0, "e": 0}
    columns = sorted({box.x + box.width / 2 for box in layout.nodes})
    assert len(columns) == 3
    check_routes(model, layout)


def test_an_edge_skipping_columns_passes_between_boxes(make_model: Callable[..., Model]) -> None:
    # b1..b3 form a chain, so a -> z has to cross the two columns between them.
    model = make_model(
        [
            ("a", "const", ()),
            ("b1", "const", ()),
            ("b2", "expr", ("b1",)),
            ("b3", "expr", ("b2",)),
            ("blocker", "expr", ("b1",)),
            ("z", "expr", ("a", "b3")),
        ]
    )
    layout = layout_model(model)
    route = next(r for r in layout.edges if (r.source, r.target) == ("a", "z"))
    assert len(route.points) == 8
    check_routes(model, layout)


def test_ordering_removes_avoidable_crossings(make_model: Callable[..., Model]) -> None:
    # In file order the two edges would cross; the sweeps must untangle them.
    model = make_model(
        [
            ("s1", "const", ()),
            ("s2", "const", ()),
            ("s3", "const", ()),
            ("t1", "expr", ("s3",)),
            ("t2", "expr", ("s2",)),
            ("t3", "expr", ("s1",)),
        ]
    )
    y = {box.id: box.y for box in layout_model(model).nodes}
    sources = sorted(["s1", "s2", "s3"], key=y.__getitem__)
    targets = sorted(["t1", "t2", "t3"], key=y.__getitem__)
    feeds = {"s3": "t1", "s2": "t2", "s1": "t3"}
    assert [feeds[s] for s in sources] == targets


def test_edges_meeting_one_side_get_their_own_ports(make_model: Callable[..., Model]) -> None:
    model = make_model(
        [("a", "const", ()), ("b", "const", ()), ("c", "const", ()), ("d", "expr", "abc")]
    )
    layout = layout_model(model)
    ends = [route.points[-1] for route in layout.edges]
    assert len(set(ends)) == 3
    y = {box.id: box.y for box in layout.nodes}
    by_source = sorted(layout.edges, key=lambda r: y[r.source])
    assert [r.points[-1][1] for r in by_source] == sorted(e[1] for e in ends)


def test_box_width_fits_the_label() -> None:
    assert node_width("x") == NODE_MIN_WIDTH
    assert node_width("a" * 30) > node_width("a" * 20) > NODE_MIN_WIDTH


def test_empty_model_has_an_empty_layout(make_model: Callable[..., Model]) -> None:
    layout = layout_model(make_model([]))
    assert layout == Layout(nodes=(), edges=(), width=0.0, height=0.0)


def test_synthetic_models_route_cleanly(synthetic_60: Model, synthetic_200: Model) -> None:
    for model in (synthetic_60, synthetic_200):
        layout = layout_model(model)
        check_routes(model, layout)
        assert layout.width > 0 and layout.height > 0
