"""Default parameter resolution: schema defaults, then the params file, then ``--set``."""

from __future__ import annotations

import copy
import math
from collections.abc import Mapping
from typing import Any

from flowtime_sim.errors import ParameterError
from flowtime_sim.markers import hookimpl
from flowtime_sim.types import ParameterSources, ResolvedParameters, Template

FLOWTIME_SIM_PLUGIN_API = ">=1,<2"


def schema_defaults(schema: Mapping[str, Any]) -> dict[str, Any]:
    props = schema.get("properties") or {}
    return {k: copy.deepcopy(v["default"]) for k, v in props.items()
            if isinstance(v, Mapping) and "default" in v}


def resolve(template: Template, sources: ParameterSources) -> ResolvedParameters:
    """Merge and validate; every problem is reported at once in one :class:`ParameterError`."""
    import jsonschema

    schema = template.manifest.parameters
    values = schema_defaults(schema)
    values.update(sources.file)
    values.update(sources.sets)
    where = f"template {template.id} {template.version}"
    problems = [f"parameter {name!r} = {_show(value)} is not a finite number"
                for name, value in values.items() if _has_non_finite(value)]
    validator_cls = jsonschema.validators.validator_for(schema, jsonschema.Draft202012Validator)
    validator = validator_cls(schema, format_checker=validator_cls.FORMAT_CHECKER)
    errors = sorted(validator.iter_errors(values), key=lambda e: (list(e.absolute_path), e.message))
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
        return (f"unknown parameter(s) {', '.join(repr(e) for e in extra)}; "
                f"known parameters: {known}")
    if err.validator == "required":
        return f"parameter {err.message.split(' ')[0]} is required"
    if not path:
        return err.message  # type: ignore[no-any-return]
    name = ".".join(str(p) for p in path)
    value = _show(err.instance)
    rule = err.validator_value
    phrases = {
        "minimum": f"is below the minimum {rule}",
        "maximum": f"is above the maximum {rule}",
        "exclusiveMinimum": f"must be greater than {rule}",
        "exclusiveMaximum": f"must be less than {rule}",
        "type": f"is not of type {rule!r}" if isinstance(rule, str)
        else f"is not of type {' or '.join(map(str, rule))}",
        "enum": f"is not one of {', '.join(_show(v) for v in rule)}" if isinstance(rule, list)
        else "is not allowed",
        "minItems": f"has fewer than {rule} items",
        "maxItems": f"has more than {rule} items",
        "minLength": f"is shorter than {rule} characters",
        "maxLength": f"is longer than {rule} characters",
        "pattern": f"does not match the pattern {rule!r}",
        "multipleOf": f"is not a multiple of {rule}",
    }
    phrase = phrases.get(err.validator, f"fails {err.validator}: {err.message}")
    return f"parameter {name!r} = {value} {phrase}"


def _show(value: Any) -> str:
    text = repr(value) if isinstance(value, str) else str(value)
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
