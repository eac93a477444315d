"""Topology: queues synthesized from ``topology.nodes`` (and ``serviceWithBuffer`` nodes).

Reference: ``reference/flowtime-upstream.md`` §2.7 (queues, WIP limits, overflow, retry
echo), §2.8 (constraints), §6.4 (the C# ``serviceWithBuffer`` node); SPEC §5a decides where
FlowTime's engines differ. For a queue-like node (kind ``serviceWithBuffer``, ``queue`` or
``dlq``; no kind counts as ``serviceWithBuffer``) with snake-cased id ``s``:

- inflow ``in`` = ``semantics.arrivals``; when a constraint lists the node, its capped
  arrivals ``s_capped_<constraint>`` instead (the first such constraint in
  ``topology.constraints``); then, for every node ``S`` (in topology order) whose
  ``wipOverflow`` names this one, ``s_inflow_from_<snake S> = in + S's overflow``.
- outflow ``out`` = ``semantics.served``, else ``semantics.capacity``; with a dispatch
  schedule the gate ``s_gated_outflow`` (see :mod:`flowtime_sim.plan.dispatch`).
- loss = ``semantics.errors`` (0 without).
- the queue ``semantics.queueDepth`` (unless absent or ``self``), else ``s_queue``::

      q      = max(0, ((Q[t−1] + in[t]) − out[t]) − loss[t])      Q[−1] = initialCondition
      L      = max(0, limit[t])       limit = wipLimitSeries, else the number wipLimit
      Q[t]   = min(q, L);   s_overflow[t] = q − L where q > L, else 0

- retry echo (any kind): when ``semantics.retryEcho`` names a series no node defines,
  ``retryEcho = CONV(failures or errors, retryKernel)`` with the kernel as written.

Constraints: for a constraint with capacity series ``cap`` listed by nodes ``j`` with
arrivals ``d_j``::

      total  = ((0 + d_1) + d_2) + ...
      capped_j = (cap * d_j) / total   where total > cap and total > 0,   else d_j

A ``serviceWithBuffer`` node under ``nodes:`` is the same queue written in the other
dialect: ``inflow``/``outflow``/``loss`` as above, its own ``dispatchSchedule`` and WIP
fields, and the initial condition of the topology node whose ``semantics.queueDepth`` names
it. Inputs the Rust engine reads without ordering them (capacity series, WIP limit series,
constraint capacity) are real dependencies here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from flowtime_sim.model.types import (
    DispatchSchedule,
    Node,
    QueueNode,
    Topology,
    TopologyNode,
)
from flowtime_sim.plan.dispatch import gate_step
from flowtime_sim.plan.naming import snake
from flowtime_sim.plan.steps import AllocStep, ConvStep, QueueStep, Step, SumStep


@dataclass(frozen=True, slots=True)
class QueueSpec:
    """One queue, from either dialect, with the names its series take."""

    key: str  # the topology node id, or the QueueNode id for a queue without one
    base: str  # snake-cased prefix of its synthesized series
    owner: str  # for messages
    queue: str  # the queue series
    arrivals: str | None
    outflow: str | None
    loss: str | None
    initial: float
    dispatch: DispatchSchedule | None
    wip_limit: float | None
    wip_limit_series: str | None
    wip_overflow: str | None
    node: str | None = None  # the serviceWithBuffer node, when written under nodes:

    @property
    def has_limit(self) -> bool:
        return self.wip_limit is not None or self.wip_limit_series is not None

    @property
    def overflow(self) -> str:
        return f"{self.base}_overflow"


def queue_name(tnode: TopologyNode) -> str:
    """The series holding ``tnode``'s queue (``tnode`` is queue-like)."""
    return tnode.semantics.queue_depth or f"{snake(tnode.id)}_queue"


def queue_specs(nodes: Sequence[Node], topology: Topology | None) -> list[QueueSpec]:
    """Every queue in the model: topology queue-like nodes in topology order, then
    ``serviceWithBuffer`` nodes that no topology node points at, in file order."""
    queue_nodes = {n.id: n for n in nodes if isinstance(n, QueueNode)}
    specs: list[QueueSpec] = []
    attached: set[str] = set()
    for tnode in topology.nodes if topology else ():
        if not tnode.queue_like:
            continue
        owner = f"topology node '{tnode.id}'"
        name = queue_name(tnode)
        node = queue_nodes.get(name)
        sem = tnode.semantics
        if node is not None:
            attached.add(node.id)
            specs.append(
                QueueSpec(
                    key=tnode.id,
                    base=snake(tnode.id),
                    owner=owner,
                    queue=node.id,
                    arrivals=node.inflow,
                    outflow=node.outflow,
                    loss=node.loss,
                    initial=tnode.initial_queue,
                    dispatch=node.dispatch or tnode.dispatch,
                    wip_limit=node.wip_limit if node.wip_limit is not None else tnode.wip_limit,
                    wip_limit_series=node.wip_limit_series or tnode.wip_limit_series,
                    wip_overflow=node.wip_overflow or tnode.wip_overflow,
                    node=node.id,
                )
            )
            continue
        specs.append(
            QueueSpec(
                key=tnode.id,
                base=snake(tnode.id),
                owner=owner,
                queue=name,
                arrivals=sem.arrivals,
                outflow=sem.served or sem.capacity,
                loss=sem.errors,
                initial=tnode.initial_queue,
                dispatch=tnode.dispatch,
                wip_limit=tnode.wip_limit,
                wip_limit_series=tnode.wip_limit_series,
                wip_overflow=tnode.wip_overflow,
            )
        )
    for node in queue_nodes.values():
        if node.id in attached:
            continue
        specs.append(
            QueueSpec(
                key=node.id,
                base=snake(node.id),
                owner=f"node '{node.id}'",
                queue=node.id,
                arrivals=node.inflow,
                outflow=node.outflow,
                loss=node.loss,
                initial=0.0,
                dispatch=node.dispatch,
                wip_limit=node.wip_limit,
                wip_limit_series=node.wip_limit_series,
                wip_overflow=node.wip_overflow,
                node=node.id,
            )
        )
    return specs


def overflow_target(spec: QueueSpec, specs: Sequence[QueueSpec]) -> QueueSpec | None:
    """The queue ``spec``'s overflow goes into (by topology id or queue series name)."""
    if spec.wip_overflow is None or not spec.has_limit:
        return None
    for other in specs:
        if spec.wip_overflow in (other.key, other.queue):
            return other
    return None


def capped_inflows(topology: Topology | None) -> dict[str, str]:
    """``topology node id -> capped arrivals series`` for constrained nodes (first constraint
    in ``topology.constraints`` order that lists the node)."""
    capped: dict[str, str] = {}
    if topology is None:
        return capped
    for constraint in topology.constraints:
        for tnode in topology.nodes:
            if constraint.id in tnode.constraints and tnode.semantics.arrivals:
                capped.setdefault(tnode.id, f"{snake(tnode.id)}_capped_{constraint.id}")
    return capped


def queue_steps(specs: Sequence[QueueSpec], topology: Topology | None) -> list[Step]:
    """The steps of every queue, each queue's in this order: overflow sums, gate, queue."""
    capped = capped_inflows(topology)
    steps: list[Step] = []
    for spec in specs:
        inflow = capped.get(spec.key, spec.arrivals) or ""
        for source in specs:
            if overflow_target(source, specs) is spec:
                summed = f"{spec.base}_inflow_from_{source.base}"
                steps.append(SumStep(summed, (inflow, source.overflow), spec.owner))
                inflow = summed
        outflow = spec.outflow or ""
        if spec.dispatch is not None:
            gate = gate_step(spec.key, outflow, spec.dispatch, spec.owner)
            steps.append(gate)
            outflow = gate.output
        steps.append(
            QueueStep(
                output=spec.queue,
                inflow=inflow,
                outflow=outflow,
                loss=spec.loss,
                initial=spec.initial,
                owner=spec.owner,
                limit_series=spec.wip_limit_series,
                limit_value=None if spec.wip_limit_series else spec.wip_limit,
                overflow=spec.overflow if spec.has_limit else None,
                node=spec.node,
            )
        )
    return steps


def retry_steps(topology: Topology | None, node_ids: Mapping[str, object]) -> list[Step]:
    """Retry echoes for topology nodes whose ``retryEcho`` is not a node of the model."""
    steps: list[Step] = []
    for tnode in topology.nodes if topology else ():
        sem = tnode.semantics
        if sem.retry_echo and sem.retry_echo not in node_ids:
            source = sem.failures or sem.errors or ""
            owner = f"topology node '{tnode.id}'"
            steps.append(ConvStep(sem.retry_echo, source, sem.retry_kernel, owner))
    return steps


def constraint_steps(topology: Topology | None) -> list[Step]:
    steps: list[Step] = []
    for constraint in topology.constraints if topology else ():
        members = [t for t in topology.nodes if constraint.id in t.constraints] if topology else []
        if not members:
            continue
        steps.append(
            AllocStep(
                constraint=constraint.id,
                capacity=constraint.capacity,
                demands=tuple(t.semantics.arrivals or "" for t in members),
                capped=tuple(f"{snake(t.id)}_capped_{constraint.id}" for t in members),
            )
        )
    return steps
