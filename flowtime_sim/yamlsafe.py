"""Turn parameter values into YAML literals that can never change a document's structure.

Reading YAML is :mod:`flowtime_sim.yaml_dialect`'s job."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from typing import Any

# Characters YAML treats as line breaks or refuses outright; JSON leaves them bare.
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\ufeff\ufffe\uffff\ud800-\udfff]")


def yaml_literal(value: Any) -> str:
    """A flow-style YAML literal for ``value`` that parses back to exactly ``value``.

    Strings become double-quoted scalars with every break and control character escaped, so a
    value such as ``"x\\nnodes: []"`` stays one string. Floats always carry a decimal point
    (``1.0e+20``) because YAML 1.1 reads ``1e+20`` as a string.
    """
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{value!r} is not a finite number")
        text = repr(value)
        if "e" in text and "." not in text:
            mantissa, _, exponent = text.partition("e")
            text = f"{mantissa}.0e{exponent}"
        return text
    if isinstance(value, str):
        return _quote(value)
    if isinstance(value, Mapping):
        pairs = (f"{_quote(str(k))}: {yaml_literal(v)}" for k, v in value.items())
        return "{" + ", ".join(pairs) + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(yaml_literal(v) for v in value) + "]"
    raise TypeError(f"cannot insert a {type(value).__name__} into a model")


def _quote(text: str) -> str:
    body = json.dumps(text, ensure_ascii=False)[1:-1]
    return '"' + _UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", body) + '"'
