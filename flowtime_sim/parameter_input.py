"""Reading user-supplied parameters: ``--params FILE`` and ``--set key=value``."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

from flowtime_sim.errors import UserError
from flowtime_sim.types import ParameterSources
from flowtime_sim.yamlsafe import read_exponent_floats, yaml_problem

_SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_SafeLoader):  # type: ignore[misc, valid-type]
    """Safe YAML that reads values as JSON would: a date stays the text the user wrote (a
    template parameter is never a datetime), and ``1e3`` is a number as in YAML 1.2."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in _SafeLoader.yaml_implicit_resolvers.items()
}
read_exponent_floats(_Loader)
_NULLS = {"null", "Null", "NULL", "~"}
MAX_PARAMS_FILE = 1_000_000  # bytes; parameters are small, a bigger file is a mistake


def load_params_file(path: str | Path) -> dict[str, Any]:
    """A YAML or JSON mapping of parameter values."""
    p = Path(path)
    try:
        if p.stat().st_size > MAX_PARAMS_FILE:
            raise UserError(f"parameters file {str(p)!r} is larger than 1 MB; "
                            "pass a file of parameter values only", field="params")
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UserError(f"parameters file {str(p)!r} does not exist", field="params") from None
    except OSError as exc:
        raise UserError(f"cannot read parameters file {str(p)!r}: {exc.strerror or exc}",
                        field="params") from None
    except UnicodeDecodeError as exc:
        raise UserError(f"cannot read parameters file {str(p)!r}: {exc}", field="params") from None
    return parse_params_text(text, str(p))


def parse_params_text(text: str, name: str) -> dict[str, Any]:
    try:
        data = json.loads(text) if name.endswith(".json") else yaml.load(text, Loader=_Loader)
    except json.JSONDecodeError as exc:
        raise UserError(f"parameters file {name!r} is not valid JSON: {exc.msg} "
                        f"at line {exc.lineno} column {exc.colno}", field="params") from None
    except yaml.YAMLError as exc:
        raise UserError(f"parameters file {name!r} is not valid YAML: {yaml_problem(exc)}",
                        field="params") from None
    if data is None:
        return {}
    if not isinstance(data, dict) or not all(isinstance(k, str) for k in data):
        raise UserError(f"parameters file {name!r} must hold a mapping of parameter names to "
                        "values", field="params")
    return data


def parse_sets(items: Iterable[str]) -> dict[str, Any]:
    """``["peak_factor=2", "profile=[1, 2]"]`` → ``{"peak_factor": 2, "profile": [1, 2]}``.

    Each value is read as a YAML scalar or flow collection (``[1, 2]``, ``{a: 1}``); anything
    else stays the literal string, so ``title=a: b``, ``note=# 1`` and ``x=- y`` are text.
    """
    out: dict[str, Any] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise UserError(f"--set expects key=value, got {item!r}", field="set")
        try:
            value = yaml.load(raw, Loader=_Loader) if raw.strip() else ""
        except yaml.YAMLError:
            value = raw
        if isinstance(value, dict | list) and not raw.lstrip().startswith(("{", "[")):
            value = raw  # "a: b" or "- b" was meant as text, not a block collection
        elif value is None and raw.strip() not in _NULLS:
            value = raw  # "# 1" was meant as text, not a comment
        out[key] = value
    return out


def parameter_sources(params_file: str | Path | None, sets: Iterable[str]) -> ParameterSources:
    data = load_params_file(params_file) if params_file else {}
    return ParameterSources(file=data, sets=parse_sets(sets),
                            file_name=str(params_file) if params_file else None)
