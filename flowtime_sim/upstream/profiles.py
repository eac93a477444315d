"""Time-of-day profiles: how FlowTime-Sim turns a profiled PMF into a const series.

A ``pmf`` node with ``profile: {kind: builtin, name}`` (or ``{kind: inline, weights}``) becomes
a ``const`` node whose value in bin ``t`` is ``μ · w[t]``, with ``μ = Σ values[i] ·
probabilities[i]`` summed left to right and ``w`` the profile's weights for the grid:

- ``normalise(w)``: ``avg = (Σ w) / n`` (summed left to right), an error when ``avg ≤ 0``,
  then every ``w[i] · (1 / avg)`` — weights whose mean is 1;
- a built-in profile is 24 hourly weights, each repeated 12 times (288 five-minute slots) and
  normalised once;
- for a grid of ``bins ≠ 288`` the 288 slots ``s`` are resampled linearly — ``pos = i / bins ·
  287``, ``lo = floor(pos)``, ``hi = min(lo + 1, 287)``, ``r[i] = s[lo] + (s[hi] − s[lo]) ·
  (pos − lo)`` — and normalised again;
- inline weights must give exactly one non-negative weight per bin; they are normalised once.

Reference: FlowTime's profile resolver and time-of-day library (flowtime-upstream.md §5.6).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

SLOTS = 288
_HOURLY: dict[str, tuple[float, ...]] = {
    "weekday-office": (
        0.18,
        0.16,
        0.15,
        0.15,
        0.2,
        0.3,
        0.45,
        0.7,
        0.95,
        1.15,
        1.25,
        1.3,
        1.25,
        1.15,
        1.05,
        1.0,
        0.95,
        0.85,
        0.65,
        0.5,
        0.38,
        0.3,
        0.25,
        0.2,
    ),
    "three-shift": (
        0.9,
        0.9,
        0.9,
        0.92,
        0.95,
        0.98,
        1.0,
        1.03,
        1.06,
        1.1,
        1.12,
        1.15,
        1.12,
        1.08,
        1.05,
        1.02,
        1.0,
        0.98,
        0.96,
        0.94,
        0.92,
        0.9,
        0.9,
        0.9,
    ),
    "hub-rush-hour": (
        0.2,
        0.18,
        0.17,
        0.17,
        0.2,
        0.35,
        0.7,
        1.2,
        1.4,
        1.25,
        1.0,
        0.85,
        0.8,
        0.85,
        0.95,
        1.1,
        1.35,
        1.5,
        1.35,
        1.0,
        0.65,
        0.4,
        0.3,
        0.22,
    ),
}
BUILTIN_PROFILES = tuple(sorted(_HOURLY))


def normalise(weights: Sequence[float]) -> list[float]:
    """Scale ``weights`` to a mean of 1 (``ValueError`` when their mean is not positive)."""
    total = 0.0
    for w in weights:
        total += w
    average = total / len(weights) if weights else 0.0
    if not average > 0:
        raise ValueError("the profile's weights must have a positive mean")
    scale = 1.0 / average
    return [w * scale for w in weights]


def builtin_slots(name: str) -> list[float]:
    """The 288 normalised five-minute weights of a built-in profile (name case-insensitive)."""
    hourly = _HOURLY.get(name.lower())
    if hourly is None:
        raise ValueError(
            f"unknown built-in profile {name!r}; built-in profiles: {', '.join(BUILTIN_PROFILES)}"
        )
    return normalise([w for w in hourly for _ in range(SLOTS // 24)])


def builtin_weights(name: str, bins: int) -> list[float]:
    """A built-in profile's weights for a grid of ``bins`` bins."""
    slots = builtin_slots(name)
    if bins == SLOTS:
        return slots
    resampled = []
    for i in range(bins):
        pos = i / bins * (SLOTS - 1)
        lo = math.floor(pos)
        hi = min(lo + 1, SLOTS - 1)
        resampled.append(slots[lo] + (slots[hi] - slots[lo]) * (pos - lo))
    return normalise(resampled)


def inline_weights(weights: Sequence[float], bins: int) -> list[float]:
    if len(weights) != bins:
        raise ValueError(f"inline profile has {len(weights)} weights but grid.bins is {bins}")
    if any(w < 0 for w in weights):
        raise ValueError("inline profile weights must not be negative")
    return normalise(weights)


def expected_value(values: Sequence[float], probabilities: Sequence[float]) -> float:
    """``Σ values[i] · probabilities[i]``, left to right, without dividing by ``Σ p``."""
    mu = 0.0
    for v, p in zip(values, probabilities, strict=True):
        mu += v * p
    return mu
