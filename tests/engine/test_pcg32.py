"""PCG32 as SPEC §8 defines it, one number at a time and many at once."""

from __future__ import annotations

import numpy as np
import pytest

from flowtime_sim.engine.pcg32 import INCREMENT, MULTIPLIER, Pcg32, jump


def test_seed_42_gives_the_documented_outputs() -> None:
    rng = Pcg32(42)
    assert [rng.next_u32() for _ in range(3)] == [1971522493, 242089394, 3457789919]


def test_seeding_is_one_step_from_the_seed() -> None:
    seed = 42
    assert Pcg32(seed).state == (seed * MULTIPLIER + INCREMENT) % 2**64


def test_uniform_is_the_u32_over_two_to_the_32() -> None:
    a, b = Pcg32(42), Pcg32(42)
    assert a.next_uniform() == 1971522493 / 2**32
    b.next_u32()
    assert a.state == b.state


def test_negative_seeds_are_taken_modulo_two_to_the_64() -> None:
    a, b = Pcg32(-1), Pcg32(2**64 - 1)
    assert [a.next_u32() for _ in range(5)] == [b.next_u32() for _ in range(5)]


@pytest.mark.parametrize("seed", [0, 1, 42, -7, 2**63, 2**64 - 1, 123456789])
@pytest.mark.parametrize("sizes", [[0], [1], [3, 0, 5], [64, 1, 1000], [4097, 3]])
def test_many_at_once_continue_the_same_stream(seed: int, sizes: list[int]) -> None:
    one, many = Pcg32(seed), Pcg32(seed)
    for size in sizes:
        drawn = many.u32_array(size)
        assert drawn.dtype == np.uint32
        assert drawn.tolist() == [one.next_u32() for _ in range(size)]
        assert many.state == one.state
    assert many.next_u32() == one.next_u32()


def test_uniform_array_matches_next_uniform() -> None:
    one, many = Pcg32(5), Pcg32(5)
    drawn = many.uniform_array(1000)
    assert drawn.tolist() == [one.next_uniform() for _ in range(1000)]
    assert ((drawn >= 0) & (drawn < 1)).all()


@pytest.mark.parametrize("steps", [0, 1, 2, 5, 1000, 2**40 + 3])
def test_jump_is_steps_of_the_lcg(steps: int) -> None:
    mult, plus = jump(steps)
    state = 987654321
    if steps <= 1000:
        expected = state
        for _ in range(steps):
            expected = (expected * MULTIPLIER + INCREMENT) % 2**64
    else:  # split the jump in two and compose
        half_mult, half_plus = jump(steps // 2)
        rest_mult, rest_plus = jump(steps - steps // 2)
        expected = (rest_mult * ((half_mult * state + half_plus) % 2**64) + rest_plus) % 2**64
    assert (mult * state + plus) % 2**64 == expected


def test_negative_counts_are_refused() -> None:
    with pytest.raises(ValueError, match=r"^steps must be >= 0, got -1$"):
        jump(-1)
    with pytest.raises(ValueError, match=r"^n must be >= 0, got -2$"):
        Pcg32(1).u32_array(-2)
