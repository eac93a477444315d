"""The "new model" form, generated from a template's parameter JSON Schema: one field per
property, with its title, description, default (or the source model's value) and bounds.

The browser sends what is typed; the server validates it, and its problem document names
each bad parameter, which the page shows beside that field.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

_MISSING = object()


@dataclass(frozen=True, slots=True)
class FormField:
    name: str
    title: str
    description: str
    kind: str  # integer, number, select, checkbox, text, json
    value: str  # what the input shows
    nullable: bool = False
    attrs: dict[str, str] = field(default_factory=dict)  # min, max, step on number inputs
    options: list[tuple[str, str, bool]] = field(default_factory=list)  # (json, label, chosen)
    rules: str = ""  # the bounds in words, shown under the field


def form_fields(schema: Mapping[str, Any], values: Mapping[str, Any]) -> list[FormField]:
    props: Mapping[str, Any] = schema.get("properties") or {}
    return [
        _field(name, dict(prop or {}), values.get(name, _MISSING)) for name, prop in props.items()
    ]


def _types(prop: Mapping[str, Any]) -> list[str]:
    t = prop.get("type", [])
    return [t] if isinstance(t, str) else list(t)


def _field(name: str, prop: dict[str, Any], given: Any) -> FormField:
    value = prop.get("default") if given is _MISSING else given
    types = _types(prop)
    nullable = "null" in types
    title = str(prop.get("title") or name)
    description = str(prop.get("description") or "")

    def make(kind: str, shown: str, **more: Any) -> FormField:
        return FormField(name, title, description, kind, shown, nullable=nullable, **more)

    if "enum" in prop:
        options = [
            (json.dumps(v), "null" if v is None else str(v), v == value) for v in prop["enum"]
        ]
        return make(
            "select",
            json.dumps(value),
            options=options,
            rules=f"one of {', '.join(o[1] for o in options)}",
        )
    if types and set(types) <= {"boolean", "null"}:
        return make("checkbox", "true" if value else "")
    if types and set(types) <= {"integer", "number", "null"}:
        attrs, rules = _bounds(prop, "integer" in types and "number" not in types)
        return make(
            "integer" if attrs.get("step") == "1" else "number",
            "" if value is None else _number(value),
            attrs=attrs,
            rules=rules,
        )
    if types and set(types) <= {"string", "null"}:
        return make(
            "text",
            "" if value is None else str(value),
            rules="text, or empty for none" if nullable else "",
        )
    return make("json", json.dumps(value), rules=_json_rules(prop, types))


def _json_rules(prop: Mapping[str, Any], types: list[str]) -> str:
    if types != ["array"]:
        return "a JSON value"
    low, high = prop.get("minItems"), prop.get("maxItems")
    items = (prop.get("items") or {}).get("type", "value")
    count = f"{low} " if low is not None and low == high else ""
    return f"a JSON list of {count}{items}s" + (
        f", {low} to {high} of them" if not count and low is not None and high else ""
    )


def _number(value: Any) -> str:
    return json.dumps(value) if isinstance(value, int | float) else str(value)


def _bounds(prop: Mapping[str, Any], integer: bool) -> tuple[dict[str, str], str]:
    attrs = {"step": "1" if integer else "any"}
    words = []
    if "minimum" in prop:
        attrs["min"] = _number(prop["minimum"])
        words.append(f"≥ {attrs['min']}")
    if "exclusiveMinimum" in prop:
        words.append(f"> {_number(prop['exclusiveMinimum'])}")
    if "maximum" in prop:
        attrs["max"] = _number(prop["maximum"])
        words.append(f"≤ {attrs['max']}")
    if "exclusiveMaximum" in prop:
        words.append(f"< {_number(prop['exclusiveMaximum'])}")
    kind = "a whole number" if integer else "a number"
    return attrs, kind + (f", {' and '.join(words)}" if words else "")
