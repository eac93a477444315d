"""What is wrong with a FlowTime-Sim template, before the template's name is added."""

from __future__ import annotations


class TemplateProblem(ValueError):
    """What is wrong with a template, in one line (the caller adds the template's name)."""


def unique(ids: list[str], what: str) -> list[str]:
    """``ids``, checked to hold no id twice."""
    seen: set[str] = set()
    for i in ids:
        if i in seen:
            raise TemplateProblem(f"{what} id {i!r} is used twice")
        seen.add(i)
    return ids
