"""Stateful models in the preview: queues, routers, badges, feedback edges (SPEC §5a)."""

from __future__ import annotations

import os
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from test_preview_svg import SVG, check_drawing, node_groups, parse

from flowtime_sim.model import parse_model
from flowtime_sim.model.types import Model
from flowtime_sim.preview import layout_model, render_svg
from flowtime_sim.preview.graph import preview_graph

GOLDEN = Path(__file__).parent / "golden"

# A checkout line: a serviceWithBuffer queue with a WIP limit, read back one bin late.
QUEUE = """\
schemaVersion: 1
grid: {bins: 4, binSize: 15, binUnit: minutes}
nodes:
  - {id: arrivals, kind: const, values: [10, 30, 30, 5]}
  - {id: capacity, kind: const, values: [20, 20, 20, 20]}
  - {id: waiting_before, kind: expr, expr: "SHIFT(checkout_queue, 1)"}
  - {id: served, kind: expr, expr: "MIN(capacity, arrivals + waiting_before)"}
  - {id: declined, kind: expr, expr: "served * 0.1"}
  - {id: retries, kind: expr, expr: "SHIFT(declined, 2) * 0.5"}
topology:
  nodes:
    - id: Checkout
      kind: serviceWithBuffer
      semantics: {arrivals: arrivals, served: served, capacity: capacity}
      wipLimit: 40
outputs:
  - {series: checkout_queue}
  - {series: retries}
"""

# A router, a batch queue released every 2nd bin, a dead-letter queue and a sink.
ROUTED = """\
schemaVersion: 1
grid: {bins: 6, binSize: 1, binUnit: hours}
nodes:
  - {id: stream, kind: const, values: [20, 40, 40, 20, 0, 10]}
  - id: splitter
    kind: router
    router:
      inputs: {queue: stream}
      routes:
        - {target: main_in, weight: 3}
        - {target: side_in, weight: 1}
  - {id: release, kind: const, values: [30, 30, 30, 30, 30, 30]}
  - {id: failed, kind: expr, expr: "side_in * 0.5"}
  - {id: drained, kind: const, values: [1, 1, 1, 1, 1, 1]}
topology:
  nodes:
    - id: Oven
      kind: queue
      semantics: {arrivals: main_in, served: release}
      dispatchSchedule: {periodBins: 2, phaseOffset: 1}
    - id: DeadLetters
      kind: dlq
      semantics: {arrivals: failed, served: drained}
    - id: Archive
      kind: sink
      semantics: {arrivals: release}
"""

# A backlog written as a node reading its own past, and served reading the backlog's.
SELF_SHIFT = """\
schemaVersion: 1
grid: {bins: 3, binSize: 1, binUnit: hours}
nodes:
  - {id: demand, kind: const, values: [10, 30, 5]}
  - {id: capacity, kind: const, values: [15, 15, 15]}
  - {id: served, kind: expr, expr: "MIN(capacity, demand + SHIFT(backlog, 1))"}
  - {id: backlog, kind: expr, expr: "SHIFT(backlog, 1) + demand - served"}
"""


def model(text: str) -> Model:
    return parse_model(text, origin="test")


def edge(root: ET.Element, source: str, target: str) -> ET.Element:
    for path in root.iter(f"{SVG}path"):
        if path.attrib.get("data-from") == source and path.attrib.get("data-to") == target:
            return path
    raise AssertionError(f"no edge {source} -> {target}")


def labels(root: ET.Element) -> dict[tuple[str, str], str]:
    return {
        (t.attrib["data-from"], t.attrib["data-to"]): t.text or ""
        for t in root.iter(f"{SVG}text")
        if t.attrib.get("class") == "edge-label"
    }


@pytest.mark.parametrize("text", [QUEUE, ROUTED, SELF_SHIFT])
def test_stateful_models_pass_every_drawing_check(text: str) -> None:
    m = model(text)
    check_drawing(m, render_svg(m, title="state"))


def test_a_queue_is_a_cylinder_named_after_its_queue_series_with_a_wip_badge() -> None:
    root = parse(render_svg(model(QUEUE)))
    group = node_groups(root)["checkout_queue"]
    assert group.attrib["data-kind"] == "serviceWithBuffer"
    assert group.attrib["data-output"] == "true"
    shape = group.find(f"{SVG}rect[@class='shape']")
    assert shape is not None and float(shape.attrib["rx"]) == float(shape.attrib["width"]) / 2
    assert group.find(f"{SVG}path[@class='rim']") is not None
    texts = [t.text for t in group.iter(f"{SVG}text")]
    assert texts == ["checkout_queue", "WIP \u2264 40"]
    tooltip = group.find(f"{SVG}title")
    assert tooltip is not None
    assert tooltip.text == (
        "checkout_queue (serviceWithBuffer Checkout: checkout_queue = QUEUE(arrivals, served, "
        "init=0, wip=40, overflow=checkout_overflow), WIP \u2264 40) - output"
    )
    # what the queue reads flows into it; the series it synthesizes are not drawn
    assert edge(root, "arrivals", "checkout_queue").attrib["class"] == "edge"
    assert edge(root, "served", "checkout_queue").attrib["class"] == "edge"
    assert "checkout_overflow" not in node_groups(root)


def test_a_loop_through_a_queue_is_a_dashed_back_edge_labelled_with_its_lag() -> None:
    m = model(QUEUE)
    root = parse(render_svg(m))
    back = edge(root, "checkout_queue", "waiting_before")
    assert back.attrib["class"] == "edge feedback lagged"
    assert back.attrib["data-lag"] == "1" and back.attrib["stroke-dasharray"] == "5 4"
    assert labels(root)[("checkout_queue", "waiting_before")] == "t\u22121"
    # the layout stays left to right: the queue sits right of what reads it a bin late
    boxes = {box.id: box for box in layout_model(m).nodes}
    assert boxes["checkout_queue"].layer > boxes["waiting_before"].layer
    legend = root.find(f".//{SVG}g[@class='legend']")
    assert legend is not None
    assert [t.text for t in legend.iter(f"{SVG}text")][-1] == "read through SHIFT (t\u2212k)"


def test_a_delay_that_closes_no_loop_is_dashed_but_runs_forward() -> None:
    root = parse(render_svg(model(QUEUE)))
    delay = edge(root, "declined", "retries")
    assert delay.attrib["class"] == "edge lagged" and delay.attrib["data-lag"] == "2"
    assert labels(root)[("declined", "retries")] == "t\u22122"


def test_back_edges_pass_above_the_boxes_of_the_columns_they_span() -> None:
    m = model(QUEUE)
    layout = layout_model(m)
    (arc,) = layout.back_edges
    boxes = {box.id: box for box in layout.nodes}
    source, target = boxes[arc.source], boxes[arc.target]
    assert arc.points[0] == (source.x + source.width, source.y + 5)
    assert arc.points[-1] == (target.x, target.y + 5)
    run = arc.points[2][1]
    assert arc.points[3][1] == run >= 0
    spanned = range(target.layer, source.layer + 1)
    assert all(run < box.y for box in layout.nodes if box.layer in spanned)
    for (ax, ay), (bx, by) in zip(arc.points, arc.points[1:], strict=False):
        assert ax == bx or ay == by  # horizontal and vertical runs only


def test_a_node_reading_its_own_past_gets_a_loop_and_served_a_back_edge() -> None:
    root = parse(render_svg(model(SELF_SHIFT)))
    loop = edge(root, "backlog", "backlog")
    assert loop.attrib["class"] == "edge feedback lagged"
    assert edge(root, "backlog", "served").attrib["class"] == "edge feedback lagged"
    assert edge(root, "served", "backlog").attrib["class"] == "edge"
    assert labels(root) == {("backlog", "backlog"): "t\u22121", ("backlog", "served"): "t\u22121"}


def test_a_router_is_a_split_with_one_labelled_edge_per_route() -> None:
    root = parse(render_svg(model(ROUTED)))
    groups = node_groups(root)
    router = groups["splitter"]
    assert router.attrib["data-kind"] == "router"
    shape = router.find(f"{SVG}polygon[@class='shape']")
    assert shape is not None and len(shape.attrib["points"].split()) == 6
    assert groups["main_in"].attrib["data-kind"] == "route"
    assert groups["side_in"].attrib["data-kind"] == "route"
    assert labels(root) == {("splitter", "main_in"): "75%", ("splitter", "side_in"): "25%"}
    assert edge(root, "stream", "splitter").attrib["class"] == "edge"
    assert edge(root, "main_in", "oven_queue").attrib["class"] == "edge"


def test_queue_kinds_sinks_and_dispatch_badges() -> None:
    root = parse(render_svg(model(ROUTED)))
    groups = node_groups(root)
    oven, dead, archive = groups["oven_queue"], groups["dead_letters_queue"], groups["Archive"]
    assert (oven.attrib["data-kind"], dead.attrib["data-kind"]) == ("queue", "dlq")
    assert [t.text for t in oven.iter(f"{SVG}text")] == ["oven_queue", "every 2 bins"]
    assert dead.find(f"{SVG}path[@class='rim']") is not None
    fills = {g.find(f"{SVG}rect").attrib["fill"] for g in (oven, dead)}  # type: ignore[union-attr]
    assert len(fills) == 2  # a dead-letter queue is told apart from a queue
    assert archive.attrib["data-kind"] == "sink"
    assert archive.find(f"{SVG}path[@class='bar']") is not None
    assert edge(root, "release", "Archive").attrib["class"] == "edge"
    legend = root.find(f".//{SVG}g[@class='legend']")
    assert legend is not None
    assert [t.text for t in legend.iter(f"{SVG}text")] == [
        "const",
        "expr",
        "router",
        "route",
        "queue",
        "dlq",
        "sink",
    ]


def test_models_differing_only_in_numbers_share_one_layout() -> None:
    first = model(QUEUE)
    second = model(
        QUEUE.replace("[10, 30, 30, 5]", "[1, 2, 3, 4]").replace("wipLimit: 40", "wipLimit: 9")
    )
    assert layout_model(first) is layout_model(second)
    assert preview_graph(first) != preview_graph(second)  # the badge says 9, not 40
    other = model(QUEUE.replace("SHIFT(declined, 2)", "served"))
    assert layout_model(other) is not layout_model(first)


@pytest.mark.parametrize("name", ["queue", "routed"])
def test_matches_golden_file(name: str) -> None:
    """Pins the exact bytes of two stateful drawings; regenerate with
    ``FLOWTIME_UPDATE_GOLDEN=1`` and review the diff."""
    svg = render_svg(model({"queue": QUEUE, "routed": ROUTED}[name]), title=name)
    golden = GOLDEN / f"state-{name}.svg"
    if os.environ.get("FLOWTIME_UPDATE_GOLDEN"):
        golden.write_text(svg, encoding="utf-8", newline="\n")
    assert svg == golden.read_text(encoding="utf-8")
    assert len(svg) < 20_000
    assert not re.search(r"NaN|inf", svg)
