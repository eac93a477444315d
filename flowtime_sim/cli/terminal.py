"""All terminal output goes through here: rich for people, plain JSON for programs.

User-supplied text is never interpreted as rich markup.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from functools import cache
from typing import Any


@cache
def console(stderr: bool = False) -> Any:
    from rich.console import Console

    return Console(stderr=stderr, highlight=False, soft_wrap=False)


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")


def error(message: str) -> None:
    """One line on stderr, no traceback."""
    sys.stderr.write(f"error: {message}\n")


def warn(message: str) -> None:
    sys.stderr.write(f"warning: {message}\n")


def note(message: str) -> None:
    sys.stderr.write(f"note: {message}\n")


def line(text: str = "") -> None:
    sys.stdout.write(text + "\n")


def table(
    title: str | None,
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    keep: Sequence[str] = (),
) -> None:
    """A table on a terminal (columns named in ``keep`` never wrap: ids people copy); when
    output goes to a pipe or a file, tab-separated lines with a header, for scripts."""
    if not sys.stdout.isatty():
        if title:
            sys.stdout.write(f"# {title}\n")
        for row in [columns, *rows]:
            cells = ("" if c is None else str(c).replace("\t", " ").replace("\n", " ") for c in row)
            sys.stdout.write("\t".join(cells) + "\n")
        return
    from rich.table import Table
    from rich.text import Text

    t = Table(title=title, title_justify="left", show_edge=False, header_style="bold")
    for col in columns:
        t.add_column(col, no_wrap=col in keep, overflow="fold")
    for row in rows:
        t.add_row(*(Text("" if cell is None else str(cell)) for cell in row))
    console().print(t)


def key_values(pairs: Sequence[tuple[str, Any]]) -> None:
    if not sys.stdout.isatty():
        for key, value in pairs:
            line(f"{key}\t{'' if value is None else value}")
        return
    from rich.table import Table
    from rich.text import Text

    t = Table(show_header=False, show_edge=False, box=None, pad_edge=False)
    t.add_column(style="bold")
    t.add_column()
    for key, value in pairs:
        t.add_row(Text(key), Text("" if value is None else str(value)))
    console().print(t)
