"""What the preview draws: the model's graph with its stateful parts shown as what they are.

Built from the model's plan (:mod:`flowtime_sim.plan`), so a queue, a router or a feedback
loop is drawn the way the engine evaluates it:

- **vertices**: every model node (file order; a router followed by one ``route`` vertex per
  route target), then every topology node: a queue-like one (``serviceWithBuffer``, ``queue``,
  ``dlq``) as a buffer named after its queue series (``checkout_queue``), the others
  (``service``, ``sink``, ``router``, ``dependency``) under their topology id; then one vertex
  per constraint. Steps the engine adds for a queue (its dispatch gate, overflow sums, derived
  metrics) belong to the queue's vertex, so a node reading ``checkout_latency_min`` is drawn
  reading the ``Checkout`` queue.
- **links**: ``source -> target`` where the target's step reads a series of the source's,
  ``lag`` 0 at the same bin, ``k >= 1`` when it reads it only through ``SHIFT(x, k)``. A link is
  *feedback* when its source is evaluated after its target (it closes a loop); the layout
  places vertices on the graph without feedback links, which is acyclic, and draws those as
  back-edges.

A model without a plan (built by hand) is drawn from ``Model.dependencies``.
"""

from __future__ import annotations

from dataclasses import dataclass

from flowtime_sim.model.expr import format_number
from flowtime_sim.model.types import (
    BinOp,
    Call,
    ConstNode,
    DispatchSchedule,
    Expr,
    ExprNode,
    Model,
    Neg,
    Num,
    PmfNode,
    QueueNode,
    Ref,
    RouterNode,
)
from flowtime_sim.plan.steps import (
    AllocStep,
    NodeStep,
    QueueStep,
    RouteStep,
    Step,
)
from flowtime_sim.plan.topology import queue_name


@dataclass(frozen=True, slots=True)
class Vertex:
    """One box: ``detail`` is its tooltip, ``badge`` a short note (dispatch, WIP limit)."""

    id: str
    kind: str
    detail: str
    badge: str = ""


@dataclass(frozen=True, slots=True)
class Link:
    """``target`` reads ``source``: at the same bin (``lag`` 0) or ``lag`` bins earlier."""

    source: str
    target: str
    lag: int = 0
    feedback: bool = False  # closes a loop: drawn as a back-edge
    label: str = ""  # a router's share of its input, e.g. ``75%``


@dataclass(frozen=True, slots=True)
class PreviewGraph:
    vertices: tuple[Vertex, ...]
    links: tuple[Link, ...]  # sorted by (source, target)


def preview_graph(model: Model) -> PreviewGraph:
    """The graph ``model``'s preview draws."""
    if model.plan is None:
        return _from_dependencies(model)
    return _Builder(model).build()


def reference_lags(expr: Expr) -> dict[str, int]:
    """For each name ``expr`` reads, the fewest bins back it reads it (0: at the same bin)."""
    lags: dict[str, int] = {}
    stack: list[tuple[Expr, int]] = [(expr, 0)]
    while stack:
        item, lag = stack.pop()
        if isinstance(item, Call):
            shift = item.args[1] if item.name == "SHIFT" and len(item.args) == 2 else None
            if isinstance(shift, Num):
                stack.append((item.args[0], lag + int(shift.value)))
            else:
                stack += [(arg, lag) for arg in item.args]
        elif isinstance(item, Ref):
            lags[item.name] = min(lag, lags.get(item.name, lag))
        elif isinstance(item, BinOp):
            stack += ((item.left, lag), (item.right, lag))
        elif isinstance(item, Neg):
            stack.append((item.operand, lag))
    return lags


def node_detail(node: ConstNode | PmfNode | ExprNode | RouterNode | QueueNode) -> str:
    if isinstance(node, ExprNode):
        return f"{node.kind}: {node.expr}"
    if isinstance(node, PmfNode):
        return f"{node.kind}, expected value {node.expected_value:.6g}"
    if isinstance(node, ConstNode):
        return f"{node.kind}, {len(node.values)} values"
    if isinstance(node, RouterNode):
        return f"router of {node.source}"
    return f"serviceWithBuffer: {node.inflow} in, {node.outflow} out"


def badge(
    dispatch: DispatchSchedule | None, wip_limit: float | None, wip_limit_series: str | None
) -> str:
    """``every 4 bins`` for a dispatch schedule, ``WIP ≤ 20`` for a WIP limit, or both."""
    notes: list[str] = []
    if dispatch is not None:
        notes.append(f"every {dispatch.period} bins" if dispatch.period > 1 else "every bin")
    if wip_limit_series is not None:
        notes.append(f"WIP \u2264 {wip_limit_series}")
    elif wip_limit is not None:
        notes.append(f"WIP \u2264 {format_number(wip_limit)}")
    return " \u00b7 ".join(notes)


def _sorted(links: dict[tuple[str, str], Link]) -> tuple[Link, ...]:
    return tuple(links[key] for key in sorted(links))


def _from_dependencies(model: Model) -> PreviewGraph:
    vertices = tuple(Vertex(node.id, node.kind, node_detail(node)) for node in model.nodes)
    links: dict[tuple[str, str], Link] = {}
    for source, target in model.edges:
        node = model.node(target)
        lag = reference_lags(node.ast).get(source, 0) if isinstance(node, ExprNode) else 0
        links[source, target] = Link(source, target, lag)
    return PreviewGraph(vertices, _sorted(links))


class _Builder:
    def __init__(self, model: Model) -> None:
        assert model.plan is not None
        self.model = model
        self.plan = model.plan
        self.vertices: dict[str, Vertex] = {}
        self.rank: dict[str, tuple[int, int]] = {}
        self.links: dict[tuple[str, str], Link] = {}

    def add(self, vertex: Vertex) -> None:
        if vertex.id not in self.vertices:  # an id shared with a node: drawn once
            self.vertices[vertex.id] = vertex

    def build(self) -> PreviewGraph:
        model, plan = self.model, self.plan
        topology = model.topology
        routes = {s.router: s for s in plan.steps if isinstance(s, RouteStep)}
        queues = {s.output: s for s in plan.steps if isinstance(s, QueueStep)}
        for node in model.nodes:
            if isinstance(node, QueueNode):
                note = badge(node.dispatch, node.wip_limit, node.wip_limit_series)
                queue_step = queues.get(node.id)
                detail = queue_step.describe() if queue_step else node_detail(node)
                self.add(Vertex(node.id, node.kind, detail, note))
                continue
            self.add(Vertex(node.id, node.kind, node_detail(node)))
            if isinstance(node, RouterNode):
                for target, share in routes[node.id].shares:
                    detail = f"route of {node.id}: {format_number(share * 100)}% of {node.source}"
                    self.add(Vertex(target, "route", detail))
        # Which vertex each step belongs to; steps of a topology node go with its vertex.
        owner_vertex: dict[str, str] = {}
        for queue_step in queues.values():
            owner_vertex[queue_step.owner] = queue_step.node or queue_step.output
        for tnode in topology.nodes if topology else ():
            owner = f"topology node '{tnode.id}'"
            if tnode.queue_like:
                name = owner_vertex.get(owner, queue_name(tnode))
                queue_step = queues.get(name)
                note = badge(tnode.dispatch, tnode.wip_limit, tnode.wip_limit_series)
                existing = self.vertices.get(name)
                if existing is not None:  # a serviceWithBuffer node: give it the topology's kind
                    note = existing.badge or note
                    self.vertices[name] = Vertex(name, tnode.kind, existing.detail, note)
                else:
                    what = queue_step.describe() if queue_step else name
                    detail = f"{tnode.kind} {tnode.id}: {what}"
                    self.add(Vertex(name, tnode.kind, detail, note))
                owner_vertex[owner] = name
            else:
                self.add(Vertex(tnode.id, tnode.kind, f"{tnode.kind} {tnode.id}"))
                owner_vertex[owner] = tnode.id
        for constraint in topology.constraints if topology else ():
            vertex_id = constraint.id
            if any(isinstance(s, AllocStep) and s.constraint == vertex_id for s in plan.steps):
                self.add(
                    Vertex(vertex_id, "constraint", f"constraint: capacity {constraint.capacity}")
                )
                owner_vertex[f"constraint '{vertex_id}'"] = vertex_id

        step_vertex: dict[int, str] = {}
        producer: dict[str, str] = {}
        for index, step in enumerate(plan.steps):
            found = self._vertex_of(step, owner_vertex)
            if found is None:
                continue
            step_vertex[index] = found
            for name in step.outputs:
                producer[name] = name if isinstance(step, RouteStep) else found
        position = {id(step): p for p, step in enumerate(s for st in plan.stages for s in st.steps)}
        order = {vertex_id: i for i, vertex_id in enumerate(self.vertices)}
        for index, vertex in step_vertex.items():
            step = plan.steps[index]
            rank = (position[id(step)], order[vertex])
            self.rank[vertex] = min(rank, self.rank.get(vertex, rank))
            if isinstance(step, RouteStep):
                for target, share in step.shares:
                    self.rank.setdefault(target, (rank[0], order[target]))
                    self._link(vertex, target, 0, f"{format_number(round(share * 100, 1))}%")
            self._read(step, vertex, producer)
        for tnode in topology.nodes if topology else ():
            if not tnode.queue_like:  # what the node's semantics name flows into it
                sem = tnode.semantics
                for named in (sem.arrivals, sem.served, sem.errors, sem.capacity):
                    if named is not None and named in producer:
                        self._link(producer[named], tnode.id, 0)
        last = len(self.plan.steps)  # vertices without a step of their own (a sink) come last
        links: dict[tuple[str, str], Link] = {}
        for key, link in self.links.items():
            source_rank = self.rank.get(link.source, (last, order[link.source]))
            target_rank = self.rank.get(link.target, (last, order[link.target]))
            if source_rank >= target_rank:
                link = Link(link.source, link.target, link.lag, True, link.label)
            links[key] = link
        return PreviewGraph(tuple(self.vertices.values()), _sorted(links))

    def _vertex_of(self, step: Step, owner_vertex: dict[str, str]) -> str | None:
        if isinstance(step, NodeStep):
            return step.node.id
        if isinstance(step, RouteStep):
            return step.router
        if isinstance(step, QueueStep):
            return step.node or step.output
        return owner_vertex.get(step.origin)

    def _read(self, step: Step, vertex: str, producer: dict[str, str]) -> None:
        lags: dict[str, int] = {}
        if isinstance(step, NodeStep) and isinstance(step.node, ExprNode):
            lags = reference_lags(step.node.ast)
        for name in step.inputs:
            if name in producer and producer[name] != vertex:
                self._link(producer[name], vertex, 0)
        for name in step.lagged:
            if isinstance(step, QueueStep) or name in step.inputs or name not in producer:
                continue  # a queue's own previous depth is what the buffer shape says
            self._link(producer[name], vertex, max(1, lags.get(name, 1)))

    def _link(self, source: str, target: str, lag: int, label: str = "") -> None:
        known = self.links.get((source, target))
        if known is not None and known.lag <= lag:
            return  # a same-bin read, or a shorter lag, already says it
        self.links[source, target] = Link(source, target, lag, label=label)
