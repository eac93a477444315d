"""Checks that need every series' name: what each node and topology field refers to.

Every message names the node (or topology node, or constraint) and the field, and the
:class:`~flowtime_sim.errors.ModelError` carries the field's path in the model.
"""

from __future__ import annotations

from collections.abc import Collection

from flowtime_sim.errors import ModelError
from flowtime_sim.model.expr import check_expr, did_you_mean
from flowtime_sim.model.types import (
    ExprNode,
    Model,
    QueueNode,
    RouterNode,
    TopologyNode,
)

_SEMANTIC_FIELDS = (
    ("arrivals", "arrivals"),
    ("served", "served"),
    ("errors", "errors"),
    ("capacity", "capacity"),
    ("processing_time_ms_sum", "processingTimeMsSum"),
    ("served_count", "servedCount"),
    ("failures", "failures"),
)


class _Where:
    def __init__(self, what: str, name: str, path: str, known: Collection[str]) -> None:
        self.what, self.name, self.path, self.known = what, name, path, known

    def fail(self, problem: str, field: str) -> ModelError:
        node = None if self.what == "constraint" else self.name
        return ModelError(
            f"{self.what} '{self.name}': {problem}", node=node, field=f"{self.path}.{field}"
        )

    def series(self, value: str | None, field: str) -> None:
        if value is not None and value not in self.known:
            hint = did_you_mean(value, self.known)
            raise self.fail(f"{field} '{value}' is not a series{hint}", field)


def check_references(model: Model, known: Collection[str]) -> None:
    """Raise :class:`ModelError` for the first reference to a series nobody writes, and for
    fields a node of its kind needs but lacks."""
    queues = _queue_names(model)
    for index, node in enumerate(model.nodes):
        where = _Where("node", node.id, f"nodes[{index}]", known)
        if isinstance(node, ExprNode):
            check_expr(node.ast, node.expr, nodes=known, node=node.id, field=where.path + ".expr")
        elif isinstance(node, RouterNode):
            where.series(node.source, "inputs.queue")
        elif isinstance(node, QueueNode):
            where.series(node.inflow, "inflow")
            where.series(node.outflow, "outflow")
            where.series(node.loss, "loss")
            if node.dispatch is not None:
                where.series(node.dispatch.capacity_series, "dispatchSchedule.capacitySeries")
            where.series(node.wip_limit_series, "wipLimitSeries")
            _overflow_target(where, node.wip_overflow, queues)
    topology = model.topology
    if topology is None:
        return
    constraint_ids = {c.id for c in topology.constraints}
    node_kinds: dict[str, str] = {n.id: n.kind for n in model.nodes}
    for index, tnode in enumerate(topology.nodes):
        where = _Where("topology node", tnode.id, f"topology.nodes[{index}]", known)
        _check_topology_node(where, tnode, queues, node_kinds)
        for position, cid in enumerate(tnode.constraints):
            if cid not in constraint_ids:
                hint = did_you_mean(cid, constraint_ids)
                raise where.fail(
                    f"constraints[{position}] '{cid}' is not a constraint of the topology{hint}",
                    f"constraints[{position}]",
                )
    for index, constraint in enumerate(topology.constraints):
        where = _Where("constraint", constraint.id, f"topology.constraints[{index}]", known)
        where.series(constraint.capacity, "semantics.served")
        for tnode in topology.nodes:
            if constraint.id in tnode.constraints and not tnode.semantics.arrivals:
                raise where.fail(
                    f"topology node '{tnode.id}' is constrained but has no semantics.arrivals "
                    "to allocate; give it its arrivals series",
                    "id",
                )


def _queue_names(model: Model) -> set[str]:
    """Everything a ``wipOverflow`` may name: queue-like topology ids, queue nodes."""
    names = {n.id for n in model.nodes if isinstance(n, QueueNode)}
    if model.topology is not None:
        names |= {t.id for t in model.topology.nodes if t.queue_like}
    return names


#: ``wipOverflow: loss`` (FlowTime's fixtures write it): the overflow leaves the system and
#: is only written as the ``<snake>_overflow`` series.
OVERFLOW_LOST = "loss"


def _overflow_target(where: _Where, target: str | None, queues: Collection[str]) -> None:
    if target is not None and target not in queues and target != OVERFLOW_LOST:
        hint = did_you_mean(target, queues)
        raise where.fail(
            f"wipOverflow '{target}' is not a queue; name a topology node of kind "
            f"serviceWithBuffer, queue or dlq, or a serviceWithBuffer node, or write 'loss' "
            f"to drop the overflow{hint}",
            "wipOverflow",
        )


def _check_topology_node(
    where: _Where, tnode: TopologyNode, queues: Collection[str], node_kinds: dict[str, str]
) -> None:
    sem = tnode.semantics
    depth = sem.queue_depth
    if tnode.queue_like:
        if depth is not None and depth in node_kinds and node_kinds[depth] != "serviceWithBuffer":
            raise where.fail(
                f"semantics.queueDepth '{depth}' is a {node_kinds[depth]} node, but this queue's "
                "depth is computed here; name a new series, write 'self', or name a "
                "serviceWithBuffer node",
                "semantics.queueDepth",
            )
        attached = depth is not None and node_kinds.get(depth) == "serviceWithBuffer"
        if not attached and not sem.arrivals:
            raise where.fail(
                f"semantics.arrivals is missing; a {tnode.kind} node needs the series of its "
                "arrivals",
                "semantics.arrivals",
            )
        if not attached and not (sem.served or sem.capacity):
            raise where.fail(
                f"semantics.served (or capacity) is missing; a {tnode.kind} node needs the series "
                "its queue drains by",
                "semantics.served",
            )
    elif depth is not None:
        where.series(depth, "semantics.queueDepth")
    for attr, key in _SEMANTIC_FIELDS:
        where.series(getattr(sem, attr), f"semantics.{key}")
    for key, value in sem.others:
        where.series(value, f"semantics.{key}")
    if isinstance(sem.parallelism, str):
        where.series(sem.parallelism, "semantics.parallelism")
    if sem.retry_echo and sem.retry_echo not in node_kinds:
        if not sem.retry_kernel:
            raise where.fail(
                f"semantics.retryEcho '{sem.retry_echo}' is computed from retryKernel, which is "
                "missing; give the kernel, e.g. 'retryKernel: [0, 0.6, 0.3, 0.1]'",
                "semantics.retryKernel",
            )
        if not (sem.failures or sem.errors):
            raise where.fail(
                f"semantics.retryEcho '{sem.retry_echo}' echoes failures, but neither "
                "semantics.failures nor semantics.errors is given",
                "semantics.retryEcho",
            )
    if tnode.dispatch is not None:
        where.series(tnode.dispatch.capacity_series, "dispatchSchedule.capacitySeries")
    where.series(tnode.wip_limit_series, "wipLimitSeries")
    _overflow_target(where, tnode.wip_overflow, queues)
