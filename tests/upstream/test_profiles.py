"""Profile expansion against values worked out by hand from the documented formula
(flowtime-upstream.md §5.6): hourly weights repeated 12 times, normalised to a mean of 1,
resampled linearly at ``pos = i / bins * 287`` and normalised again."""

from __future__ import annotations

import pytest

from flowtime_sim.upstream import profiles

WEEKDAY_OFFICE_SUM = 15.47  # 0.18 + 0.16 + ... + 0.2, the 24 hourly weights added by hand
HUB_RUSH_HOUR_SUM = 18.14


def test_weekday_office_on_its_own_288_slots() -> None:
    w = profiles.builtin_weights("weekday-office", 288)
    mean = WEEKDAY_OFFICE_SUM / 24
    assert len(w) == 288
    # slot t belongs to hour t // 12
    assert w[0] == pytest.approx(0.18 / mean, rel=1e-12)
    assert w[11] == pytest.approx(0.18 / mean, rel=1e-12)
    assert w[12] == pytest.approx(0.16 / mean, rel=1e-12)
    assert w[11 * 12] == pytest.approx(1.3 / mean, rel=1e-12)
    assert w[287] == pytest.approx(0.2 / mean, rel=1e-12)
    assert sum(w) / 288 == pytest.approx(1.0, rel=1e-12)


def test_hub_rush_hour_resampled_to_six_bins() -> None:
    """pos = 0, 47.833, 95.667, 143.5, 191.333, 239.167: slots 47|48 are hours 3|4, 95|96
    hours 7|8, 143|144 hours 11|12, 191|192 hours 15|16, 239|240 hours 19|20."""
    h = {
        0: 0.2,
        3: 0.17,
        4: 0.2,
        7: 1.2,
        8: 1.4,
        11: 0.85,
        12: 0.8,
        15: 1.1,
        16: 1.35,
        19: 1.0,
        20: 0.65,
    }
    raw = [
        h[0],
        h[3] + (h[4] - h[3]) * (47 + 5 / 6 - 47),
        h[7] + (h[8] - h[7]) * (95 + 2 / 3 - 95),
        h[11] + (h[12] - h[11]) * 0.5,
        h[15] + (h[16] - h[15]) * (191 + 1 / 3 - 191),
        h[19] + (h[20] - h[19]) * (239 + 1 / 6 - 239),
    ]
    expected = [r / (sum(raw) / 6) for r in raw]  # the scale by the hourly mean cancels out
    assert profiles.builtin_weights("Hub-Rush-Hour", 6) == pytest.approx(expected, rel=1e-12)


def test_three_shift_resampled_to_four_bins() -> None:
    raw = [0.9, 0.98 + (1.0 - 0.98) * 0.75, 1.15 + (1.12 - 1.15) * 0.5, 0.98 + (0.96 - 0.98) * 0.25]
    assert raw == pytest.approx([0.9, 0.995, 1.135, 0.975])
    expected = [r / 1.00125 for r in raw]
    assert profiles.builtin_weights("three-shift", 4) == pytest.approx(expected, rel=1e-12)


def test_the_library_sums_are_the_hand_sums() -> None:
    assert sum(profiles.builtin_slots("weekday-office")) == pytest.approx(288)
    hub = profiles.builtin_weights("hub-rush-hour", 288)
    assert hub[8 * 12] == pytest.approx(1.4 / (HUB_RUSH_HOUR_SUM / 24), rel=1e-12)


def test_inline_weights_and_the_expected_value() -> None:
    assert profiles.inline_weights([1, 3], 2) == [0.5, 1.5]
    assert profiles.expected_value([8, 10, 12], [0.25, 0.5, 0.25]) == 10.0


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            lambda: profiles.inline_weights([0, 0], 2),
            "the profile's weights must have a positive mean",
        ),
        (
            lambda: profiles.inline_weights([1, -1, 2], 3),
            "inline profile weights must not be negative",
        ),
        (
            lambda: profiles.builtin_weights("night", 3),
            "unknown built-in profile 'night'; built-in "
            "profiles: hub-rush-hour, three-shift, "
            "weekday-office",
        ),
    ],
)
def test_profile_errors(call, message: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError) as err:
        call()
    assert str(err.value) == message
