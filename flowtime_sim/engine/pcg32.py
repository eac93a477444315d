"""PCG32, the random number generator of sample-mode runs (SPEC §8).

The generator is FlowTime's: a 64-bit linear congruential state with the XSH-RR output
function and a fixed increment.

- Seeding: ``state = seed mod 2**64`` (so a negative seed is taken as its two's complement),
  then one step.
- Step: ``old = state; state = old * 6364136223846793005 + 1442695040888963407 (mod 2**64)``.
- Output: ``x = uint32(((old >> 18) ^ old) >> 27)``, ``r = old >> 59``, ``rotr32(x, r)``.
- Uniform double: ``next_u32() / 2**32``, in ``[0, 1)``.

Seed 42 gives ``1971522493, 242089394, 3457789919``.

:class:`Pcg32` draws one number at a time, or ``n`` consecutive numbers at once with
:meth:`Pcg32.u32_array`, which jumps ahead instead of stepping: after ``i`` steps the state
is ``A_i * s + C_i (mod 2**64)``, and the coefficients for ``i = 0 .. n-1`` are built by
doubling (NumPy's ``uint64`` arithmetic wraps modulo ``2**64``, exactly as needed). Both ways
give the same stream.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import numpy.typing as npt

MULTIPLIER = 6364136223846793005
INCREMENT = 1442695040888963407
_MASK64 = (1 << 64) - 1
_MASK32 = (1 << 32) - 1
_TWO_POW_32 = 4294967296.0


def _output(old: int) -> int:
    x = (((old >> 18) ^ old) >> 27) & _MASK32
    r = old >> 59
    return ((x >> r) | (x << ((-r) & 31))) & _MASK32


def jump(steps: int) -> tuple[int, int]:
    """``(A, C)`` such that ``steps`` steps take any state ``s`` to ``A*s + C (mod 2**64)``."""
    if steps < 0:
        raise ValueError(f"steps must be >= 0, got {steps}")
    acc_mult, acc_plus = 1, 0
    cur_mult, cur_plus = MULTIPLIER, INCREMENT
    while steps:
        if steps & 1:
            acc_mult = (acc_mult * cur_mult) & _MASK64
            acc_plus = (acc_plus * cur_mult + cur_plus) & _MASK64
        cur_plus = ((cur_mult + 1) * cur_plus) & _MASK64
        cur_mult = (cur_mult * cur_mult) & _MASK64
        steps >>= 1
    return acc_mult, acc_plus


@lru_cache(maxsize=8)
def _coefficients(n: int) -> tuple[npt.NDArray[np.uint64], npt.NDArray[np.uint64]]:
    """``A_i`` and ``C_i`` for ``i = 0 .. n-1`` (read-only; cached because runs reuse ``bins``)."""
    mult = np.ones(1, dtype=np.uint64)
    plus = np.zeros(1, dtype=np.uint64)
    while len(mult) < n:
        # i + L steps = L steps applied after i steps: A_L*(A_i*s + C_i) + C_L.
        a_l, c_l = jump(len(mult))
        mult = np.concatenate([mult, mult * np.uint64(a_l)])
        plus = np.concatenate([plus, plus * np.uint64(a_l) + np.uint64(c_l)])
    mult, plus = mult[:n], plus[:n]
    mult.flags.writeable = False
    plus.flags.writeable = False
    return mult, plus


class Pcg32:
    """One PCG32 stream. ``state`` is the current 64-bit state, as a Python int."""

    __slots__ = ("state",)

    def __init__(self, seed: int) -> None:
        self.state = (((seed & _MASK64) * MULTIPLIER) + INCREMENT) & _MASK64

    def next_u32(self) -> int:
        """The next 32-bit output."""
        old = self.state
        self.state = (old * MULTIPLIER + INCREMENT) & _MASK64
        return _output(old)

    def next_uniform(self) -> float:
        """The next uniform double in ``[0, 1)``: ``next_u32() / 2**32``."""
        return self.next_u32() / _TWO_POW_32

    def u32_array(self, n: int) -> npt.NDArray[np.uint32]:
        """The next ``n`` outputs at once; the stream then stands where ``n`` calls of
        :meth:`next_u32` would have left it."""
        if n < 0:
            raise ValueError(f"n must be >= 0, got {n}")
        mult, plus = _coefficients(n)
        old = mult * np.uint64(self.state) + plus
        a_n, c_n = jump(n)
        self.state = (a_n * self.state + c_n) & _MASK64
        x = (((old >> np.uint64(18)) ^ old) >> np.uint64(27)).astype(np.uint32)
        r = (old >> np.uint64(59)).astype(np.uint32)
        left = (np.uint32(32) - r) & np.uint32(31)
        out: npt.NDArray[np.uint32] = (x >> r) | (x << left)
        return out

    def uniform_array(self, n: int) -> npt.NDArray[np.float64]:
        """The next ``n`` uniform doubles at once (see :meth:`u32_array`)."""
        return self.u32_array(n) / _TWO_POW_32
