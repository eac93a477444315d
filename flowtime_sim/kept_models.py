"""Keeping the text a template rendered, valid or not, where its author can read it.

``flowtime-sim new --keep-rendered FILE`` keeps one render in ``FILE``;
``FLOWTIME_SIM_KEEP_RENDERED=DIR`` keeps every render (``new``, ``doctor``, ``check_pack``, a
pack's tests) in ``DIR/<template id>-<version>-<first 8 hex digits of the text's SHA-256>.yaml``.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path

from flowtime_sim.types import Template

ENV = "FLOWTIME_SIM_KEEP_RENDERED"
_FILE: ContextVar[Path | None] = ContextVar("flowtime_sim_keep_rendered", default=None)


@contextmanager
def keeping_rendered_in(path: Path) -> Iterator[None]:
    """Keep what is rendered in this block in ``path`` (the last render wins)."""
    token = _FILE.set(path)
    try:
        yield
    finally:
        _FILE.reset(token)


def keep(template: Template, text: str) -> str | None:
    """Write ``text`` where it is asked to be kept; the path written, or ``None``."""
    path = _FILE.get()
    if path is None:
        folder = os.environ.get(ENV)
        if not folder:
            return None
        digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:8]
        path = Path(folder) / f"{template.id}-{template.version}-{digest}.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8", newline="\n")
    return str(path)
