"""Dispatch schedules: a queue that releases work only on some bins.

Reference: ``reference/flowtime-upstream.md`` §2.7 (Rust ``DispatchGate``) and §6.4 (C#).
For a schedule with period ``p`` and phase ``φ`` (normalised into ``[0, p)``, so a phase of
−1 with period 3 is 2, as the C# engine does)::

    dispatch(t)  = t >= φ and (t − φ) mod p == 0
    gated[t]     = min(outflow[t], capacity[t])   on dispatch bins (just outflow[t] without a
                                                   capacity series)
                 = 0                              on other bins

The queue then drains by ``gated`` instead of the served series; ``served`` itself is not
changed. The gate is written as ``<snake>_gated_outflow``.
"""

from __future__ import annotations

from flowtime_sim.model.types import DispatchSchedule
from flowtime_sim.plan.naming import snake
from flowtime_sim.plan.steps import GateStep


def gate_step(owner_id: str, outflow: str, schedule: DispatchSchedule, owner: str) -> GateStep:
    """The gate of ``owner_id``'s queue (``owner`` names it in messages)."""
    return GateStep(
        output=f"{snake(owner_id)}_gated_outflow",
        outflow=outflow,
        capacity=schedule.capacity_series,
        period=schedule.period,
        phase=schedule.phase,
        owner=owner,
    )


def dispatch_bins(period: int, phase: int, bins: int) -> list[bool]:
    """Which bins release work."""
    return [t >= phase and (t - phase) % period == 0 for t in range(bins)]
