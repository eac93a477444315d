"""The visibility of a new version of a stored model (flowtime_sim.registry.visibility)."""

from __future__ import annotations

import pytest

from flowtime_sim.errors import ConflictError


def test_an_owner_may_keep_or_widen_a_team_model_but_not_narrow_it(ft_versions) -> None:
    ft = ft_versions
    first = ft.create_model("tiny", version="1.0.0", visibility="team", owner="ada").artifact
    with pytest.raises(ConflictError) as refused:
        ft.create_model("tiny", version="1.1.0", visibility="private", owner="ada")
    assert str(refused.value) == (
        f"{first.id}@v1 is team: a new version of {first.id} must be seen by everyone who sees "
        "it, so it must be team or public (not private); choose another name for a separate "
        "model"
    )
    assert refused.value.field == "visibility"
    kept = ft.create_model("tiny", version="1.1.0", owner="ada").artifact
    assert (kept.version, kept.catalog["visibility"]) == (2, "team")
    wider = ft.create_model("tiny", version="1.2.0", visibility="public", owner="ada").artifact
    assert (wider.version, wider.catalog["visibility"]) == (3, "public")


def test_another_owner_adds_public_versions_only(ft_versions) -> None:
    ft = ft_versions
    first = ft.create_model("tiny", version="1.0.0", owner="ada").artifact
    with pytest.raises(
        ConflictError,
        match=rf"^{first.id}@v1 by ada is private: .* so it must "
        r"be public \(not private\);",
    ):
        ft.create_model("tiny", version="1.1.0", owner="bo")
    assert [v.version for v in ft.versions(first.id)] == [1]
    assert (
        ft.create_model("tiny", version="1.1.0", visibility="public", owner="bo").artifact.version
        == 2
    )
