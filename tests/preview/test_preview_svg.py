"""The SVG document: structure, geometry read back from the markup, escaping, determinism."""

from __future__ import annotations

import os
import pickle
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path

import pytest

from flowtime_sim.model import load_model_file
from flowtime_sim.model.types import ConstNode, Model, Output
from flowtime_sim.preview import render_svg
from flowtime_sim.preview.graph import preview_graph
from flowtime_sim.preview.layout import LABEL_CHAR_WIDTH, NODE_PADDING_X

SVG = "{http://www.w3.org/2000/svg}"
GOLDEN = Path(__file__).parent / "golden"
# The engine conformance cases (the repository's copy in tests/conformance).
CONFORMANCE_MODELS = sorted(
    (Path(__file__).resolve().parents[1] / "conformance").glob("*.model.yaml")
)
Rect = tuple[float, float, float, float]  # x, y, width, height


def parse(svg: str) -> ET.Element:
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG}svg"
    return root


def node_groups(root: ET.Element) -> dict[str, ET.Element]:
    groups = root.findall(f".//{SVG}g[@class='node']")
    by_id = {g.attrib["data-node-id"]: g for g in groups}
    assert len(by_id) == len(groups), "node ids must be unique"
    return by_id


def rect_of(group: ET.Element) -> Rect:
    """The box of a node's shape: a ``rect``, or the bounds of a router's ``polygon``."""
    shape = group.find(f"{SVG}*[@class='shape']")
    assert shape is not None
    if shape.tag == f"{SVG}polygon":
        corners = [tuple(map(float, p.split(","))) for p in shape.attrib["points"].split()]
        xs, ys = [c[0] for c in corners], [c[1] for c in corners]
        return (min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys))
    return tuple(float(shape.attrib[k]) for k in ("x", "y", "width", "height"))  # type: ignore[return-value]


def path_points(d: str) -> list[tuple[float, float]]:
    """Every point a path passes through or bends toward, in order (M, C, H only)."""
    points: list[tuple[float, float]] = []
    for command, args in re.findall(r"([MCH])([^MCH]*)", d):
        numbers = [float(v) for v in re.findall(r"-?\d+(?:\.\d+)?", args)]
        if command == "H":
            points.append((numbers[0], points[-1][1]))
        else:
            points.extend(zip(numbers[::2], numbers[1::2], strict=True))
    return points


def check_drawing(model: Model, svg: str) -> None:
    """Everything a preview of ``model`` must satisfy, read back from the SVG alone."""
    root = parse(svg)
    view = [float(v) for v in root.attrib["viewBox"].split()]
    assert view[:2] == [0, 0]
    assert view[2:] == [float(root.attrib["width"]), float(root.attrib["height"])]

    graph = preview_graph(model)
    groups = node_groups(root)
    assert list(groups) == [vertex.id for vertex in graph.vertices]
    rects = {node_id: rect_of(g) for node_id, g in groups.items()}
    for node_id, group in groups.items():
        label = group.find(f"{SVG}text")
        assert label is not None and label.text == node_id
        x, y, w, h = rects[node_id]
        assert w >= len(node_id) * LABEL_CHAR_WIDTH + 2 * NODE_PADDING_X - 0.05
        assert group.attrib["data-kind"] == next(v.kind for v in graph.vertices if v.id == node_id)
        assert x >= 0 and y >= 0 and x + w <= view[2] and y + h <= view[3]

    boxes = list(rects.items())
    for i, (a, (ax, ay, aw, ah)) in enumerate(boxes):
        for b, (bx, by, bw, bh) in boxes[i + 1 :]:
            apart = ax + aw < bx or bx + bw < ax or ay + ah < by or by + bh < ay
            assert apart, f"boxes of {a} and {b} overlap"

    every = [p for p in root.iter(f"{SVG}path") if "edge" in p.attrib.get("class", "").split()]
    paths = [p for p in every if "feedback" not in p.attrib["class"].split()]
    drawn = sorted((p.attrib["data-from"], p.attrib["data-to"]) for p in paths)
    assert drawn == [(k.source, k.target) for k in graph.links if not k.feedback]
    back = sorted((p.attrib["data-from"], p.attrib["data-to"]) for p in every if p not in paths)
    assert back == [(k.source, k.target) for k in graph.links if k.feedback]
    for path in every:
        link = next(
            k
            for k in graph.links
            if (k.source, k.target) == (path.attrib["data-from"], path.attrib["data-to"])
        )
        classes = path.attrib["class"].split()
        assert ("lagged" in classes) == (link.lag > 0) == ("stroke-dasharray" in path.attrib)
        if link.lag:
            assert path.attrib["data-lag"] == str(link.lag)
    for path in paths:
        source, target = rects[path.attrib["data-from"]], rects[path.attrib["data-to"]]
        assert source[0] + source[2] < target[0], "edges run left to right"
        points = path_points(path.attrib["d"])
        xs = [x for x, _ in points]
        assert xs == sorted(xs), "an edge never turns back"
        (x0, y0), (x1, y1) = points[0], points[-1]
        assert source[0] + source[2] / 2 < x0 <= source[0] + source[2] + 0.11
        assert source[1] < y0 < source[1] + source[3]
        assert target[0] - 0.11 <= x1 < target[0] + target[2] / 2
        assert target[1] < y1 < target[1] + target[3]


def test_small_model_is_complete_and_consistent(make_model: Callable[..., Model]) -> None:
    model = make_model(
        [
            ("demand", "const", ()),
            ("size", "pmf", ()),
            ("served", "expr", ("demand", "size")),
            ("backlog", "expr", ("demand", "served")),
            ("late", "expr", ("backlog", "size")),
        ],
        outputs=["late"],
    )
    svg = render_svg(model, title="Checkout")
    check_drawing(model, svg)
    root = parse(svg)
    assert root.find(f".//{SVG}text[@class='title']").text == "Checkout"  # type: ignore[union-attr]


def test_kinds_are_told_apart_by_shape_and_colour(make_model: Callable[..., Model]) -> None:
    model = make_model([("c", "const", ()), ("p", "pmf", ()), ("e", "expr", ("c", "p"))])
    root = parse(render_svg(model))
    rects = {
        g.attrib["data-kind"]: g.find(f"{SVG}rect").attrib  # type: ignore[union-attr]
        for g in root.findall(f".//{SVG}g[@class='node']")
    }
    assert len({r["fill"] for r in rects.values()}) == 3
    radii = {kind: float(r["rx"]) / float(r["height"]) for kind, r in rects.items()}
    assert radii["pmf"] == 0.5  # a stadium
    assert radii["const"] < radii["expr"] < radii["pmf"]
    legend = root.find(f".//{SVG}g[@class='legend']")
    assert legend is not None
    assert [t.text for t in legend.iter(f"{SVG}text")] == ["const", "pmf", "expr"]


def test_outputs_are_marked_only_when_some_nodes_are_not_outputs(
    make_model: Callable[..., Model],
) -> None:
    specs = [("a", "const", ()), ("b", "expr", ("a",)), ("c", "expr", ("b",))]
    some = parse(render_svg(make_model(specs, outputs=["c"])))
    marked = [g.attrib["data-node-id"] for g in some.iter(f"{SVG}g") if "data-output" in g.attrib]
    assert marked == ["c"]
    legend = [t.text for t in some.find(f".//{SVG}g[@class='legend']").iter(f"{SVG}text")]  # type: ignore[union-attr]
    assert legend[-1] == "output"

    every = parse(render_svg(make_model(specs)))
    assert not [g for g in every.iter(f"{SVG}g") if "data-output" in g.attrib]
    legend = [t.text for t in every.find(f".//{SVG}g[@class='legend']").iter(f"{SVG}text")]  # type: ignore[union-attr]
    assert "output" not in legend


def test_node_tooltip_describes_the_node(make_model: Callable[..., Model]) -> None:
    model = make_model([("a", "const", ()), ("p", "pmf", ()), ("b", "expr", ("a",))])
    groups = node_groups(parse(render_svg(model)))
    titles = {k: g.find(f"{SVG}title").text for k, g in groups.items()}  # type: ignore[union-attr]
    assert titles == {
        "a": "a (const, 4 values)",
        "p": "p (pmf, expected value 1.5)",
        "b": "b (expr: 1 + a)",
    }


def test_long_labels_widen_their_box(make_model: Callable[..., Model]) -> None:
    long_id = "pending_review_total_" * 3
    model = make_model([("a", "const", ()), (long_id, "expr", ("a",))])
    svg = render_svg(model)
    check_drawing(model, svg)
    rects = {k: rect_of(g) for k, g in node_groups(parse(svg)).items()}
    assert rects[long_id][2] > 3 * rects["a"][2]


def test_hostile_title_is_escaped(make_model: Callable[..., Model]) -> None:
    model = make_model([("a", "const", ())])
    title = "<script>alert(1)</script>&\"'"
    svg = render_svg(model, title=title)
    assert "<script" not in svg
    assert "&lt;script&gt;alert(1)&lt;/script&gt;&amp;&quot;&apos;" in svg
    root = parse(svg)
    assert root.find(f".//{SVG}text[@class='title']").text == title  # type: ignore[union-attr]
    assert root.find(f"{SVG}title").text == title  # type: ignore[union-attr]


def test_title_with_characters_xml_forbids_still_parses(make_model: Callable[..., Model]) -> None:
    model = make_model([("a", "const", ())])
    root = parse(render_svg(model, title="bad\x00 \x1b[31mred\ud800\nnext line"))
    shown = root.find(f".//{SVG}text[@class='title']").text  # type: ignore[union-attr]
    assert shown == "bad\ufffd \ufffd[31mred\ufffd next line"


def test_very_long_title_is_cut(make_model: Callable[..., Model]) -> None:
    root = parse(render_svg(make_model([("a", "const", ())]), title="x" * 5000))
    shown = root.find(f".//{SVG}text[@class='title']").text  # type: ignore[union-attr]
    assert shown == "x" * 119 + "\u2026"
    assert float(root.attrib["width"]) < 1200


def test_self_contained_with_namespaced_ids(make_model: Callable[..., Model]) -> None:
    first = render_svg(make_model([("a", "const", ()), ("b", "expr", ("a",))]))
    second = render_svg(make_model([("a", "const", ()), ("c", "expr", ("a",))]))
    for svg in (first, second):
        assert "<script" not in svg and "<style" not in svg
        assert "href" not in svg and "http" not in svg.replace('"http://www.w3.org/2000/svg"', "")
        assert "url(" not in svg.replace("url(#", "")
    first_ids = set(re.findall(r' id="([^"]+)"', first))
    second_ids = set(re.findall(r' id="([^"]+)"', second))
    assert first_ids and second_ids and not first_ids & second_ids
    prefix = next(iter(first_ids)).rsplit("-", 1)[0]
    assert all(i.startswith(prefix + "-") for i in first_ids)
    for reference in re.findall(r"url\(#([^)]+)\)", first):
        assert reference in first_ids


def test_empty_model_renders_a_legend_only(make_model: Callable[..., Model]) -> None:
    root = parse(render_svg(make_model([]), title="nothing"))
    assert node_groups(root) == {}
    assert root.findall(f".//{SVG}path[@class='edge']") == []


def test_node_kinds_from_plugins_get_a_neutral_style(make_model: Callable[..., Model]) -> None:
    base = make_model([("a", "const", ())])
    queue = ConstNode(id="q", values=(1.0,) * 4, kind="queue")  # type: ignore[arg-type]
    model = Model(
        grid=base.grid,
        nodes=(*base.nodes, queue),
        outputs=(Output("a"), Output("q")),
        dependencies={"a": (), "q": ()},
        order=("a", "q"),
    )
    root = parse(render_svg(model))
    group = node_groups(root)["q"]
    assert group.attrib["data-kind"] == "queue"
    assert group.find(f"{SVG}title").text == "q (queue, 4 values)"  # type: ignore[union-attr]
    legend = [t.text for t in root.find(f".//{SVG}g[@class='legend']").iter(f"{SVG}text")]  # type: ignore[union-attr]
    assert legend == ["const", "queue"]


def test_synthetic_60_node_model(synthetic_60: Model) -> None:
    assert len(synthetic_60.nodes) == 60
    # without state, the drawn edges are exactly the model's dependencies
    graph = preview_graph(synthetic_60)
    assert [(link.source, link.target) for link in graph.links] == list(synthetic_60.edges)
    assert not any(link.feedback or link.lag for link in graph.links)
    check_drawing(synthetic_60, render_svg(synthetic_60, title="sixty"))


def test_synthetic_200_node_model_renders(synthetic_200: Model) -> None:
    # its speed (target < 100 ms) is measured by the bench session, not asserted here
    check_drawing(synthetic_200, render_svg(synthetic_200))


def test_same_bytes_twice_and_under_another_hash_seed(synthetic_60: Model) -> None:
    title = "déjà <vu>"
    svg = render_svg(synthetic_60, title=title)
    assert render_svg(synthetic_60, title=title) == svg
    program = (
        "import pickle, sys\n"
        "from flowtime_sim.preview import render_svg\n"
        "model, title = pickle.load(sys.stdin.buffer)\n"
        "sys.stdout.buffer.write(render_svg(model, title=title).encode())\n"
    )
    for seed in ("0", "12345"):
        result = subprocess.run(
            [sys.executable, "-c", program],
            input=pickle.dumps((synthetic_60, title)),
            capture_output=True,
            env={**os.environ, "PYTHONHASHSEED": seed},
            check=True,
        )
        assert result.stdout.decode() == svg


def test_matches_golden_file(make_model: Callable[..., Model]) -> None:
    """Pins the exact bytes, so any change to the drawing shows up as a reviewed diff.

    Regenerate with ``FLOWTIME_UPDATE_GOLDEN=1``.
    """
    model = make_model(
        [
            ("demand", "const", ()),
            ("size", "pmf", ()),
            ("served", "expr", ("demand", "size")),
            ("backlog", "expr", ("served",)),
            ("late", "expr", ("backlog", "demand")),
        ],
        outputs=["late", "served"],
    )
    svg = render_svg(model, title="golden & <small>")
    golden = GOLDEN / "small.svg"
    if os.environ.get("FLOWTIME_UPDATE_GOLDEN"):
        golden.parent.mkdir(exist_ok=True)
        golden.write_text(svg, encoding="utf-8", newline="\n")
    assert svg == golden.read_text(encoding="utf-8")


@pytest.mark.parametrize("path", CONFORMANCE_MODELS, ids=lambda p: p.name)
def test_conformance_models(path: Path) -> None:
    model = load_model_file(path)
    check_drawing(model, render_svg(model, title=path.name))
