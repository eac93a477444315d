"""Decimal text for many float64 values at once, as ``binned_v0.csv`` writes them.

The text of one value is :func:`flowtime_sim.model.expr.format_number`'s: whole values below
1e16 as integers (``8``, ``-3``, ``0`` also for ``-0.0``), anything else as Python's ``repr``,
the shortest decimal that reads back as the same double (``0.8333333333333334``, ``1e-05``,
``1e+16``). Formatting millions of values one ``repr`` at a time is the slow part of writing
a run, so :func:`decimal_text_groups` does the common cases with NumPy integer arithmetic:

- whole values below 1e16: the integer's digits;
- other values from 1e-4 up (Python prints these without an exponent): the shortest
  round-trip digits, found exactly. Every decimal strictly between the midpoints to the
  neighbouring doubles (inclusive when the significand is even, as parsing rounds half to
  even) reads back as ``v``. Both midpoints are scaled by a power of ten to 17 integer digits
  (their gap then always holds an integer) and computed exactly with 128-bit products built
  from 32-bit halves. The shortest text is a multiple of the largest power of ten between
  them; of the (at most two) such multiples nearest ``v`` the closer wins, ties to even:
  the same choice as ``repr``.

Anything else (below 1e-4, which Python writes with an exponent) falls back to
``format_number``, one value at a time.
"""

from __future__ import annotations

from typing import Final

import numpy as np
import numpy.typing as npt

from flowtime_sim.model.expr import format_number

_U = np.uint64
_LOW32: Final = _U(0xFFFFFFFF)
_HIDDEN_BIT: Final = _U(1 << 52)
#: Correctly rounded 10**k for k = -6 .. 19, at index k + 6.
_POW10_FLOAT: Final = np.array([float(f"1e{k}") for k in range(-6, 20)])
_POW10: Final = np.array([10**k for k in range(20)], dtype=np.uint64)
_POW5: Final = np.array([5**k for k in range(24)], dtype=np.uint64)
_SMALLEST_FAST: Final = 1e-4  # below this, Python writes an exponent


def _group_table() -> npt.NDArray[np.uint32]:
    """Entry ``k * 10000 + g``: the four digits of ``g`` (zero-padded) with only the last
    ``k`` kept and the others NUL, packed into one uint32 so a lookup moves four bytes."""
    g = np.arange(10000)
    digits = (ord("0") + g[:, None] // 10 ** np.arange(3, -1, -1) % 10).astype(np.uint8)
    tables = np.zeros((5, 10000, 4), dtype=np.uint8)
    for keep in range(1, 5):
        tables[keep, :, 4 - keep :] = digits[:, 4 - keep :]
    return tables.reshape(-1).view(np.uint32)


_GROUP_TEXT: Final = _group_table()
_SIGN: Final = np.uint32(ord("-"))  # one visible byte, three NUL, in either byte order
_POINT: Final = np.uint32(ord("."))


def _shortest(a: npt.NDArray[np.float64]) -> tuple[npt.NDArray[np.uint64], npt.NDArray[np.int64]]:
    """``(m, f)`` with ``m * 10**-f`` the shortest decimal that reads back as ``a``.

    ``a`` holds positive, non-integral values from 1e-4 up (so below 2**52).
    """
    mantissa, exponent = np.frexp(a)
    sig = (mantissa * 2.0**53).astype(np.uint64)  # M, exactly
    e2 = exponent.astype(np.int64) - 53  # a = M * 2**e2
    k = np.floor(np.log10(a)).astype(np.int64)  # decimal exponent, corrected below
    k -= a < _POW10_FLOAT[k + 6]
    k += a >= _POW10_FLOAT[k + 7]
    scale = 16 - k  # a * 10**scale lies in [1e16, 1e17): 17 digits, enough to round-trip
    five = _POW5[scale]
    # In units of 2**(e2-2): v = 4M, its neighbours' midpoints are 4M +- 2 (4M - 1 below a
    # power of two). Times 10**scale = 5**scale * 2**scale, that is X * 5**scale / 2**shift.
    shift = (2 - e2 - scale).astype(np.uint64)  # 2 .. 48 in this value range
    x = sig << _U(2)
    x0, x1 = x & _LOW32, x >> _U(32)
    c0, c1 = five & _LOW32, five >> _U(32)
    p00, p01, p10 = x0 * c0, x0 * c1, x1 * c0
    mid = (p00 >> _U(32)) + (p01 & _LOW32) + (p10 & _LOW32)
    lo = (p00 & _LOW32) | (mid << _U(32))
    hi = x1 * c1 + (p01 >> _U(32)) + (p10 >> _U(32)) + (mid >> _U(32))
    up = five << _U(1)
    down = np.where(sig == _HIDDEN_BIT, five, up)
    lo_hi = lo + up
    hi_hi = hi + (lo_hi < lo)
    lo_lo = lo - down
    hi_lo = hi - (lo_lo > lo)
    fraction_mask = (_U(1) << shift) - _U(1)
    left = _U(64) - shift

    def split(
        high: npt.NDArray[np.uint64], low: npt.NDArray[np.uint64]
    ) -> tuple[npt.NDArray[np.uint64], npt.NDArray[np.uint64]]:
        return (low >> shift) | (high << left), low & fraction_mask

    q_mid, r_mid = split(hi, lo)
    q_hi, r_hi = split(hi_hi, lo_hi)
    q_lo, r_lo = split(hi_lo, lo_lo)
    odd = (sig & _U(1)).astype(bool)
    # Round-trip decimals (scaled) are the integers in [lower, upper].
    lower = q_lo + ((r_lo != 0) | odd)
    upper = q_hi - ((r_hi == 0) & odd)
    # The largest power of ten with a multiple in [lower, upper]; most values stop at once.
    power = np.zeros(len(a), dtype=np.int64)
    pending = np.arange(len(a))
    for j in range(1, 20):
        step = _POW10[j]
        pending = pending[(upper[pending] // step) * step >= lower[pending]]
        if not len(pending):
            break
        power[pending] = j
    step_p = _POW10[power]
    below = q_mid // step_p  # candidates: below * step_p and (below + 1) * step_p
    gap = (2 * (q_mid - below * step_p)).astype(np.int64) - step_p.astype(np.int64)
    half = _U(1) << (shift - _U(1))
    # Compare v - below*step with (below+1)*step - v, i.e. gap + 2*fraction against 0.
    below_closer = (gap <= -2) | ((gap == -1) & (r_mid < half))
    tie = ((gap == -1) & (r_mid == half)) | ((gap == 0) & (r_mid == 0))
    below_ok = below * step_p >= lower
    above_ok = (below + _U(1)) * step_p <= upper
    take_above = above_ok & (
        ~below_ok | (~below_closer & ~tie) | (tie & (below & _U(1)).astype(bool))
    )
    return below + take_above, scale - power


def _digit_groups(
    x: npt.NDArray[np.uint64], shown: npt.NDArray[np.int64], out: npt.NDArray[np.uint32]
) -> None:
    """Write the last ``shown`` decimal digits of each ``x`` (zero-padded) into ``out``'s
    columns as 4-byte groups, right-aligned; every other byte is NUL."""
    rest = x
    groups = out.shape[1]
    for g in range(groups - 1, -1, -1):
        keep = np.clip(shown - 4 * (groups - 1 - g), 0, 4)
        out[:, g] = _GROUP_TEXT[keep * 10000 + (rest % _U(10000)).astype(np.int64)]
        if g:
            rest = rest // _U(10000)


def decimal_text_groups(values: npt.NDArray[np.float64]) -> npt.NDArray[np.uint32]:
    """Each value's text as a row of 4-byte groups, shape ``(n, groups)``.

    Viewed as bytes (``.view(np.uint8)``), row ``i`` with its NUL bytes dropped is exactly
    ``format_number(values[i])``; the NUL padding may sit anywhere in the row. ``values``
    must be finite (``ValueError`` otherwise).
    """
    v = np.asarray(values, dtype=np.float64).ravel()
    if not np.isfinite(v).all():
        raise ValueError("decimal text needs finite values")
    n = len(v)
    if n > 1 and v.min() == v.max():
        # One value throughout (a pmf in expected mode, say; 0.0 and -0.0 print alike).
        return np.repeat(decimal_text_groups(v[:1]), n, axis=0)
    a = np.abs(v)
    integral = a == np.floor(a)
    whole = integral & (a < 1e16)
    fast = ~integral & (a >= _SMALLEST_FAST)
    digits = np.where(whole, a, 0.0).astype(np.uint64)  # m: all digits, no point
    places = np.zeros(n, dtype=np.int64)  # f: how many of them follow the point
    if fast.any():
        digits[fast], places[fast] = _shortest(a[fast])
    slow = ~(whole | fast)

    # m < 10**17 and f <= 20, so a divisor of at most 10**19 splits m exactly.
    divisor = _POW10[np.minimum(places, 19)]
    integer = digits // divisor
    fraction = digits - integer * divisor
    int_digits = np.maximum(np.searchsorted(_POW10, integer, side="right"), 1)
    int_groups = (int(int_digits.max(initial=1)) + 3) // 4
    frac_groups = (int(places.max(initial=0)) + 3) // 4
    negative = v < 0  # -0.0 is not: it prints as 0

    slow_texts = [format_number(x).encode("ascii") for x in v[slow].tolist()]
    slow_groups = (max(map(len, slow_texts), default=0) + 3) // 4
    # Layout in groups: [sign] integer digits [point, fraction digits].
    sign = 1 if negative.any() else 0
    point = sign + int_groups
    layout = point + (1 + frac_groups if frac_groups else 0)
    text = np.zeros((n, max(layout, slow_groups)), dtype=np.uint32)
    if sign:
        text[:, 0] = np.where(negative, _SIGN, 0)
    _digit_groups(integer, int_digits, text[:, sign:point])
    if frac_groups:
        text[:, point] = np.where(places > 0, _POINT, 0)
        _digit_groups(fraction, places, text[:, point + 1 : layout])
    if slow_texts:
        rows = np.flatnonzero(slow)
        width = 4 * text.shape[1]
        text[rows] = np.array(slow_texts, dtype=f"S{width}").view(np.uint32).reshape(len(rows), -1)
    return text
