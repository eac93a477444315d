"""Template versions a pack offers but the host cannot read, kept apart from the pack's others.

One unreadable ``template.yaml`` costs only its own template version: while the template index
is collected, :func:`skip` records it (with the plugin whose discovery hook was reading it) and
the reader moves on to the next folder. Outside a collection nothing is recorded and the
reader raises as before.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path

from flowtime_sim.dispatch import running_plugin


@dataclass(frozen=True, slots=True)
class SkippedTemplate:
    """A template version left out: the plugin offering it, its manifest and why."""

    plugin: str
    path: str
    reason: str

    def __str__(self) -> str:
        return f"plugin {self.plugin!r}: template {self.path} skipped: {self.reason}"


_ACTIVE: ContextVar[list[SkippedTemplate] | None] = ContextVar("flowtime_sim_skipped", default=None)


@contextmanager
def collecting() -> Iterator[list[SkippedTemplate]]:
    """Record, instead of raising, every template version a reader skips in this block."""
    found: list[SkippedTemplate] = []
    token = _ACTIVE.set(found)
    try:
        yield found
    finally:
        _ACTIVE.reset(token)


def skip(path: Path, exc: Exception) -> bool:
    """Record that the manifest ``path`` could not be read; ``False`` when nothing collects
    (the caller raises then)."""
    found = _ACTIVE.get()
    if found is None:
        return False
    reason = str(exc).removeprefix(f"{path}: ") or type(exc).__name__
    found.append(SkippedTemplate(running_plugin() or "?", str(path), reason))
    return True
