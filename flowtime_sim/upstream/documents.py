"""Every YAML read and write of FlowTime-Sim templates, in one place.

Templates are read with the host's safe loader (``1e3`` is a number, as in YAML 1.2), with one
addition: a quoted scalar that holds a placeholder sentinel is returned as :class:`QuotedText`,
because FlowTime-Sim's textual substitution gives quoted and plain placeholders different
meanings (see :mod:`flowtime_sim.upstream.placeholders`).
"""

from __future__ import annotations

from typing import Any

import yaml

from flowtime_sim.yamlsafe import read_exponent_floats, yaml_problem

_Base: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

#: Every sentinel starts with this text (see placeholders.py), so the loader can tell cheaply.
SENTINEL_MARK = "ftsimPLH"


class QuotedText(str):
    """A quoted YAML scalar containing a placeholder sentinel."""

    __slots__ = ()


class _TemplateLoader(_Base):  # type: ignore[misc]
    pass


def _construct_text(loader: Any, node: Any) -> str:
    value: str = loader.construct_scalar(node)
    if node.style in ("'", '"') and SENTINEL_MARK in value:
        return QuotedText(value)
    return value


_TemplateLoader.add_constructor("tag:yaml.org,2002:str", _construct_text)
read_exponent_floats(_TemplateLoader)
_RESOLVER = _TemplateLoader("")


def load_template_text(text: str) -> Any:
    """Parse template text; raises :class:`ValueError` with a one-line reason."""
    try:
        return yaml.load(text, Loader=_TemplateLoader)
    except yaml.YAMLError as exc:
        raise ValueError(yaml_problem(exc)) from None


def plain_scalar(text: str) -> Any:
    """The value YAML gives ``text`` written as a plain scalar: a number, boolean or null when
    it reads as one, else the text itself. Never a collection."""
    tag = _RESOLVER.resolve(yaml.ScalarNode, text, (True, False))
    if tag == "tag:yaml.org,2002:str":
        return text
    try:
        return _RESOLVER.construct_object(yaml.ScalarNode(tag, text), deep=True)
    except (yaml.YAMLError, ValueError):
        return text


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


_ModelDumper.add_representer(list, _represent_list)


def dump_model(document: Any) -> str:
    """The model document as YAML text, keys in the document's order."""
    return yaml.dump(document, Dumper=_ModelDumper, sort_keys=False, allow_unicode=True, width=100)
