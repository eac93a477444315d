"""Steps other than nodes, computed for every bin at once (one NumPy operation each).

The formulas are those of the modules that plan the steps (:mod:`flowtime_sim.plan.routing`,
:mod:`~flowtime_sim.plan.dispatch`, :mod:`~flowtime_sim.plan.topology`,
:mod:`~flowtime_sim.plan.derived`), with the operations in the order written there, so that
the bin-by-bin code of :mod:`flowtime_sim.engine.sequential` gives the same floats.
A queue is never computed here: its depth carries over from bin to bin.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeAlias

import numpy as np
import numpy.typing as npt

from flowtime_sim.plan import (
    AllocStep,
    ArithStep,
    ConvStep,
    GateStep,
    KingmanStep,
    RouteStep,
    Step,
    SumStep,
)
from flowtime_sim.plan.dispatch import dispatch_bins

Series: TypeAlias = npt.NDArray[np.float64]


def divide(a: Series, b: Series) -> Series:
    """``a / b``, 0 where ``b`` is 0."""
    out = np.zeros(np.broadcast_shapes(np.shape(a), np.shape(b)))
    np.divide(a, b, out=out, where=np.not_equal(b, 0.0))
    return out


def run_step(step: Step, env: Mapping[str, Series], bins: int) -> dict[str, Series]:
    """The series ``step`` writes, from the series computed before it in ``env``."""
    if isinstance(step, RouteStep):
        source = env[step.source]
        out: dict[str, Series] = {}
        for target, share in step.shares:
            part = source * share
            out[target] = part if target not in out else out[target] + part
        return out
    if isinstance(step, GateStep):
        mask = np.array(dispatch_bins(step.period, step.phase, bins))
        outflow = env[step.outflow]
        released = outflow if step.capacity is None else np.minimum(outflow, env[step.capacity])
        return {step.output: np.where(mask, released, 0.0)}
    if isinstance(step, SumStep):
        total = env[step.terms[0]]
        for term in step.terms[1:]:
            total = total + env[term]
        return {step.output: total}
    if isinstance(step, AllocStep):
        demands = [env[d] for d in step.demands]
        capacity = env[step.capacity]
        total = np.zeros(bins)
        for demand in demands:
            total = total + demand
        binding = (total > capacity) & (total > 0.0)
        return {
            name: np.where(binding, divide(capacity * demand, total), demand)
            for name, demand in zip(step.capped, demands, strict=True)
        }
    if isinstance(step, ConvStep):
        return {step.output: convolve(env[step.source], step.kernel, bins)}
    if isinstance(step, ArithStep):
        left = env[step.left]
        right = env[step.right] if isinstance(step.right, str) else step.right
        if step.op == "copy" or right is None:
            return {step.output: left}
        if step.op == "+":
            return {step.output: left + right}
        if step.op == "*":
            return {step.output: left * right}
        return {step.output: divide(left, np.broadcast_to(right, left.shape))}
    if isinstance(step, KingmanStep):
        utilization = env[step.utilization]
        waiting = divide(utilization, (utilization + -1.0) * -1.0)
        return {step.output: (waiting * step.factor) * env[step.service_time]}
    raise TypeError(f"not a vector step: {step!r}")


def convolve(values: Series, kernel: tuple[float, ...], bins: int) -> Series:
    """``Σ_k kernel[k] * values[t-k]`` over ``t-k >= 0``, added in kernel order."""
    out = np.zeros(bins)
    for lag, weight in list(enumerate(kernel))[:bins]:
        out[lag:] += weight * values[: bins - lag]
    return out
