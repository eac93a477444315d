"""Is a template's parameter schema a valid JSON Schema (draft 2020-12), and does every keyword
apply to the type it is written under?

A schema that fails here would otherwise load and list normally and fail only at ``new`` with a
validator's dump naming no template, or, worse, be accepted and mean nothing (``required: yes``,
``exclusiveMinimum: true``, ``pattern`` on an integer). ``doctor``, ``pack check`` and
``check_pack`` report every problem with the manifest file and the JSON path; ``new`` refuses
the template with the first one.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from flowtime_sim.types import Template

JSON_TYPES = ("array", "boolean", "integer", "null", "number", "object", "string")

#: Keywords that constrain only values of some types, by the types they apply to.
_APPLIES_TO: dict[str, tuple[str, ...]] = {
    **dict.fromkeys(("pattern", "minLength", "maxLength"), ("string",)),
    **dict.fromkeys(
        ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf"),
        ("number", "integer"),
    ),
    **dict.fromkeys(
        (
            "items",
            "prefixItems",
            "minItems",
            "maxItems",
            "uniqueItems",
            "contains",
            "minContains",
            "maxContains",
        ),
        ("array",),
    ),
    **dict.fromkeys(
        (
            "properties",
            "required",
            "additionalProperties",
            "patternProperties",
            "minProperties",
            "maxProperties",
            "propertyNames",
        ),
        ("object",),
    ),
}
_SUBSCHEMA_MAPS = ("properties", "patternProperties", "$defs", "definitions")
_SUBSCHEMA_LISTS = ("prefixItems", "allOf", "anyOf", "oneOf")
_SUBSCHEMAS = (
    "items",
    "additionalProperties",
    "contains",
    "not",
    "if",
    "then",
    "else",
    "propertyNames",
)


def json_path(parts: Iterator[Any] | list[Any] | tuple[Any, ...]) -> str:
    """``parameters/properties/bins/type``: where in the manifest a problem is."""
    return "/".join(["parameters", *(str(p) for p in parts)])


def schema_problems(schema: Mapping[str, Any]) -> list[str]:
    """Every problem of ``schema``, each ``JSON-PATH: what is wrong``; empty when it is valid.

    The quick answer for a valid schema comes from the compiled validator ``new`` loads anyway;
    ``jsonschema`` describes what it finds.
    """
    if _surely_valid(schema):
        return _inapplicable(schema, [])
    import jsonschema

    cls = jsonschema.Draft202012Validator
    meta = cls(cls.META_SCHEMA, format_checker=cls.FORMAT_CHECKER)
    problems = [
        _describe(err)
        for err in sorted(
            meta.iter_errors(dict(schema)), key=lambda e: [str(p) for p in e.absolute_path]
        )
    ]
    return list(dict.fromkeys(problems)) + _inapplicable(schema, [])


def template_schema_problems(template: Template) -> list[str]:
    """:func:`schema_problems` of a template's parameters, each naming its manifest file (or the
    template, when it was not read from a file)."""
    where = manifest_file(template) or f"template {template.id} {template.version}"
    return [f"{where}: {p}" for p in schema_problems(template.manifest.parameters)]


def manifest_file(template: Template) -> str | None:
    """The ``template.yaml`` a template was read from, when it was read from one."""
    if not template.origin:
        return None
    from pathlib import Path

    path = Path(template.origin).parent / "template.yaml"
    return str(path) if path.is_file() else None


def _surely_valid(schema: Mapping[str, Any]) -> bool:
    import jsonschema_rs

    try:
        if not jsonschema_rs.meta.is_valid(dict(schema)):
            return False
    except (ValueError, TypeError):
        return False
    for pattern in _patterns(schema):  # the compiled validator does not check regex syntax
        try:
            re.compile(pattern)
        except (re.error, TypeError):
            return False
    return True


def _patterns(node: Any) -> Iterator[Any]:
    if isinstance(node, Mapping):
        for key, value in node.items():
            if key == "pattern":
                yield value
            elif key == "patternProperties" and isinstance(value, Mapping):
                yield from value
            yield from _patterns(value)
    elif isinstance(node, list):
        for item in node:
            yield from _patterns(item)


def _describe(err: Any) -> str:
    path = list(err.absolute_path)
    where = json_path(path)
    if path and path[-1] == "type" and err.validator == "anyOf":
        return (
            f"{where}: {_show(err.instance)} is not a JSON Schema type; use one of "
            f"{', '.join(JSON_TYPES)}"
        )
    if path and path[-1] == "required" and err.validator == "type":
        return f"{where}: must be a list of parameter names, not {_show(err.instance)}"
    if err.validator == "format" and err.validator_value == "regex":
        return f"{where}: {_show(err.instance)} is not a valid regular expression"
    message = " ".join(str(err.message).split())
    return f"{where}: {message}"


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _inapplicable(schema: Any, path: list[Any]) -> list[str]:
    """Keywords written under a ``type`` they never constrain: ``pattern`` on an integer."""
    if not isinstance(schema, Mapping):
        return []
    problems: list[str] = []
    declared = schema.get("type")
    types = [declared] if isinstance(declared, str) else declared
    if isinstance(types, list) and all(isinstance(t, str) for t in types):
        accepted = set(types) | ({"number"} if "integer" in types else set())
        for key in schema:
            applies = _APPLIES_TO.get(str(key))
            if applies and not accepted & set(applies):
                shown = types[0] if len(types) == 1 else " or ".join(types)
                problems.append(
                    f"{json_path([*path, key])}: {key} applies only to "
                    f"{applies[0]} values, but the type is {shown}; remove it or "
                    "change the type"
                )
    for key in _SUBSCHEMA_MAPS:
        value = schema.get(key)
        if isinstance(value, Mapping):
            for name, sub in value.items():
                problems += _inapplicable(sub, [*path, key, name])
    for key in _SUBSCHEMA_LISTS:
        value = schema.get(key)
        if isinstance(value, list):
            for i, sub in enumerate(value):
                problems += _inapplicable(sub, [*path, key, i])
    for key in _SUBSCHEMAS:
        problems += _inapplicable(schema.get(key), [*path, key])
    return problems
