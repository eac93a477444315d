# ruff: noqa: E501 - a table of whole messages reads best one message per line
"""Reading the stateful parts of a model (SPEC §5a): what is accepted, and every refusal.

Each refusal is checked for its whole message, the node it names and the field path.
"""

from __future__ import annotations

import pytest

from flowtime_sim.errors import ModelError
from flowtime_sim.model import parse_model
from flowtime_sim.model.types import DispatchSchedule, QueueNode, RouterNode, RouterRoute

HEAD = """schemaVersion: 1
grid: {bins: 3, binSize: 1, binUnit: hours}
nodes:
  - {id: a, kind: const, values: [1, 2, 3]}
  - {id: b, kind: const, values: [1, 1, 1]}
"""

REFUSED = [
    pytest.param(
        "topology:\n  nodes:\n    - {id: Q, semantics: {arrivals: 5, served: b}}\n",
        "topology node 'Q': semantics.arrivals must be a series name, got 5",
        "Q",
        "topology.nodes[0].semantics.arrivals",
        id="series name",
    ),
    pytest.param(
        "topology:\n  nodes:\n    - {id: Q, semantics: {arrivals: a, served: b}, dispatchSchedule: {periodBins: 2, every: 3}}\n",
        "topology node 'Q': unknown key 'every' in dispatchSchedule; allowed keys: kind, periodBins, phaseOffset, capacitySeries",
        "Q",
        "topology.nodes[0].dispatchSchedule.every",
        id="dispatch key",
    ),
    pytest.param(
        "topology:\n  nodes:\n    - {id: Q, semantics: {arrivals: a, served: b}, dispatchSchedule: {kind: hourly, periodBins: 2}}\n",
        "topology node 'Q': dispatchSchedule.kind must be time-based or periodic, got 'hourly'",
        "Q",
        "topology.nodes[0].dispatchSchedule.kind",
        id="dispatch kind",
    ),
    pytest.param(
        "topology:\n  nodes:\n    - {id: Q, semantics: {arrivals: a, served: b}, dispatchSchedule: {periodBins: 0}}\n",
        "topology node 'Q': dispatchSchedule.periodBins must be a whole number of bins greater than 0, got 0",
        "Q",
        "topology.nodes[0].dispatchSchedule.periodBins",
        id="dispatch period",
    ),
    pytest.param(
        "topology:\n  nodes:\n    - {id: Q, semantics: {arrivals: a, served: b}, dispatchSchedule: {periodBins: 2, phaseOffset: 0.5}}\n",
        "topology node 'Q': dispatchSchedule.phaseOffset must be a whole number of bins, got 0.5",
        "Q",
        "topology.nodes[0].dispatchSchedule.phaseOffset",
        id="dispatch phase",
    ),
    pytest.param(
        "topology:\n  nodes:\n    - {id: Q, semantics: {arrivals: a, served: b}, wipLimit: lots}\n",
        "topology node 'Q': wipLimit must be a finite number, got 'lots'",
        "Q",
        "topology.nodes[0].wipLimit",
        id="wip limit",
    ),
    pytest.param(
        "topology:\n  nodes:\n    - {id: Q, semantics: {arrivals: a, served: b}, wipOverflow: R}\n    - {id: R, semantics: {arrivals: a, served: b}}\n",
        "topology node 'Q': wipOverflow 'R' needs a WIP limit; give wipLimit or wipLimitSeries",
        "Q",
        "topology.nodes[0].wipOverflow",
        id="overflow without limit",
    ),
    pytest.param(
        "topology:\n  nodes:\n    - {id: Q, semantics: {arrivals: a, served: b}, wipLimit: 3, wipOverflow: S}\n    - {id: S, kind: sink, semantics: {arrivals: a}}\n",
        "topology node 'Q': wipOverflow 'S' is not a queue; name a topology node of kind serviceWithBuffer, queue or dlq, or a serviceWithBuffer node, or write 'loss' to drop the overflow",
        "Q",
        "topology.nodes[0].wipOverflow",
        id="overflow to non-queue",
    ),
    pytest.param(
        "  - {id: c, kind: const, values: [1, 2, 3], metadata: {x: [1]}}\n",
        "node 'c': metadata must map names to plain values, got a list for 'x'",
        "c",
        "nodes[2].metadata.x",
        id="node metadata",
    ),
    pytest.param(
        "topology:\n  nodes:\n    - {id: Q, semantics: {arrivals: a, served: b}, metadata: {x: 1}}\n",
        "topology node 'Q': unknown key 'metadata'; allowed keys: id, kind, nodeRole, group, ui, constraints, semantics, initialCondition, dispatchSchedule, wipLimit, wipLimitSeries, wipOverflow",
        "Q",
        "topology.nodes[0].metadata",
        id="tnode metadata",
    ),
    pytest.param(
        "  - {id: r, kind: router, router: {inputs: {queue: a}, routes: [{target: t}]}, routes: [{target: u}]}\n",
        "node 'r': give inputs and routes either under router: or on the node, not both",
        "r",
        "nodes[2].router",
        id="router both",
    ),
    pytest.param(
        "  - {id: r, kind: router, routes: [{target: t}]}\n",
        "node 'r': inputs.queue is missing; name the series the router splits, e.g. 'inputs: {queue: demand}'",
        "r",
        "nodes[2].inputs",
        id="router no inputs",
    ),
    pytest.param(
        "  - {id: r, kind: router, inputs: {queue: a}, routes: []}\n",
        "node 'r': routes must be a non-empty list like [{target: a, weight: 1}], got an empty list; a router without routes sends its input nowhere",
        "r",
        "nodes[2].routes",
        id="router no routes",
    ),
    pytest.param(
        "  - {id: r, kind: router, inputs: {queue: a}, routes: [{target: t, classes: [Gold]}]}\n",
        "node 'r': routes[0].classes: class routes are not supported yet; route by weight",
        "r",
        "nodes[2].routes[0].classes",
        id="router classes",
    ),
    pytest.param(
        "  - {id: r, kind: router, inputs: {queue: a}, routes: [{target: r}]}\n",
        "node 'r': routes[0].target 'r' is the router itself; name a new series",
        "r",
        "nodes[2].routes[0].target",
        id="router self",
    ),
    pytest.param(
        "  - {id: r, kind: router, inputs: {queue: a}, routes: [{target: t, weight: -1}]}\n",
        "node 'r': routes[0].weight must be a finite number >= 0, got -1",
        "r",
        "nodes[2].routes[0].weight",
        id="router weight",
    ),
    pytest.param(
        "  - {id: r, kind: router, inputs: {queue: a}, routes: [{target: t, weight: 0}]}\n",
        "node 'r': the route weights add up to 0; give at least one route a positive weight",
        "r",
        "nodes[2].routes",
        id="router zero",
    ),
    pytest.param(
        "  - {id: r, kind: router, inputs: {queue: aa}, routes: [{target: t}]}\n",
        "node 'r': inputs.queue 'aa' is not a series; did you mean 'a'?",
        "r",
        "nodes[2].inputs.queue",
        id="router unknown source",
    ),
    pytest.param(
        "  - {id: q, kind: serviceWithBuffer, outflow: b}\n",
        "node 'q': inflow is missing; a serviceWithBuffer node needs its inflow series",
        "q",
        "nodes[2].inflow",
        id="queue node inflow",
    ),
    pytest.param(
        "  - {id: q, kind: serviceWithBuffer, inflow: a, outflow: bb}\n",
        "node 'q': outflow 'bb' is not a series; did you mean 'b'?",
        "q",
        "nodes[2].outflow",
        id="queue node unknown",
    ),
    pytest.param(
        "topology:\n  nodes:\n    - {id: Q, semantics: {arrivals: a, served: b}}\n    - {id: Q, semantics: {arrivals: a, served: b}}\n",
        "topology node 'Q' is defined twice (topology.nodes[0] and topology.nodes[1]); topology node ids must be unique",
        "Q",
        "topology.nodes[1].id",
        id="tnode dup",
    ),
    pytest.param(
        "topology:\n  nodes: {id: Q}\n",
        "topology.nodes must be a list, got a mapping",
        None,
        "topology.nodes",
        id="tnode list",
    ),
    pytest.param(
        "topology:\n  nodes:\n    - {semantics: {arrivals: a, served: b}}\n",
        "topology.nodes[0].id must be a non-empty string, got null",
        None,
        "topology.nodes[0].id",
        id="tnode id",
    ),
    pytest.param(
        "topology:\n  nodes:\n    - {id: Q, semantic: {arrivals: a, served: b}}\n",
        "topology node 'Q': unknown key 'semantic'; allowed keys: id, kind, nodeRole, group, ui, constraints, semantics, initialCondition, dispatchSchedule, wipLimit, wipLimitSeries, wipOverflow",
        "Q",
        "topology.nodes[0].semantic",
        id="tnode key",
    ),
    pytest.param(
        "topology:\n  nodes:\n    - {id: Q, kind: buffer, semantics: {arrivals: a, served: b}}\n",
        "topology node 'Q': unknown kind 'buffer'; use one of serviceWithBuffer, queue, dlq, service, router, sink, dependency",
        "Q",
        "topology.nodes[0].kind",
        id="tnode kind",
    ),
    pytest.param(
        "topology:\n  nodes:\n    - {id: Q, semantics: {arrivals: a, served: b}, initialCondition: {depth: 3}}\n",
        "topology node 'Q': unknown key 'depth' in initialCondition; allowed keys: queueDepth",
        "Q",
        "topology.nodes[0].initialCondition.depth",
        id="initial key",
    ),
    pytest.param(
        "topology:\n  nodes:\n    - {id: Q, semantics: {arrivals: a, served: b}, initialCondition: {queueDepth: -1}}\n",
        "topology node 'Q': initialCondition.queueDepth must be a finite number >= 0, got -1",
        "Q",
        "topology.nodes[0].initialCondition.queueDepth",
        id="initial negative",
    ),
    pytest.param(
        "topology:\n  nodes:\n    - {id: Q, semantics: {arrivals: a, served: b}, constraints: shared}\n",
        "topology node 'Q': constraints must be a list of constraint ids, got 'shared'",
        "Q",
        "topology.nodes[0].constraints",
        id="constraints list",
    ),
    pytest.param(
        "topology:\n  nodes:\n    - {id: Q, semantics: {arrivals: a, serve: b}}\n",
        "topology node 'Q': unknown semantics key 'serve'; allowed keys: arrivals, served, errors, capacity, queueDepth, processingTimeMsSum, servedCount, failures, retryEcho, attempts, exhaustedFailures, retryBudgetRemaining, externalDemand, external_demand, parallelism, retryKernel, slaMin, maxAttempts, backoffStrategy, exhaustedPolicy, aliases, metadata",
        "Q",
        "topology.nodes[0].semantics.serve",
        id="semantics key",
    ),
    pytest.param(
        "topology:\n  nodes:\n    - {id: Q, semantics: {arrivals: a, served: b, capacity: b, parallelism: [2]}}\n",
        "topology node 'Q': semantics.parallelism must be a number or a series name, got a list",
        "Q",
        "topology.nodes[0].semantics.parallelism",
        id="parallelism",
    ),
    pytest.param(
        "topology:\n  nodes:\n    - {id: Q, semantics: {arrivals: a, served: b, errors: b, retryEcho: e, retryKernel: [0, x]}}\n",
        "topology node 'Q': semantics.retryKernel[1] must be a finite number, got 'x'",
        "Q",
        "topology.nodes[0].semantics.retryKernel[1]",
        id="retry kernel",
    ),
    pytest.param(
        "topology:\n  nodes:\n    - {id: Q, semantics: {arrivals: a, served: b}}\n  edges:\n    - {from: 3, to: 'R:in'}\n",
        "topology.edges[0].from must name a node, got 3",
        None,
        "topology.edges[0].from",
        id="edge endpoint",
    ),
    pytest.param(
        "topology:\n  nodes:\n    - {id: Q, semantics: {arrivals: a, served: b}}\n  edges:\n    - {source: Q, target: Q, weight: heavy}\n",
        "topology.edges[0].weight must be a finite number, got 'heavy'",
        None,
        "topology.edges[0].weight",
        id="edge weight",
    ),
    pytest.param(
        "topology:\n  nodes: []\n  constraints:\n    - {id: c, semantics: {served: a}}\n    - {id: c, semantics: {served: a}}\n",
        "constraint 'c' is defined twice (topology.constraints[0] and topology.constraints[1])",
        None,
        "topology.constraints[1].id",
        id="constraint dup",
    ),
    pytest.param(
        "topology:\n  constraints:\n    - {id: c, semantics: {arrivals: a}}\n",
        "constraint 'c': semantics.served is missing; name the series of the shared capacity",
        None,
        "topology.constraints[0].semantics.served",
        id="constraint served",
    ),
    pytest.param(
        "topology:\n  nodes:\n    - {id: Q, semantics: {arrivals: a, served: b}, constraints: [c]}\n  constraints:\n    - {id: c, semantics: {served: capp}}\n",
        "constraint 'c': semantics.served 'capp' is not a series",
        None,
        "topology.constraints[0].semantics.served",
        id="constraint capacity unknown",
    ),
    pytest.param(
        "topology:\n  nodes:\n    - {id: Q, semantics: {arrivals: a, served: b}, constraints: [d]}\n  constraints:\n    - {id: c, semantics: {served: a}}\n",
        "topology node 'Q': constraints[0] 'd' is not a constraint of the topology",
        "Q",
        "topology.nodes[0].constraints[0]",
        id="constraint unknown id",
    ),
    pytest.param(
        "topology:\n  nodes:\n    - {id: S, kind: service, semantics: {served: b}, constraints: [c]}\n  constraints:\n    - {id: c, semantics: {served: a}}\n",
        "constraint 'c': topology node 'S' is constrained but has no semantics.arrivals to allocate; give it its arrivals series",
        None,
        "topology.constraints[0].id",
        id="constraint no arrivals",
    ),
    pytest.param(
        "classes:\n  - {displayName: Gold}\n",
        "classes[0].id must be a non-empty string, got null",
        None,
        "classes[0].id",
        id="class id",
    ),
    pytest.param(
        "classes:\n  - {id: Gold}\n  - {id: Gold}\n",
        "classes[1].id 'Gold' is listed twice; class ids must be unique",
        None,
        "classes[1].id",
        id="class dup",
    ),
    pytest.param(
        "classes:\n  - {id: Gold}\ntraffic:\n  arrivals:\n    - {nodeId: a, classId: Silver, pattern: {kind: constant, ratePerBin: 1}}\n",
        "traffic.arrivals[0].classId 'Silver' is not one of the classes (Gold)",
        None,
        "traffic.arrivals[0].classId",
        id="traffic class",
    ),
    pytest.param(
        "topology:\n  nodes:\n    - {id: Q, semantics: {arrivals: aa, served: b}}\n",
        "topology node 'Q': semantics.arrivals 'aa' is not a series; did you mean 'a'?",
        "Q",
        "topology.nodes[0].semantics.arrivals",
        id="unknown series",
    ),
    pytest.param(
        "topology:\n  nodes:\n    - {id: Q, semantics: {arrivals: a, served: b, queueDepth: b}}\n",
        "topology node 'Q': semantics.queueDepth 'b' is a const node, but this queue's depth is computed here; name a new series, write 'self', or name a serviceWithBuffer node",
        "Q",
        "topology.nodes[0].semantics.queueDepth",
        id="depth names node",
    ),
    pytest.param(
        "topology:\n  nodes:\n    - {id: Q, kind: queue, semantics: {served: b}}\n",
        "topology node 'Q': semantics.arrivals is missing; a queue node needs the series of its arrivals",
        "Q",
        "topology.nodes[0].semantics.arrivals",
        id="no arrivals",
    ),
    pytest.param(
        "topology:\n  nodes:\n    - {id: Q, kind: dlq, semantics: {arrivals: a}}\n",
        "topology node 'Q': semantics.served (or capacity) is missing; a dlq node needs the series its queue drains by",
        "Q",
        "topology.nodes[0].semantics.served",
        id="no served",
    ),
    pytest.param(
        "topology:\n  nodes:\n    - {id: Q, kind: service, semantics: {arrivals: a, served: b, errors: b, retryEcho: echo}}\n",
        "topology node 'Q': semantics.retryEcho 'echo' is computed from retryKernel, which is missing; give the kernel, e.g. 'retryKernel: [0, 0.6, 0.3, 0.1]'",
        "Q",
        "topology.nodes[0].semantics.retryKernel",
        id="retry no kernel",
    ),
    pytest.param(
        "topology:\n  nodes:\n    - {id: Q, kind: service, semantics: {arrivals: a, served: b, retryEcho: echo, retryKernel: [0, 1]}}\n",
        "topology node 'Q': semantics.retryEcho 'echo' echoes failures, but neither semantics.failures nor semantics.errors is given",
        "Q",
        "topology.nodes[0].semantics.retryEcho",
        id="retry no failures",
    ),
    pytest.param(
        "  - {id: q_queue, kind: const, values: [1, 1, 1]}\ntopology:\n  nodes:\n    - {id: Q, semantics: {arrivals: a, served: b}}\n",
        "topology node 'Q' would write series 'q_queue', which node 'q_queue' already writes; give one of them another name",
        "q_queue",
        None,
        id="written twice",
    ),
    pytest.param(
        "  - {id: s, kind: expr, expr: 'MIN(b, q_queue)'}\ntopology:\n  nodes:\n    - {id: Q, semantics: {arrivals: a, served: s}}\n",
        "node 's': cycle without a lag: s -> q_queue -> s; each reads the next in the same bin, so none can be computed first: read one of them a bin late with SHIFT(x, 1)",
        "s",
        "nodes[2].expr",
        id="cycle through queue",
    ),
    pytest.param(
        "outputs:\n  - {series: a, exclude: [b]}\n",
        "outputs[0].exclude only applies to a pattern such as '*' or 'queue/*'",
        None,
        "outputs[0].exclude",
        id="exclude on name",
    ),
    pytest.param(
        "  - {id: r, kind: router, inputs: {queue: a}, routes: [{target: t}]}\noutputs:\n  - {series: r}\n",
        "outputs[0].series 'r' is not a node; a router has no series of its own, its route targets do",
        None,
        "outputs[0].series",
        id="router output",
    ),
    pytest.param(
        "outputs:\n  - {series: '*', exclude: 3}\n",
        "outputs[0].exclude must be a series name, a pattern or a list of them, got 3",
        None,
        "outputs[0].exclude",
        id="exclude type",
    ),
    pytest.param(
        "outputs:\n  - {series: '*', exclude: [c]}\n",
        "outputs[0].exclude[0] 'c' is not a series",
        None,
        "outputs[0].exclude[0]",
        id="exclude unknown",
    ),
    pytest.param(
        "outputs:\n  - {series: 'x/*'}\n",
        "outputs[0].series 'x/*' selects no series; check the prefix (series names start with node ids, e.g. 'a')",
        None,
        "outputs[0].series",
        id="pattern nothing",
    ),
    pytest.param(
        "topology:\n  nodes:\n    - {id: Q, semantics: {arrivals: a, served: b}, dispatchSchedule: {periodBins: 2, capacitySeries: cap}}\n",
        "topology node 'Q': dispatchSchedule.capacitySeries 'cap' is not a series",
        "Q",
        "topology.nodes[0].dispatchSchedule.capacitySeries",
        id="dispatch cap unknown",
    ),
    pytest.param(
        "topology:\n  nodes:\n    - {id: Q, semantics: {arrivals: a, served: b}, wipLimitSeries: lim}\n",
        "topology node 'Q': wipLimitSeries 'lim' is not a series",
        "Q",
        "topology.nodes[0].wipLimitSeries",
        id="wip series unknown",
    ),
]


@pytest.mark.parametrize(("extra", "message", "node", "field"), REFUSED)
def test_refused_with_a_precise_message(
    extra: str, message: str, node: str | None, field: str | None
) -> None:
    with pytest.raises(ModelError) as caught:
        parse_model(HEAD + extra)
    assert str(caught.value) == message
    assert caught.value.node == node
    assert caught.value.field == field


def test_grid_start_may_be_spelled_start_time_utc() -> None:
    text = HEAD.replace("binUnit: hours}", "binUnit: hours, startTimeUtc: 2025-03-01T06:00:00Z}")
    model = parse_model(text)
    assert model.grid.start is not None
    assert model.grid.start.isoformat() == "2025-03-01T06:00:00+00:00"


def test_both_start_spellings_are_refused() -> None:
    text = HEAD.replace(
        "binUnit: hours}", "binUnit: hours, start: 2025-01-01, startTimeUtc: 2025-01-01}"
    )
    with pytest.raises(ModelError) as caught:
        parse_model(text)
    assert str(caught.value) == (
        "grid.start and grid.startTimeUtc are two spellings of one field; give only one"
    )
    assert caught.value.field == "grid.startTimeUtc"


def test_every_key_of_flowtime_model_format_is_accepted() -> None:
    model = parse_model(
        HEAD.replace("[1, 1, 1]}", "[1, 1, 1], metadata: {origin: telemetry}}")
        + """  - id: split
    kind: router
    metadata: {graph.hidden: "true"}
    router: {inputs: {queue: a}, routes: [{target: left, weight: 3}, {target: right}]}
classes: [{id: Gold, displayName: Gold customers, description: pays more}]
traffic:
  arrivals: [{nodeId: a, classId: Gold, pattern: {kind: constant, ratePerBin: 2, rate: 2}}]
provenance: {generator: flowtime-sim/1.0, templateId: t, parameters: {x: 1}}
topology:
  nodes:
    - id: Desk
      kind: ServiceWithBuffer
      nodeRole: worker
      group: front
      ui: {x: 10, y: 20}
      semantics: {arrivals: a, served: b, errors: b, capacity: b, parallelism: 2,
                  attempts: a, exhaustedFailures: b, slaMin: 5, maxAttempts: 3,
                  backoffStrategy: exponential, exhaustedPolicy: dlq, aliases: {a: arrivals}}
      initialCondition: {queueDepth: 4}
  edges:
    - {id: e1, from: "Desk:out", to: "Desk:in", weight: 2, type: throughput, measure: served,
       multiplier: 1, lag: 0}
  constraints: []
"""
    )
    assert model.topology is not None
    desk = model.topology.nodes[0]
    assert desk.kind == "serviceWithBuffer"
    assert desk.semantics.others == (("attempts", "a"), ("exhaustedFailures", "b"))
    assert model.node("split") == RouterNode(
        "split", "a", (RouterRoute("left", 3.0), RouterRoute("right", 1.0))
    )


def test_router_fields_may_sit_on_the_node() -> None:
    model = parse_model(
        HEAD + "  - {id: r, kind: router, inputs: {queue: a}, routes: [{target: t, weight: 1}]}\n"
    )
    assert model.node("r") == RouterNode("r", "a", (RouterRoute("t", 1.0),))
    assert [o.series for o in model.outputs] == ["a", "b", "t"]


def test_a_queue_node_and_its_dispatch_schedule() -> None:
    model = parse_model(
        HEAD
        + "  - {id: q, kind: serviceWithBuffer, inflow: a, outflow: b, loss: b,\n"
        + "     dispatchSchedule: {kind: time-based, periodBins: 3, phaseOffset: -1}}\n"
    )
    assert model.node("q") == QueueNode(
        "q", "a", "b", "b", DispatchSchedule(period=3, phase=2, kind="time-based")
    )


def test_topology_node_without_kind_is_a_service_with_buffer() -> None:
    model = parse_model(
        HEAD + "topology:\n  nodes:\n    - {id: Q, semantics: {arrivals: a, served: b}}\n"
    )
    assert model.topology is not None
    assert model.topology.nodes[0].kind == "serviceWithBuffer"


def test_queue_depth_self_means_the_synthesized_name() -> None:
    model = parse_model(
        HEAD + "topology:\n  nodes:\n    - {id: HubQueue, semantics: {arrivals: a, served: b, "
        "queueDepth: Self}}\n"
    )
    assert "hub_queue_queue" in [o.series for o in model.outputs]


def test_as_on_a_pattern_is_ignored_and_edges_may_leave_the_topology() -> None:
    model = parse_model(
        HEAD
        + "topology:\n  nodes:\n    - {id: Q, semantics: {arrivals: a, served: b}, wipLimit: 2,"
        " wipOverflow: loss}\n  edges:\n    - {from: 'Q:out', to: 'Exit:in'}\n"
        + "outputs:\n  - {series: 'q_/*', as: q.csv}\n"
    )
    assert [(o.series, o.as_) for o in model.outputs][:2] == [
        ("q_queue", None),
        ("q_overflow", None),
    ]
    assert model.topology is not None
    assert model.topology.edges[0].target == "Exit"
