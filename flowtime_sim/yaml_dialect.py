"""The one YAML dialect flowtime-sim reads, for every file: template manifests, parameters files
and ``--set`` values, models, FlowTime-Sim templates and the service's tokens file.

The rules (docs/decisions.md, "YAML"):

- Scalars resolve as in YAML 1.2's core schema, the way FlowTime's engine reads them: ``1e3`` is
  a number, only ``true``/``false`` are booleans (``yes``, ``on`` stay text), dates and
  timestamps stay the text that was written, ``<<`` is an ordinary key. Numbers may hold ``_``
  separators and ``0x``/``0o``/``0b`` prefixes.
- A key given twice in one mapping is refused, naming the key and its line.
- Explicit tags other than the core ones (``!!str``, ``!!int``, ``!!float``, ``!!bool``,
  ``!!null``, ``!!seq``, ``!!map``) are refused; one document per file.
- Bounded against hostile input (:class:`YamlLimits`): document size, nesting depth, what
  aliases may add (no "billion laughs") and the digits of an integer — whatever Python's own
  int/str digit limit happens to be set to.
- Every error is one line and, where the parser knows it, ends with ``at line L, column C``.

:func:`load_yaml` parses with libyaml (through PyYAML) and this module's resolver and
constructor: the *strict path*, which defines the dialect. Large models may take a *fast path*
(``fast=True``) through the Rust parser ``yaml_rs`` when it is installed: it is used only for a
document it reads exactly as the strict path would (:func:`_fast_path_can_read` lists what it
leaves alone: anchors, aliases, tags, document markers, tabs, block scalars, deep nesting,
characters libyaml refuses...) and whose result keeps the limits; anything else, including
every error, is parsed again by the strict path, so messages and values never depend on which
parser ran.
"""

from __future__ import annotations

import functools
import json
import re
import sys
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any, ClassVar, Final

import yaml

from flowtime_sim.errors import UserError

__all__ = [
    "MODEL_LIMITS",
    "SMALL_FILE_LIMITS",
    "DuplicateKeyError",
    "YamlError",
    "YamlLimitError",
    "YamlLimits",
    "check_limits",
    "load_json",
    "load_yaml",
]


@dataclass(frozen=True, slots=True)
class YamlLimits:
    """What one document may cost to read.

    ``max_chars`` bounds the text; ``max_depth`` the nesting of collections; ``max_alias_nodes``
    the nodes that aliases may add to the document by repeating what an anchor names;
    ``max_int_digits`` the digits of an integer (Python refuses to convert more than 4300 by
    default, and a 5000-digit ``bins`` only ever means a mistake or an attack).
    """

    max_chars: int
    max_depth: int = 64
    max_alias_nodes: int = 1_000_000
    max_int_digits: int = 100


#: Manifests, parameters files, ``--set`` values, the tokens file.
SMALL_FILE_LIMITS: Final = YamlLimits(max_chars=1_000_000)
#: Models and FlowTime-Sim templates: a year of hourly bins for thousands of nodes fits.
MODEL_LIMITS: Final = YamlLimits(max_chars=256 * 1024 * 1024)


class YamlError(UserError):
    """A document that is not valid YAML of this dialect.

    ``problem`` is the one-line description without the position; ``line`` and ``column``
    (1-based) say where, when known. ``str()`` is ``problem at line L, column C``.
    """

    def __init__(self, problem: str, *, line: int | None = None, column: int | None = None) -> None:
        where = f" at line {line}, column {column}" if line is not None else ""
        super().__init__(problem + where)
        self.problem = problem
        self.line = line
        self.column = column

    @property
    def where(self) -> str:
        """``line L, column C``, or empty when the position is unknown."""
        return f"line {self.line}, column {self.column}" if self.line is not None else ""


class DuplicateKeyError(YamlError):
    """A key given twice in one mapping; ``key`` is the key as written."""

    def __init__(self, key: str, *, line: int | None = None, column: int | None = None) -> None:
        super().__init__(f"duplicate key {key!r}", line=line, column=column)
        self.key = key


class YamlLimitError(YamlError):
    """A document beyond one of the :class:`YamlLimits`: refused before it costs more."""


# ---------------------------------------------------------------------------------------------
# Public entry points


def load_yaml(
    source: str | bytes, *, limits: YamlLimits = SMALL_FILE_LIMITS, fast: bool = False
) -> Any:
    """The single YAML document in ``source`` (``None`` when it is empty).

    Raises :class:`YamlError` (or its :class:`DuplicateKeyError` / :class:`YamlLimitError`
    branches). ``fast=True`` lets a large document take the fast path (see the module's
    docstring); the result is the same either way.
    """
    if len(source) > limits.max_chars:
        raise YamlLimitError(
            f"the document is {len(source):,} characters long; at most "
            f"{limits.max_chars:,} are read"
        )
    if fast and len(source) >= FAST_PATH_FROM and _fast_parser() is not None:
        found, data = _load_fast(source, limits)
        if found:
            return data
    return _load_strict(source, limits)


def load_json(text: str, *, limits: YamlLimits = SMALL_FILE_LIMITS) -> Any:
    """A JSON document read with the same rules: duplicate keys refused, integers of at most
    ``limits.max_int_digits`` digits, nesting at most ``limits.max_depth`` deep. Syntax errors
    are :class:`json.JSONDecodeError`, as callers word them as JSON's."""
    if len(text) > limits.max_chars:
        raise YamlLimitError(
            f"the document is {len(text):,} characters long; at most {limits.max_chars:,} are read"
        )

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in items:
            if key in out:
                raise DuplicateKeyError(key)
            out[key] = value
        return out

    def integer(digits: str) -> int:
        _check_digits(digits.lstrip("-"), limits, None)
        return int(digits)

    try:
        data = json.loads(text, object_pairs_hook=pairs, parse_int=integer)
    except RecursionError:
        raise _too_deep(limits, None) from None
    check_limits(data, limits)
    return data


def check_limits(value: Any, limits: YamlLimits = SMALL_FILE_LIMITS) -> None:
    """Refuse already-parsed data (a JSON request body, say) nested more than
    ``limits.max_depth`` deep or holding an integer of more than ``limits.max_int_digits``
    digits, with the messages :func:`load_yaml` gives."""
    biggest = 10**limits.max_int_digits
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            if depth > limits.max_depth:
                raise _too_deep(limits, None)
            stack.extend(
                (v, depth + 1) for v in (item.values() if isinstance(item, dict) else item)
            )
        elif isinstance(item, int) and not -biggest < item < biggest:
            raise YamlLimitError(
                f"an integer has more than {limits.max_int_digits} digits; "
                f"write numbers of at most {limits.max_int_digits} digits"
            )


# ---------------------------------------------------------------------------------------------
# The strict path: libyaml's parser, this dialect's resolver and constructor

_Base: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_STR: Final = "tag:yaml.org,2002:str"
_INT: Final = "tag:yaml.org,2002:int"
_FLOAT: Final = "tag:yaml.org,2002:float"
_BOOL: Final = "tag:yaml.org,2002:bool"
_NULL: Final = "tag:yaml.org,2002:null"
_SEQ: Final = "tag:yaml.org,2002:seq"
_MAP: Final = "tag:yaml.org,2002:map"
_NULLS: Final = frozenset({"", "~", "null", "Null", "NULL"})
_BOOLS: Final = {
    "true": True,
    "True": True,
    "TRUE": True,
    "false": False,
    "False": False,
    "FALSE": False,
}
_INF_NAN: Final = re.compile(r"[-+]?\.[iI][nN][fF]|\.[nN][aA][nN]")
_FLOAT_TEXT: Final = re.compile(r"[-+]?([0-9_]*)(\.[0-9_]*)?(?:[eE][-+]?([0-9_]*))?")
_INT_TEXT: Final = re.compile(
    r"[-+]?(?:0[xX][0-9a-fA-F_]*[0-9a-fA-F][0-9a-fA-F_]*|0[oO][0-7_]*[0-7][0-7_]*"
    r"|0[bB][01_]*[01][01_]*|[0-9_]*[0-9][0-9_]*)"
)
_RADIX: Final = {"x": 16, "o": 8, "b": 2}


def _is_float_text(text: str) -> bool:
    m = _FLOAT_TEXT.fullmatch(text)
    if m is None:
        return False
    whole, fraction, exponent = m.groups()
    mantissa_digits = any(c.isdigit() for c in whole + (fraction or ""))
    has_exponent = exponent is not None
    if not mantissa_digits or not (fraction is not None or has_exponent):
        return False
    return not has_exponent or any(c.isdigit() for c in exponent or "")


def _plain_tag(text: str) -> str:
    """The tag of a plain (unquoted) scalar: YAML 1.2's core schema, as FlowTime reads it."""
    if text in _NULLS:
        return _NULL
    if text in _BOOLS:
        return _BOOL
    if _INF_NAN.fullmatch(text) or (_is_float_text(text) and _float_or_none(text) is not None):
        return _FLOAT
    if _INT_TEXT.fullmatch(text):
        return _INT
    return _STR


def _float_or_none(text: str) -> float | None:
    try:
        return float(text.replace("_", ""))
    except ValueError:
        return None


def _check_digits(digits: str, limits: YamlLimits, mark: Any) -> None:
    if len(digits) > limits.max_int_digits:
        shown = digits[:12] + "..."
        raise YamlLimitError(
            f"integer {shown} has {len(digits):,} digits; at most {limits.max_int_digits} are read",
            **_position(mark),
        )


def _position(mark: Any) -> dict[str, int]:
    return {"line": mark.line + 1, "column": mark.column + 1} if mark is not None else {}


class _StrictLoader(_Base):  # type: ignore[misc]
    """libyaml's parser with this dialect's resolver and constructors.

    Models repeat the same few words and numbers, so it remembers how each plain scalar
    resolves and what it builds (every scalar type is immutable).
    """

    yaml_constructors: ClassVar[dict[Any, Callable[..., Any]]] = {}

    def __init__(self, stream: str | bytes, limits: YamlLimits) -> None:
        super().__init__(stream)
        self.limits = limits
        # No "&", no anchor, so no alias: only the depth needs checking then.
        self.may_alias = b"&" in stream if isinstance(stream, bytes) else "&" in stream
        self._tags: dict[str, str] = {}
        self._scalars: dict[tuple[str, str], Any] = {}

    def resolve(self, kind: type[yaml.Node], value: Any, implicit: Any) -> Any:
        if kind is yaml.ScalarNode:
            if not implicit[0]:
                return _STR
            tag = self._tags.get(value)
            if tag is None:
                tag = self._tags[value] = _plain_tag(value)
            return tag
        return _SEQ if kind is yaml.SequenceNode else _MAP

    def get_single_data(self) -> Any:
        node = self.get_single_node()
        if node is None:
            return None
        if self.may_alias:
            _check_graph(node, self.limits)
        else:
            _check_depth(node, self.limits)
        return self.construct_document(node)

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        if node.__class__ is not yaml.ScalarNode:
            return super().construct_object(node, deep)
        key = (node.tag, node.value)
        if key not in self._scalars:
            self._scalars[key] = super().construct_object(node, deep)
        return self._scalars[key]

    def construct_mapping(self, node: yaml.Node, deep: bool = False) -> dict[Any, Any]:
        if not isinstance(node, yaml.MappingNode):
            raise yaml.constructor.ConstructorError(
                None,
                None,
                f"expected a mapping node, but found {getattr(node, 'id', 'a node')}",
                node.start_mark,
            )
        mapping: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = self.construct_object(key_node, deep=deep)
            if not isinstance(key, Hashable):
                raise yaml.constructor.ConstructorError(
                    "while constructing a mapping",
                    node.start_mark,
                    "found unhashable key",
                    key_node.start_mark,
                )
            if key in mapping:  # also 1 and 1.0, or 1 and true: one Python key
                raise DuplicateKeyError(str(key_node.value), **_position(key_node.start_mark))
            mapping[key] = self.construct_object(value_node, deep=deep)
        return mapping

    def construct_int(self, node: yaml.ScalarNode) -> int:
        text = str(node.value).replace("_", "")
        if not _INT_TEXT.fullmatch(node.value):
            raise yaml.constructor.ConstructorError(
                None, None, f"{node.value!r} is not an integer", node.start_mark
            )
        sign = -1 if text.startswith("-") else 1
        digits = text.lstrip("+-")
        radix = _RADIX.get(digits[1:2].lower(), 10) if digits.startswith("0") else 10
        if radix != 10:
            digits = digits[2:]
        _check_digits(digits, self.limits, node.start_mark)
        return sign * int(digits, radix)

    def construct_float(self, node: yaml.ScalarNode) -> float:
        text = str(node.value)
        if _INF_NAN.fullmatch(text):
            return float(text.replace(".", "").lower())
        numeric = _is_float_text(text) or _INT_TEXT.fullmatch(text)
        value = _float_or_none(text) if numeric else None
        if value is None:
            raise yaml.constructor.ConstructorError(
                None, None, f"{text!r} is not a number", node.start_mark
            )
        return value

    def construct_bool(self, node: yaml.ScalarNode) -> bool:
        if node.value not in _BOOLS:
            raise yaml.constructor.ConstructorError(
                None, None, f"{node.value!r} is not true or false", node.start_mark
            )
        return _BOOLS[node.value]

    def construct_null(self, node: yaml.ScalarNode) -> None:
        if node.value not in _NULLS:
            raise yaml.constructor.ConstructorError(
                None, None, f"{node.value!r} is not null", node.start_mark
            )


_StrictLoader.yaml_constructors = {
    _STR: yaml.SafeLoader.construct_yaml_str,
    _SEQ: yaml.SafeLoader.construct_yaml_seq,
    _MAP: yaml.SafeLoader.construct_yaml_map,
    _INT: _StrictLoader.construct_int,
    _FLOAT: _StrictLoader.construct_float,
    _BOOL: _StrictLoader.construct_bool,
    _NULL: _StrictLoader.construct_null,
    None: yaml.SafeLoader.construct_undefined,
}


def _load_strict(source: str | bytes, limits: YamlLimits) -> Any:
    loader = _StrictLoader(source, limits)
    try:
        return loader.get_single_data()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = ", ".join(p for p in (exc.context, exc.problem) if p) or "unreadable YAML"
        raise YamlError(problem, **_position(mark)) from None
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise YamlError(" ".join(str(exc).split())) from None
    finally:
        loader.dispose()


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    return []


def _check_graph(root: yaml.Node, limits: YamlLimits) -> None:
    """Refuse a composed document nested too deeply, whose aliases would add too many nodes,
    or with an alias inside the node it names — before anything walks it."""
    height: dict[int, int] = {}  # finished nodes: levels of collections from here down
    size: dict[int, int] = {}  # finished nodes: nodes from here down, aliases expanded
    on_path: set[int] = set()
    distinct = 0
    stack: list[tuple[yaml.Node, int, bool]] = [(root, 1, False)]
    while stack:
        node, depth, finished = stack.pop()
        key = id(node)
        if finished:
            kids = _children(node)
            own = 0 if isinstance(node, yaml.ScalarNode) else 1
            height[key] = own + max((height[id(k)] for k in kids), default=0)
            size[key] = 1 + sum(size[id(k)] for k in kids)
            on_path.discard(key)
            continue
        if key in on_path:
            raise YamlError(
                "an alias refers to a node that contains it", **_position(node.start_mark)
            )
        if key in height:  # an alias of a node seen before
            if height[key] and depth + height[key] - 1 > limits.max_depth:
                raise _too_deep(limits, node.start_mark)
            continue
        if not isinstance(node, yaml.ScalarNode) and depth > limits.max_depth:
            raise _too_deep(limits, node.start_mark)
        distinct += 1
        on_path.add(key)
        stack.append((node, depth, True))
        stack.extend((k, depth + 1, False) for k in reversed(_children(node)))
    added = size[id(root)] - distinct
    if added > limits.max_alias_nodes:
        raise YamlLimitError(
            f"aliases would add {added:,} nodes to the document; at most "
            f"{limits.max_alias_nodes:,} are allowed"
        )


def _check_depth(root: yaml.Node, limits: YamlLimits) -> None:
    """Refuse a composed document (without aliases) nested too deeply."""
    stack = [(root, 1)]
    scalar = yaml.ScalarNode
    while stack:
        node, depth = stack.pop()
        if depth > limits.max_depth:
            raise _too_deep(limits, node.start_mark)
        if node.__class__ is yaml.MappingNode:
            kids: Any = (n for pair in node.value for n in pair)
        elif node.__class__ is yaml.SequenceNode:
            kids = node.value
        else:
            continue
        stack.extend((k, depth + 1) for k in kids if k.__class__ is not scalar)


def _too_deep(limits: YamlLimits, mark: Any) -> YamlLimitError:
    return YamlLimitError(
        f"collections are nested more than {limits.max_depth} levels deep", **_position(mark)
    )


# ---------------------------------------------------------------------------------------------
# The fast path

#: Below this size the strict path is fast enough, and a native parser gains nothing.
FAST_PATH_FROM: Final = 64 * 1024
# What the fast path leaves to the strict one, each found by a search that skips ahead to one
# character or a line break: anchors, aliases and tags; document markers and directives (a
# single leading "---" aside); indentation or compact "- - -" runs deep enough to nest past the
# limits (the Rust parser recurses once per level); characters libyaml refuses, and the line
# breaks of YAML 1.1 that YAML 1.2 reads as text (U+0085, U+2028, U+2029).
_ANCHOR_ALIAS_TAG: Final = re.compile(r"[&*!][^\s\[\]{},]")
_AT_LINE_START: Final = re.compile(r"\n(?:(---)|\.\.\.|%| {128}| *(?:[-:] +){32})")
_REFUSED_CHARACTER: Final = re.compile(
    "[^\t\n\r\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff]"
)
_LONG_DIGITS: Final = re.compile(r"[0-9]{100}")
_BEFORE_CONTENT: Final = re.compile(r"(?:[ ]*(?:#[^\n]*)?\n)*")


def _fast_path_can_read(text: str) -> bool:
    # Tabs, block scalars and "?" are where YAML 1.2 and libyaml part ways most; models
    # written by tools have none of them.
    if "\t" in text or "|" in text or ">" in text or "?" in text:
        return False
    if _ANCHOR_ALIAS_TAG.search(text) or _REFUSED_CHARACTER.search(text):
        return False
    scan = "\n" + text
    first = _AT_LINE_START.search(scan)
    if first is not None and not (
        first.group(1)  # a "---" with only comments before it, and no second marker
        and _BEFORE_CONTENT.fullmatch(scan, 1, first.start() + 1)
        and _AT_LINE_START.search(scan, first.end()) is None
    ):
        return False
    if not _colons_alike(text):
        return False
    # Python refuses to convert integers of more than 4300 digits, which bounds what the Rust
    # parser can be made to build; where that limit was lifted, long digit runs go the strict
    # way, which counts digits before converting anything.
    limit = sys.get_int_max_str_digits()
    return 0 < limit <= 4300 or not _LONG_DIGITS.search(text)


def _colons_alike(text: str) -> bool:
    """No ":" opens the text, a line or a flow entry, or closes a flow entry: there YAML 1.2
    reads text or an empty key or value that libyaml refuses."""
    at = text.find(":")
    while at != -1:
        window = text[max(0, at - 64) : at]
        kept = window.rstrip(" \n")
        if not kept or kept[-1] in "[{," or "\n" in window[len(kept) :]:
            return False
        if text[at + 1 : at + 2] in (",", "]", "}"):
            return False
        at = text.find(":", at + 1)
    return True


@functools.cache
def _fast_parser() -> Any:
    """The ``yaml_rs`` module, imported on first use (it weighs tens of milliseconds, which
    commands that read only small files should not pay); None where it is not installed."""
    try:
        import yaml_rs
    except ImportError:  # pragma: no cover - a dependency, but a platform may lack a wheel
        return None
    return yaml_rs


def _load_fast(source: str | bytes, limits: YamlLimits) -> tuple[bool, Any]:
    """``(True, data)`` when the fast path read the document as the strict path would."""
    parser = _fast_parser()
    try:
        text = source.decode("utf-8") if isinstance(source, bytes) else source
    except UnicodeDecodeError:
        return False, None
    text = text.removeprefix("\ufeff")
    if not _fast_path_can_read(text):
        return False, None
    try:
        data = parser.loads(
            text, parse_datetime=False, duplicate_key_policy=parser.DuplicateKeyPolicy.Error
        )
    except Exception:  # the strict path words every error
        return False, None
    return (True, data) if _within(data, limits) else (False, None)


_KEY_TYPES: Final = (str, int, float)  # a None key may be an empty one, which libyaml refuses


def _within(data: Any, limits: YamlLimits) -> bool:
    """Whether a fast-path result keeps the limits and holds only what the strict path
    builds (no tuple keys from complex keys, no empty keys, no integers past the digit limit)."""
    biggest = 10**limits.max_int_digits
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict):
            if depth > limits.max_depth:
                return False
            if not all(isinstance(k, _KEY_TYPES) for k in value):
                return False
            items: Any = value.values()
        elif isinstance(value, list):
            if depth > limits.max_depth:
                return False
            items = value
        else:
            if value.__class__ is int and not -biggest < value < biggest:
                return False
            continue
        for item in items:
            cls = item.__class__
            if cls is float or cls is str:
                continue
            if cls is int:
                if not -biggest < item < biggest:
                    return False
            elif cls is dict or cls is list:
                stack.append((item, depth + 1))
            elif item is not None and cls is not bool:
                return False
    return True
