"""Derived metrics of topology nodes, written as series like any other.

Reference: ``reference/flowtime-upstream.md`` §2.9 (FlowTime's Rust engine writes them as
series; its C# engine computes them at query time, SPEC §5a follows Rust). For a topology
node with snake-cased id ``s``, every division giving 0 where the divisor is 0:

- with ``served`` and ``capacity``: ``s_effective_capacity = capacity * parallelism`` (when a
  parallelism is given, a number or a series), ``s_utilization = served / effective capacity``
  (or ``/ capacity``);
- queue-like, with ``served``: ``s_q_ratio = queue / served``,
  ``s_queue_time_ms = s_q_ratio * bin_ms``, ``s_latency_min = s_queue_time_ms * (1/60000)``;
- kind ``serviceWithBuffer`` or ``service`` with ``processingTimeMsSum`` and ``servedCount``:
  ``s_service_time_ms = processingTimeMsSum / servedCount``;
- ``s_cycle_time_ms = s_queue_time_ms + s_service_time_ms`` (or whichever exists), and with
  both, ``s_flow_efficiency = s_service_time_ms / s_cycle_time_ms``;
- with a utilization and a service time, Kingman's approximation
  ``s_kingman_wq = ((u / ((u − 1) · −1)) · (ca² + cs²)/2) · s_service_time_ms``, where ``ca`` and
  ``cs`` are the coefficients of variation of the arrivals and processing-time nodes when
  those are pmf nodes (0 otherwise): ``m = Σ v·p/Σp``, ``var = Σ (v − m)²·p/Σp``,
  ``cv = √var / m`` (0 when ``|m|`` is below machine epsilon).

``bin_ms`` is the bin's length in milliseconds (weeks are weeks).
"""

from __future__ import annotations

import math
import sys
from collections.abc import Mapping

from flowtime_sim.model.types import Grid, Node, PmfNode, Topology
from flowtime_sim.plan.naming import snake
from flowtime_sim.plan.steps import ArithStep, KingmanStep, Step

_MS_PER_MINUTE = 60_000.0


def bin_ms(grid: Grid) -> float:
    return float(grid.bin_size) * (grid.bin_minutes // grid.bin_size) * _MS_PER_MINUTE


def coefficient_of_variation(node: Node | None) -> float:
    if not isinstance(node, PmfNode):
        return 0.0
    total = 0.0
    for p in node.probabilities:
        total += p
    mean = 0.0
    for v, p in zip(node.values, node.probabilities, strict=True):
        mean += (v * p) / total
    if abs(mean) < sys.float_info.epsilon:
        return 0.0
    variance = 0.0
    for v, p in zip(node.values, node.probabilities, strict=True):
        variance += ((v - mean) ** 2 * p) / total
    return math.sqrt(variance) / mean


def derived_steps(
    topology: Topology | None, grid: Grid, nodes: Mapping[str, Node], queues: Mapping[str, str]
) -> list[Step]:
    """``queues`` maps queue-like topology node ids to their queue series."""
    steps: list[Step] = []
    for tnode in topology.nodes if topology else ():
        s, sem = snake(tnode.id), tnode.semantics
        owner = f"topology node '{tnode.id}'"
        utilization = service = queue_time = None
        if sem.served and sem.capacity:
            effective = sem.capacity
            if sem.parallelism is not None:
                effective = f"{s}_effective_capacity"
                steps.append(ArithStep(effective, "*", sem.capacity, sem.parallelism, owner))
            utilization = f"{s}_utilization"
            steps.append(ArithStep(utilization, "/", sem.served, effective, owner))
        queue = queues.get(tnode.id)
        if queue is not None and sem.served:
            ratio, queue_time = f"{s}_q_ratio", f"{s}_queue_time_ms"
            steps.append(ArithStep(ratio, "/", queue, sem.served, owner))
            steps.append(ArithStep(queue_time, "*", ratio, bin_ms(grid), owner))
            steps.append(ArithStep(f"{s}_latency_min", "*", queue_time, 1.0 / 60000.0, owner))
        if (
            tnode.kind in ("serviceWithBuffer", "service")
            and sem.processing_time_ms_sum
            and sem.served_count
        ):
            service = f"{s}_service_time_ms"
            steps.append(
                ArithStep(service, "/", sem.processing_time_ms_sum, sem.served_count, owner)
            )
        if queue_time or service:
            cycle = f"{s}_cycle_time_ms"
            if queue_time and service:
                steps.append(ArithStep(cycle, "+", queue_time, service, owner))
                steps.append(ArithStep(f"{s}_flow_efficiency", "/", service, cycle, owner))
            else:
                steps.append(ArithStep(cycle, "copy", queue_time or service or "", None, owner))
        if utilization and service:
            ca = coefficient_of_variation(nodes.get(sem.arrivals or ""))
            cs = coefficient_of_variation(nodes.get(sem.processing_time_ms_sum or ""))
            if math.isfinite(ca) and math.isfinite(cs):
                factor = (ca * ca + cs * cs) / 2
                steps.append(KingmanStep(f"{s}_kingman_wq", utilization, service, factor, owner))
    return steps
