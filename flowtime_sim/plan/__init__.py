"""The evaluation plan of a model: its series, their steps, and the order to compute them.

A plan is pure data, built from a validated :class:`~flowtime_sim.model.Model` without
computing any numbers (STYLE "Growing the engine": model → plan → evaluate → write):

- the *steps* (:mod:`flowtime_sim.plan.steps`), one per node plus those synthesized from the
  topology (:mod:`~flowtime_sim.plan.topology`, :mod:`~flowtime_sim.plan.dispatch`), routers
  (:mod:`~flowtime_sim.plan.routing`) and derived metrics (:mod:`~flowtime_sim.plan.derived`);
- every *series* they write, in declaration order (model nodes in file order, a router's
  targets in its place, then synthesized series);
- the *stages* (:mod:`~flowtime_sim.plan.graph`): vector stages compute one step for every
  bin at once; a sequential stage is a feedback loop computed bin by bin.

:func:`build_plan` also checks what needs every series' name: references to series,
names written twice, cycles without a lag. :func:`format_plan` prints a plan.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from flowtime_sim.errors import ModelError
from flowtime_sim.model.expr import split_references
from flowtime_sim.model.types import (
    ConstNode,
    ExprNode,
    Model,
    PmfNode,
    QueueNode,
    RouterNode,
)
from flowtime_sim.plan.derived import derived_steps
from flowtime_sim.plan.graph import CycleError, edges, stages
from flowtime_sim.plan.references import check_references
from flowtime_sim.plan.routing import route_step
from flowtime_sim.plan.steps import (
    AllocStep,
    ArithStep,
    ConvStep,
    GateStep,
    KingmanStep,
    NodeStep,
    QueueStep,
    RouteStep,
    Step,
    SumStep,
)
from flowtime_sim.plan.topology import (
    constraint_steps,
    queue_specs,
    queue_steps,
    retry_steps,
)

__all__ = [
    "AllocStep",
    "ArithStep",
    "ConvStep",
    "GateStep",
    "KingmanStep",
    "NodeStep",
    "Plan",
    "QueueStep",
    "RouteStep",
    "Stage",
    "Step",
    "SumStep",
    "build_plan",
    "format_plan",
]


@dataclass(frozen=True, slots=True)
class Stage:
    """Steps computed together: all bins of each step in turn, or (``sequential``) bin by
    bin, every step of the stage at each bin, in the order given."""

    steps: tuple[Step, ...]
    sequential: bool


@dataclass(frozen=True, slots=True)
class Plan:
    bins: int
    steps: tuple[Step, ...]  # declaration order
    stages: tuple[Stage, ...]  # evaluation order
    series: tuple[str, ...]  # every series written, declaration order
    #: series no model node defines, with what they come from
    synthesized: tuple[tuple[str, str], ...] = ()
    #: model node ids in evaluation order, and what each reads (see ``Model.dependencies``)
    node_order: tuple[str, ...] = ()
    node_dependencies: dict[str, tuple[str, ...]] = field(default_factory=dict)


def _declare(model: Model) -> list[Step]:
    steps: list[Step] = []
    for node in model.nodes:
        if isinstance(node, ExprNode):
            same_bin, lagged = split_references(node.ast)
            steps.append(NodeStep(node, tuple(sorted(same_bin)), tuple(sorted(lagged))))
        elif isinstance(node, (ConstNode, PmfNode)):
            steps.append(NodeStep(node))
        elif isinstance(node, RouterNode):
            steps.append(route_step(node))
        elif not isinstance(node, QueueNode):
            raise ModelError(
                f"node '{node.id}' has kind '{node.kind}', which the engine cannot evaluate",
                node=node.id,
            )
    specs = queue_specs(model.nodes, model.topology)
    steps += queue_steps(specs, model.topology)
    steps += retry_steps(model.topology, {n.id: n for n in model.nodes})
    steps += constraint_steps(model.topology)
    topology_queues = {spec.key: spec.queue for spec in specs}
    nodes = {n.id: n for n in model.nodes}
    steps += derived_steps(model.topology, model.grid, nodes, topology_queues)
    return steps


def _node_of(step: Step) -> str | None:
    if isinstance(step, NodeStep):
        return step.node.id
    if isinstance(step, RouteStep):
        return step.router
    if isinstance(step, QueueStep):
        return step.node
    return None


def build_plan(model: Model, *, check: bool = True) -> Plan:
    """The plan for ``model``; raises :class:`ModelError` naming the node and field for a
    reference to an unknown series, a series written twice or a cycle without a lag.

    ``check=False`` skips checking references (expressions included), for a model built by
    hand that the engine checks as it compiles.
    """
    steps = _declare(model)
    producer: dict[str, int] = {}
    twice: list[tuple[int, int, str]] = []
    for index, step in enumerate(steps):
        for name in step.outputs:
            if name in producer:
                twice.append((producer[name], index, name))
            else:
                producer[name] = index
    if check:
        check_references(model, producer)
    for first, second, name in twice:
        raise ModelError(
            f"{steps[second].origin} would write series '{name}', which {steps[first].origin} "
            "already writes; give one of them another name",
            node=_node_of(steps[first]),
        )
    immediate, lagged = edges(steps, producer)
    try:
        staged = stages(immediate, lagged)
    except CycleError as exc:
        raise _cycle_error(model, [steps[i] for i in exc.cycle]) from None
    series = _series_order(model, steps)
    nodes = {n.id for n in model.nodes}
    synthesized = tuple(
        (name, steps[producer[name]].origin)
        for name in series
        if name not in nodes and not isinstance(steps[producer[name]], RouteStep)
    )
    order = [i for members, _ in staged for i in members]
    position = {i: p for p, i in enumerate(order)}
    node_order = [n for n in (_node_of(steps[i]) for i in order) if n is not None]
    dependencies: dict[str, tuple[str, ...]] = {}
    for i in order:
        node_id = _node_of(steps[i])
        if node_id is None:
            continue
        reads: set[str] = set()
        step = steps[i]
        for name in (*step.inputs, *step.lagged):
            source = _node_of(steps[producer[name]])
            if source is None or source == node_id:
                continue
            if name in step.inputs or position[producer[name]] < position[i]:
                reads.add(source)
        dependencies[node_id] = tuple(sorted(reads))
    return Plan(
        bins=model.grid.bins,
        steps=tuple(steps),
        stages=tuple(Stage(tuple(steps[i] for i in m), seq) for m, seq in staged),
        series=series,
        synthesized=synthesized,
        node_order=tuple(node_order),
        node_dependencies=dependencies,
    )


def _series_order(model: Model, steps: list[Step]) -> tuple[str, ...]:
    names: dict[str, None] = {}
    by_router = {s.router: s for s in steps if isinstance(s, RouteStep)}
    for node in model.nodes:
        if isinstance(node, RouterNode):
            names.update(dict.fromkeys(by_router[node.id].outputs))
        else:
            names[node.id] = None
    for step in steps:
        names.update(dict.fromkeys(step.outputs))
    return tuple(names)


def _cycle_error(model: Model, cycle: list[Step]) -> ModelError:
    names = [step.outputs[0] if not isinstance(step, RouteStep) else step.router for step in cycle]
    first = _node_of(cycle[0])
    field_path = None
    if first is not None:
        index = next(i for i, n in enumerate(model.nodes) if n.id == first)
        is_expr = isinstance(model.nodes[index], ExprNode)
        field_path = f"nodes[{index}].expr" if is_expr else f"nodes[{index}]"
    return ModelError(
        f"{cycle[0].origin}: cycle without a lag: {' -> '.join(names)}; each reads the next in "
        "the same bin, so none can be computed first: read one of them a bin late with SHIFT(x, 1)",
        node=first,
        field=field_path,
    )


def format_plan(plan: Plan) -> str:
    """The plan as text: counts, synthesized series, then the stages in evaluation order."""
    sequential = sum(1 for stage in plan.stages if stage.sequential)
    lines = [
        f"Plan: {len(plan.steps)} steps in {len(plan.stages)} stages ({sequential} bin by bin), "
        f"{len(plan.series)} series, {plan.bins} bins"
    ]
    if plan.synthesized:
        lines += ["", "Synthesized series:"]
        width = max(len(name) for name, _ in plan.synthesized)
        lines += [f"  {name:<{width}}  from {origin}" for name, origin in plan.synthesized]
    lines += ["", "Evaluation order:"]
    for number, stage in enumerate(plan.stages, start=1):
        if stage.sequential:
            if len(stage.steps) == 1 and isinstance(stage.steps[0], QueueStep):
                why = "a queue: each bin starts from the last"
            else:
                names = ", ".join(step.outputs[0] for step in stage.steps)
                why = f"feedback loop: {names}"
            lines.append(f"  {number:>3}. bin by bin ({why})")
            lines += [f"         {step.describe()}" for step in stage.steps]
        else:
            lines.append(f"  {number:>3}. {stage.steps[0].describe()}")
    return "\n".join(lines)


def with_plan(model: Model) -> Model:
    """``model`` with its plan, its resolved node order and dependencies."""
    plan = build_plan(model)
    return replace(model, plan=plan, order=plan.node_order, dependencies=plan.node_dependencies)
