"""Every YAML read and write of FlowTime-Sim templates, in one place.

Templates are read in the host's one YAML dialect (:mod:`flowtime_sim.yaml_dialect`). One more
fact is taken from the parser's events: which scalars holding a placeholder sentinel were
written *plain* — FlowTime-Sim's textual substitution lets a plain scalar re-read as a number
after a value is spliced into it, a quoted one stays text
(see :mod:`flowtime_sim.upstream.placeholders`).
"""

from __future__ import annotations

import re
from typing import Any

import yaml

from flowtime_sim.yaml_dialect import MODEL_LIMITS, YamlError, load_yaml

#: Every sentinel starts with this text (see placeholders.py), so scalars are told cheaply.
SENTINEL_MARK = "ftsimPLH"
_NULLS = frozenset({"null", "Null", "NULL", "~"})


def load_template_text(text: str) -> tuple[Any, frozenset[str]]:
    """The document of ``text``, and the plain scalars in it that hold a sentinel.
    Raises :class:`ValueError` with a one-line reason."""
    try:
        document = load_yaml(text, limits=MODEL_LIMITS)
    except YamlError as exc:
        raise ValueError(str(exc)) from None
    if SENTINEL_MARK not in text:
        return document, frozenset()
    plain = frozenset(
        event.value
        for event in yaml.parse(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
        if isinstance(event, yaml.ScalarEvent)
        and event.implicit[0]  # plain, not quoted
        and SENTINEL_MARK in event.value
    )
    return document, plain


def plain_scalar(text: str) -> Any:
    """The number, boolean or null ``text`` reads as when written as a plain scalar in the
    dialect, else ``text`` itself. Never a collection: reading the text as a document only
    decides a scalar's type."""
    if not text or text != text.strip() or text.startswith("#"):
        return text
    try:
        value = load_yaml(text, limits=MODEL_LIMITS)
    except YamlError:
        return text
    if value is None:
        return None if text in _NULLS else text
    if isinstance(value, bool | int | float):
        return value
    return text


# Text that YAML 1.1 (PyYAML's dumper) writes plain but the dialect reads as a number.
_NUMBER_LIKE = re.compile(r"[-+]?(?:\.?[0-9]|\.inf|\.nan)", re.IGNORECASE)


class _ModelDumper(yaml.SafeDumper):
    """Block style, except lists of numbers (``values: [1, 2.5]``) as FlowTime-Sim writes
    them; a value used twice is written twice, never as an anchor and alias."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _represent_list(dumper: yaml.SafeDumper, data: list[Any]) -> yaml.Node:
    numbers = bool(data) and all(
        isinstance(v, int | float) and not isinstance(v, bool) for v in data
    )
    return dumper.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=numbers)


def _represent_text(dumper: yaml.SafeDumper, data: str) -> yaml.Node:
    if _NUMBER_LIKE.match(data):  # e.g. "1e3", "0o17": text, not the number the dialect reads
        return dumper.represent_scalar("tag:yaml.org,2002:str", data, style="'")
    return dumper.represent_str(data)


_ModelDumper.add_representer(list, _represent_list)
_ModelDumper.add_representer(str, _represent_text)


def dump_model(document: Any) -> str:
    """The model document as YAML text, keys in the document's order."""
    return yaml.dump(document, Dumper=_ModelDumper, sort_keys=False, allow_unicode=True, width=100)
