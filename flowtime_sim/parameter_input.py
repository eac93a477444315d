"""Reading user-supplied parameters: ``--params FILE`` and ``--set key=value``."""

from __future__ import annotations

from collections.abc import Iterable
from json import JSONDecodeError
from pathlib import Path
from typing import Any

from flowtime_sim.errors import UserError
from flowtime_sim.types import ParameterSources
from flowtime_sim.yaml_dialect import (
    DuplicateKeyError,
    YamlError,
    YamlLimitError,
    load_json,
    load_yaml,
)

_NULLS = {"null", "Null", "NULL", "~"}
MAX_PARAMS_FILE = 1_000_000  # bytes; parameters are small, a bigger file is a mistake


def load_params_file(path: str | Path) -> dict[str, Any]:
    """A YAML or JSON mapping of parameter values."""
    p = Path(path)
    try:
        if p.stat().st_size > MAX_PARAMS_FILE:
            raise UserError(
                f"parameters file {str(p)!r} is larger than 1 MB; "
                "pass a file of parameter values only",
                field="params",
            )
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UserError(f"parameters file {str(p)!r} does not exist", field="params") from None
    except OSError as exc:
        raise UserError(
            f"cannot read parameters file {str(p)!r}: {exc.strerror or exc}", field="params"
        ) from None
    except UnicodeDecodeError as exc:
        raise UserError(f"cannot read parameters file {str(p)!r}: {exc}", field="params") from None
    return parse_params_text(text, str(p))


def parse_params_text(text: str, name: str) -> dict[str, Any]:
    """The parameters in ``text``, JSON when ``name`` ends in ``.json``, else YAML; both read
    with the host's YAML rules (:mod:`flowtime_sim.yaml_dialect`)."""
    kind = "JSON" if name.endswith(".json") else "YAML"
    try:
        data = load_json(text) if kind == "JSON" else load_yaml(text)
    except JSONDecodeError as exc:
        raise UserError(
            f"parameters file {name!r} is not valid JSON: {exc.msg} "
            f"at line {exc.lineno}, column {exc.colno}",
            field="params",
        ) from None
    except YamlLimitError as exc:
        raise UserError(f"parameters file {name!r} is refused: {exc}", field="params") from None
    except YamlError as exc:
        raise UserError(
            f"parameters file {name!r} is not valid {kind}: {exc}", field="params"
        ) from None
    if data is None:
        return {}
    if not isinstance(data, dict) or not all(isinstance(k, str) for k in data):
        raise UserError(
            f"parameters file {name!r} must hold a mapping of parameter names to values",
            field="params",
        )
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
            value = load_yaml(raw) if raw.strip() else ""
        except (DuplicateKeyError, YamlLimitError) as exc:
            raise UserError(f"--set {key}: {exc}", field="set") from None
        except YamlError:
            value = raw
        if isinstance(value, dict | list) and not raw.lstrip().startswith(("{", "[")):
            value = raw  # "a: b" or "- b" was meant as text, not a block collection
        elif value is None and raw.strip() not in _NULLS:
            value = raw  # "# 1" was meant as text, not a comment
        out[key] = value
    return out


def parameter_sources(params_file: str | Path | None, sets: Iterable[str]) -> ParameterSources:
    data = load_params_file(params_file) if params_file else {}
    return ParameterSources(
        file=data, sets=parse_sets(sets), file_name=str(params_file) if params_file else None
    )
