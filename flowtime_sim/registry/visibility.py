"""Who may see a new version of a model that others can already see.

A listing shows each model once, as its newest version. A new version that fewer people may
see than an older one would therefore make the model vanish from their listings — and, in the
service, lock its owner out of their own model id. So a new version must be visible to
everyone who can see any stored version: it is ``public``, or it has the same owner and at
least the same visibility (``private`` < ``team`` < ``public``; a team version by another
owner is seen by another team). When the request names no visibility, the new version takes
the newest stored version's, if that satisfies the rule; otherwise it is ``private``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from flowtime_sim.errors import ConflictError

RANK = {"private": 0, "team": 1, "public": 2}


def covers(visibility: str, owner: str, existing: Mapping[str, Any]) -> bool:
    """Whether a version (``visibility``, ``owner``) is seen by everyone who sees ``existing``."""
    if visibility == "public":
        return True
    theirs = str(existing.get("visibility", "private"))
    return owner == existing.get("owner") and RANK.get(visibility, 0) >= RANK.get(theirs, 2)


def for_new_version(
    requested: str | None, owner: str, existing: Iterable[Mapping[str, Any]]
) -> str:
    """The visibility of a new version by ``owner`` of a model whose stored versions' catalogs
    are ``existing`` (oldest first); :class:`ConflictError` when ``requested`` is narrower."""
    stored = list(existing)
    visibility = requested
    if visibility is None:
        newest = str(stored[-1].get("visibility", "private")) if stored else "private"
        visibility = newest if all(covers(newest, owner, c) for c in stored) else "private"
    for catalog in stored:
        if not covers(visibility, owner, catalog):
            ref = f"{catalog.get('id')}@v{catalog.get('version')}"
            theirs = catalog.get("visibility", "private")
            whose = "" if catalog.get("owner") == owner else f" by {catalog.get('owner')}"
            need = "public" if whose or theirs == "public" else f"{theirs} or public"
            raise ConflictError(
                f"{ref}{whose} is {theirs}: a new version of {catalog.get('id')} must be seen "
                f"by everyone who sees it, so it must be {need} (not {visibility}); choose "
                "another name for a separate model",
                field="visibility",
            )
    return visibility
