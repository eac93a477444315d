"""``${name}`` placeholders with FlowTime-Sim's meaning and without its injection risk.

FlowTime-Sim substitutes parameter values into the template *text*, so a placeholder may stand
anywhere: in a flow mapping (``{values: ${pattern}}``), inside a quoted expression
(``expr: "x * ${rate}"``), in a key. Substituting text lets a value rewrite the document
(a string such as ``"x\\nnodes: []"``). Here every placeholder is first replaced by a unique
*sentinel* — letters and digits only, so it is a valid YAML scalar in any position, quoted or
not — the text is parsed, and only then are the sentinels replaced, in the parsed document:

- a scalar that is exactly one sentinel, quoted or not, takes the parameter's typed value
  (``bins: ${bins}`` → ``12``; ``values: ${pattern}`` → a list; ``values: ["${level}"]`` →
  ``[4]``) — where the model needs text (``expr: "${capacity}"``) the converter writes the
  number as text;
- a sentinel inside a longer scalar or a key is spliced in as text, numbers, booleans and
  arrays formatted as FlowTime-Sim formats them (:func:`format_value`); a plain scalar that
  then reads as a number, boolean or null becomes one (``${major}.5`` → ``2.5``), as it would
  after a textual substitution, a quoted one stays text. Strings are spliced as they are.

A value can thus never add keys, items or documents.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from flowtime_sim.upstream.documents import SENTINEL_MARK, plain_scalar

PLACEHOLDER = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


@dataclass(frozen=True, slots=True)
class Sentinels:
    """The sentinels of one template text: ``names[i]`` is the parameter of sentinel ``i``."""

    prefix: str
    names: tuple[str, ...]

    @property
    def pattern(self) -> re.Pattern[str]:
        return re.compile(re.escape(self.prefix) + r"(\d+)Z")

    def placeholders(self, document: Any) -> set[str]:
        """The parameter names whose placeholders survive in ``document`` (comments and
        dropped sections no longer count)."""
        found: set[str] = set()
        pattern = self.pattern

        def visit(text: str) -> str:
            found.update(self.names[int(m.group(1))] for m in pattern.finditer(text))
            return text

        _walk(document, visit)
        return found

    def fill(
        self, document: Any, values: Mapping[str, Any], plain: frozenset[str] = frozenset()
    ) -> Any:
        """``document`` with every sentinel replaced by its parameter's value (see above);
        ``plain`` holds the scalars that were written plain (not quoted)."""
        pattern = self.pattern

        def scalar(text: str) -> Any:
            whole = pattern.fullmatch(text)
            if whole:
                return values[self.names[int(whole.group(1))]]
            spliced = pattern.sub(lambda m: _splice(values[self.names[int(m.group(1))]]), text)
            return plain_scalar(spliced) if text in plain else spliced

        return _walk(
            document,
            scalar,
            key=lambda k: pattern.sub(lambda m: _splice(values[self.names[int(m.group(1))]]), k),
        )

    def restore(self, document: Any) -> Any:
        """``document`` with the placeholders written back as ``${name}`` text."""
        pattern = self.pattern

        def back(text: str) -> str:
            return pattern.sub(lambda m: "${" + self.names[int(m.group(1))] + "}", text)

        return _walk(document, back, key=back)


def hide_placeholders(text: str) -> tuple[str, Sentinels]:
    """Replace every ``${name}`` in ``text`` by a sentinel that occurs nowhere else."""
    nonce = 0
    while f"{SENTINEL_MARK}{nonce}x" in text:
        nonce += 1
    prefix = f"{SENTINEL_MARK}{nonce}x"
    names: list[str] = []

    def sentinel(match: re.Match[str]) -> str:
        names.append(match.group(1))
        return f"{prefix}{len(names) - 1}Z"

    return PLACEHOLDER.sub(sentinel, text), Sentinels(prefix, tuple(names))


def substitute_text(text: str, values: Mapping[str, Any]) -> str:
    """FlowTime-Sim's own textual substitution — used only to compute the provenance
    ``modelId`` (a hash of the substituted text), never parsed."""
    return PLACEHOLDER.sub(
        lambda m: format_value(values[m.group(1)]) if m.group(1) in values else m.group(0), text
    )


def _walk(
    document: Any, scalar: Callable[[str], Any], key: Callable[[str], Any] | None = None
) -> Any:
    if isinstance(document, dict):
        return {
            (key(k) if key and isinstance(k, str) else k): _walk(v, scalar, key)
            for k, v in document.items()
        }
    if isinstance(document, list):
        return [_walk(v, scalar, key) for v in document]
    if isinstance(document, str):
        return scalar(document)
    return document


def _splice(value: Any) -> str:
    return value if isinstance(value, str) else format_value(value)


def format_value(value: Any) -> str:
    """A parameter value as FlowTime-Sim writes it into a template: ``null``, ``true``,
    numbers in .NET's shortest round-trip form (``288``, ``0.25``, ``1E+15``, ``1E-05``),
    arrays as ``[1, 2.5]``; strings as they are, double-quoted when empty or holding
    whitespace, ``:`` or ``#``."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return format_number(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(format_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {format_value(v)}" for k, v in value.items()) + "}"
    text = str(value)
    if text.startswith(("[", "{")) or (len(text) >= 2 and text[0] == text[-1] == '"'):
        return text
    if not text or any(c.isspace() or c in ":#" for c in text):
        return f'"{text}"'
    return text


def format_number(value: float) -> str:
    """.NET's invariant shortest round-trip text of a double: positional while the decimal
    exponent is between -5 and 15 (exclusive), else ``d.dddE+XX``."""
    if not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if value == 0:
        return "-0" if math.copysign(1.0, value) < 0 else "0"
    sign, digits, exponent = Decimal(repr(value)).normalize().as_tuple()
    assert isinstance(exponent, int)
    text = "".join(map(str, digits))
    magnitude = len(digits) + exponent - 1
    minus = "-" if sign else ""
    if -5 < magnitude < 15:
        if exponent >= 0:
            return minus + text + "0" * exponent
        point = len(text) + exponent
        if point > 0:
            return f"{minus}{text[:point]}.{text[point:]}"
        return f"{minus}0.{'0' * -point}{text}"
    mantissa = text[0] + ("." + text[1:] if len(text) > 1 else "")
    return f"{minus}{mantissa}E{'+' if magnitude >= 0 else '-'}{abs(magnitude):02d}"
