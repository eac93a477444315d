"""FlowTime-Sim parameter declarations as the JSON Schema the host validates with.

Both generations declare a list of ``{name, type, title, description, default, minimum|min,
maximum|max}``; the 2025 one also ``allowedValues|enum``, today's one ``arrayOf`` (``int`` for
whole numbers, anything else for numbers) and ``required``. Bounds are enforced on scalars —
which FlowTime-Sim never did — and on every item of an array. A parameter without a default is
required.
"""

from __future__ import annotations

import re
from typing import Any

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_TYPES = {
    "integer": "integer",
    "int": "integer",
    "long": "integer",
    "number": "number",
    "double": "number",
    "float": "number",
    "decimal": "number",
    "string": "string",
    "boolean": "boolean",
    "bool": "boolean",
    "array": "array",
    "numberArray": "array",
}
_COPIED = (
    ("min", "minimum"),
    ("minimum", "minimum"),
    ("max", "maximum"),
    ("maximum", "maximum"),
    ("default", "default"),
    ("description", "description"),
    ("title", "title"),
    ("allowedValues", "enum"),
    ("enum", "enum"),
)


def parameters_schema(params: Any) -> dict[str, Any]:
    """The JSON Schema of a ``parameters`` list; raises :class:`ValueError` on a bad entry."""
    if params is None:
        params = []
    if not isinstance(params, list):
        raise ValueError("'parameters' must be a list of {name, type, default, ...}")
    props: dict[str, Any] = {}
    required: list[str] = []
    for entry in params:
        if not isinstance(entry, dict) or "name" not in entry:
            raise ValueError("every entry of 'parameters' needs a name")
        name = str(entry["name"])
        if not _NAME.fullmatch(name):
            raise ValueError(f"parameter name {name!r} must match [A-Za-z_][A-Za-z0-9_]*")
        if name in props:
            raise ValueError(f"parameter {name!r} is declared twice")
        kind = entry.get("type")
        if kind is not None and kind not in _TYPES:
            raise ValueError(
                f"parameter {name!r} has unknown type {kind!r}; use integer, "
                "number, boolean, string or array"
            )
        prop: dict[str, Any] = {"type": _TYPES[kind]} if kind is not None else {}
        prop.update((dst, entry[src]) for src, dst in _COPIED if src in entry)
        for bound in ("minimum", "maximum"):
            if bound in prop and (
                isinstance(prop[bound], bool) or not isinstance(prop[bound], int | float)
            ):
                raise ValueError(
                    f"parameter {name!r}: {bound} must be a number, got {prop[bound]!r}"
                )
        if prop.get("type") == "array":  # the bounds apply to each item, not to the array
            item_type = (
                "integer"
                if str(entry.get("arrayOf", "")).lower() in ("int", "integer")
                else "number"
            )
            prop["items"] = {
                "type": item_type,
                **{k: prop.pop(k) for k in ("minimum", "maximum") if k in prop},
            }
        props[name] = prop
        if entry.get("required") is True or "default" not in prop:
            required.append(name)
    return {
        "type": "object",
        "additionalProperties": False,
        "properties": props,
        **({"required": required} if required else {}),
    }
