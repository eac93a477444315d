"""Which line of a Jinja2 template body wrote each line of the rendered text.

Rendering again with markers in the parsed template (before it is compiled) tags the rendered
text with body lines: a marker before each piece of literal text and each ``{{ expression }}``,
and after every line break of literal text. A rendered line comes from the body line of the last
marker before its first visible character. The markers are then removed. Expressions and tags
are left as they are, so the render does what the plain one does; when the text without markers
is not exactly the plain text (a literal captured by ``{% set %}`` and used as a value, say), no
line is claimed.
"""

from __future__ import annotations

import re
from typing import Any

from flowtime_sim.types import Template

_MARK = re.compile("\x00([0-9]+)\x01")


def source_lines(template: Template, values: dict[str, Any], rendered: str) -> list[int] | None:
    """For each line of ``rendered`` (what ``template`` rendered with ``values``), the body line
    it comes from; ``None`` when that cannot be told."""
    from jinja2 import nodes

    from flowtime_sim.builtin.jinja import _environment

    env = _environment()
    try:
        ast = env.parse(template.read_body())
        for output in ast.find_all(nodes.Output):
            marked: list[Any] = []
            for child in output.nodes:
                if isinstance(child, nodes.TemplateData):
                    marked.append(
                        nodes.TemplateData(_marked(child.data, child.lineno), lineno=child.lineno)
                    )
                else:
                    marked += [nodes.TemplateData(_mark(child.lineno), lineno=child.lineno), child]
            output.nodes = marked
        compiled = env.template_class.from_code(env, env.compile(ast), env.make_globals(None), None)
        text = str(
            compiled.render(**values, template={"id": template.id, "version": template.version})
        )
    except Exception:  # the plain render succeeded; anything else here just means "unknown"
        return None
    if _MARK.sub("", text) != rendered:
        return None
    lines: list[int] = []
    last = 1  # the last marker seen, carried across lines
    for line in text.split("\n"):
        chosen, pos = last, 0
        for found in _MARK.finditer(line):
            if line[pos : found.start()].strip():
                break  # visible text came first: it belongs to the marker before it
            chosen, pos = int(found.group(1)), found.end()
        marks = _MARK.findall(line)
        last = int(marks[-1]) if marks else last
        lines.append(chosen)
    return lines


def _mark(lineno: int) -> str:
    return f"\x00{lineno}\x01"


def _marked(data: str, lineno: int) -> str:
    parts = data.split("\n")
    return _mark(lineno) + "\n".join(
        [parts[0], *(_mark(lineno + i) + part for i, part in enumerate(parts[1:], start=1))]
    )
