"""Default parameter resolution: schema defaults, then the params file, then ``--set``."""

from __future__ import annotations

import copy
import json
import math
from collections.abc import Callable, Mapping
from typing import Any

from flowtime_sim.errors import ParameterError, TemplateError
from flowtime_sim.markers import hookimpl
from flowtime_sim.types import ParameterSources, ResolvedParameters, Template

FLOWTIME_SIM_PLUGIN_API = ">=1,<2"


def schema_defaults(schema: Mapping[str, Any]) -> dict[str, Any]:
    props = schema.get("properties") or {}
    return {
        k: copy.deepcopy(v["default"])
        for k, v in props.items()
        if isinstance(v, Mapping) and "default" in v
    }


_VALIDATORS: dict[tuple[str, str, str, int], Any] = {}
_FAST: dict[tuple[str, str, str, int], Any] = {}
_SCHEMA_OK: set[tuple[str, str, str, int]] = set()


def _key(template: Template) -> tuple[str, str, str, int]:
    return (template.plugin, template.id, template.version, id(template.manifest.parameters))


def _validator(template: Template) -> Any:
    """One compiled validator per template version: building one costs more than using it."""
    import jsonschema

    key = _key(template)
    if key not in _VALIDATORS:
        schema = template.manifest.parameters
        cls = jsonschema.validators.validator_for(schema, jsonschema.Draft202012Validator)
        _VALIDATORS[key] = cls(schema, format_checker=cls.FORMAT_CHECKER)
    return _VALIDATORS[key]


def _surely_valid(template: Template, values: Mapping[str, Any]) -> bool:
    """The common case, answered by a compiled validator without importing ``jsonschema``
    (the largest import of ``new``). Only when it sees a problem does ``jsonschema`` — whose
    errors carry what the messages need — decide and describe."""
    import jsonschema_rs

    key = _key(template)
    try:
        if key not in _FAST:
            _FAST[key] = jsonschema_rs.validator_for(
                dict(template.manifest.parameters), validate_formats=True
            )
        return bool(_FAST[key].is_valid(values))
    except (ValueError, TypeError):  # a schema or a value it cannot take: let jsonschema judge
        return False


def check_schema(template: Template) -> None:
    """Refuse a template whose parameter schema is not a valid JSON Schema, naming the
    manifest and the first problem (``doctor`` lists them all)."""
    key = _key(template)
    if key in _SCHEMA_OK:
        return
    from flowtime_sim.schema_check import template_schema_problems

    problems = template_schema_problems(template)
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise TemplateError(
            f"template {template.id} {template.version} has an invalid "
            f"parameter schema: {problems[0]}{more}; 'flowtime-sim doctor' "
            "lists every problem"
        )
    _SCHEMA_OK.add(key)


def resolve(template: Template, sources: ParameterSources) -> ResolvedParameters:
    """Merge and validate; every problem is reported at once in one :class:`ParameterError`."""

    check_schema(template)
    schema = template.manifest.parameters
    values = schema_defaults(schema)
    values.update(sources.file)
    values.update(sources.sets)
    where = f"template {template.id} {template.version}"
    problems = [
        f"parameter {name!r} = {_show(value)} is not a finite number"
        for name, value in values.items()
        if _has_non_finite(value)
    ]
    if problems or not _surely_valid(template, values):
        errors = sorted(
            _validator(template).iter_errors(values),
            key=lambda e: (list(e.absolute_path), e.message),
        )
        problems += [_describe(err, values, schema) for err in errors]
    if problems:
        lines = [f"{p} ({where})" for p in problems]
        raise ParameterError("; ".join(lines), problems=lines)
    return ResolvedParameters(template.id, template.version, values)


def _describe(err: Any, values: Mapping[str, Any], schema: Mapping[str, Any]) -> str:
    path = list(err.absolute_path)
    if err.validator == "additionalProperties":
        extra = sorted(set(values) - set(schema.get("properties") or {}))
        known = ", ".join(sorted(schema.get("properties") or {})) or "none"
        return (
            f"unknown parameter(s) {', '.join(repr(e) for e in extra)}; known parameters: {known}"
        )
    if err.validator == "required":
        return f"parameter {err.message.split(' ')[0]} is required"
    if not path:
        return err.message  # type: ignore[no-any-return]
    name = str(path[0]) + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path[1:])
    value = _show(err.instance)
    rule = err.validator_value
    phrase = _PHRASES.get(err.validator)
    text = phrase(rule) if phrase else f"fails {err.validator}: {err.message}"
    return f"parameter {name!r} = {value} {text}"


def _types(rule: Any) -> str:
    return repr(rule) if isinstance(rule, str) else " or ".join(map(repr, rule))


# How each JSON Schema keyword's rule reads after "parameter 'x' = value ...".
_PHRASES: dict[str, Callable[[Any], str]] = {
    "minimum": lambda rule: f"is below the minimum {rule}",
    "maximum": lambda rule: f"is above the maximum {rule}",
    "exclusiveMinimum": lambda rule: f"must be greater than {rule}",
    "exclusiveMaximum": lambda rule: f"must be less than {rule}",
    "type": lambda rule: f"is not of type {_types(rule)}",
    "enum": lambda rule: f"is not one of {', '.join(_show(v) for v in rule)}",
    "const": lambda rule: f"is not {_show(rule)}",
    "minItems": lambda rule: f"has fewer than {rule} items",
    "maxItems": lambda rule: f"has more than {rule} items",
    "minLength": lambda rule: f"is shorter than {rule} characters",
    "maxLength": lambda rule: f"is longer than {rule} characters",
    "pattern": lambda rule: f"does not match the pattern {rule!r}",
    "multipleOf": lambda rule: f"is not a multiple of {rule}",
}


def _show(value: Any) -> str:
    """A value as the user wrote it: strings quoted, otherwise JSON (null, true, [1, 2])."""
    text = repr(value) if isinstance(value, str) else json.dumps(value, default=str)
    return text if len(text) <= 80 else text[:77] + "..."


def _has_non_finite(value: Any) -> bool:
    if isinstance(value, float):
        return not math.isfinite(value)
    if isinstance(value, Mapping):
        return any(_has_non_finite(v) for v in value.values())
    if isinstance(value, list | tuple):
        return any(_has_non_finite(v) for v in value)
    return False


@hookimpl(trylast=True)
def flowtime_resolve_parameters(
    template: Template, sources: ParameterSources
) -> ResolvedParameters | None:
    return resolve(template, sources)
