"""A rendered model that fails validation, reported where the template author can fix it.

The model's problem is found on a line of the rendered text (a YAML error's position, or the
node or field the validator names); the template's renderer tells which body line wrote that
line (for Jinja2 bodies, :mod:`flowtime_sim.builtin.jinja_lines`). The message quotes both
lines, so the same mistake reads the same whatever the parameters made of the text around it.
"""

from __future__ import annotations

import re
from typing import Any

from flowtime_sim.errors import InvalidModelError, ModelError
from flowtime_sim.types import ResolvedParameters, Template

_POSITION = re.compile(r"at line (\d+), column \d+")
_FIELD_PART = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def invalid_model(
    template: Template, parameters: ResolvedParameters, text: str, exc: ModelError, kept: str | None
) -> InvalidModelError:
    """The error for ``template`` rendering ``text``, which failed validation with ``exc``."""
    model_line = model_line_of(text, exc)
    template_line = None
    if model_line is not None and template.format == "jinja2":
        from flowtime_sim.builtin.jinja_lines import source_lines

        lines = source_lines(template, dict(parameters.values), text)
        if lines is not None and model_line <= len(lines):
            template_line = lines[model_line - 1]
    message = f"template {template.id} {template.version} rendered an invalid model: {exc}"
    where = []
    if template_line is not None:
        body = template.read_body().split("\n")
        if template_line <= len(body):
            where.append(f"template line {template_line}: {_quote(body[template_line - 1])}")
    if model_line is not None:
        where.append(f"model line {model_line}: {_quote(text.split(chr(10))[model_line - 1])}")
    if kept:
        where.append(f"the rendered model is in {kept}")
    if where:
        message += " [" + "; ".join(where) + "]"
    return InvalidModelError(
        message, rendered=text, model_line=model_line, template_line=template_line
    )


def _quote(line: str) -> str:
    line = line.strip()
    return "`" + (line if len(line) <= 100 else line[:97] + "...") + "`"


def model_line_of(text: str, exc: ModelError) -> int | None:
    """The line of ``text`` that ``exc`` is about: its YAML position, else the field or node
    it names, found in the YAML's structure."""
    found = _POSITION.search(str(exc))
    if found:
        return int(found.group(1))
    import yaml

    try:
        root = yaml.compose(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError:
        return None
    if root is None:
        return None
    if exc.field:
        node = _follow(root, exc.field)
        if node is not None:
            return int(node.start_mark.line) + 1
    if exc.node:
        node = _node_entry(root, exc.node)
        if node is not None:
            return int(node.start_mark.line) + 1
    return None


def _follow(root: Any, field: str) -> Any:
    """The deepest YAML node on the path ``nodes[3].expr`` (as far as it exists)."""
    import yaml

    node = root
    for name, index in _FIELD_PART.findall(field):
        if isinstance(node, yaml.MappingNode) and name:
            match = [(k, v) for k, v in node.value if getattr(k, "value", None) == name]
            if not match:
                return node
            node = match[0][1]
        elif isinstance(node, yaml.SequenceNode) and index:
            if int(index) >= len(node.value):
                return node
            node = node.value[int(index)]
        else:
            return node
    return node


def _node_entry(root: Any, node_id: str) -> Any:
    import yaml

    if not isinstance(root, yaml.MappingNode):
        return None
    for key, value in root.value:
        if getattr(key, "value", None) == "nodes" and isinstance(value, yaml.SequenceNode):
            for entry in value.value:
                if isinstance(entry, yaml.MappingNode) and any(
                    getattr(k, "value", None) == "id" and getattr(v, "value", None) == node_id
                    for k, v in entry.value
                ):
                    return entry
    return None
