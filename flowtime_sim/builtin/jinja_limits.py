"""Bounds on what rendering one template may cost: wall time and the size of what it builds.

Jinja2's sandbox stops a template from reaching Python, not from looping for hours or from
asking for ``'x' * 10**10``. Here the sandbox is extended so that, while a :class:`Budget`
is active (:func:`budget`):

* every loop step, call, intercepted operator and output chunk checks the deadline
  (``FLOWTIME_SIM_RENDER_TIMEOUT``), so nested loops end with an error instead of a hang;
* operators and filters that can build a large value from a small one — ``*``, ``+``,
  ``**``, ``%``, ``~``, ``center``, ``indent``, ``join``, ``replace``, ``format``, ``batch``,
  ``slice``, ``tojson``, ``repeat_to`` and the string methods that pad — refuse, before
  allocating, a result longer than ``FLOWTIME_SIM_RENDER_MAX_BYTES``;
* the rendered text itself may not pass that size either (:func:`collect`).

Values a template can build stay within the limit one by one; loops are what could pile
them up, and loops are bounded by the deadline.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from functools import wraps
from typing import Any

from flowtime_sim.limits import RENDER_MAX_BYTES, RENDER_TIMEOUT

#: Digits of a field width or precision in a ``%`` or ``str.format`` specification.
_PERCENT_SPEC = re.compile(r"%(?:\([^)]*\))?[#0\- +]*(\d*)(?:\.(\d*))?")
_BRACE_SPEC = re.compile(r"\{[^{}]*:([^{}]*)\}")
_DIGITS = re.compile(r"\d+")
_WIDTH_FROM_VALUES = re.compile(r"\{[^{}]*:[^{}]*\{")


class RenderLimitError(Exception):
    """A render went past one of its limits (the caller adds the template and line)."""


@dataclass(slots=True)
class Budget:
    timeout: float
    max_bytes: int
    deadline: float

    def tick(self) -> None:
        if time.monotonic() > self.deadline:
            raise RenderLimitError(
                f"rendering took longer than the limit of {RENDER_TIMEOUT.describe(self.timeout)}"
                "; the template loops too much (raise the limit if the work is meant)"
            )

    def check_size(self, size: int, what: str, unit: str = "characters") -> None:
        if size > self.max_bytes:
            raise RenderLimitError(
                f"{what} would be {size:,} {unit} long, more than the limit of "
                f"{RENDER_MAX_BYTES.describe(self.max_bytes)}"
            )


_active: ContextVar[Budget | None] = ContextVar("flowtime_sim_render_budget", default=None)


@contextmanager
def budget() -> Iterator[Budget]:
    """Bound the renders in this context by the limits in force now."""
    timeout = RENDER_TIMEOUT.get()
    current = Budget(timeout, int(RENDER_MAX_BYTES.get()), time.monotonic() + timeout)
    token = _active.set(current)
    try:
        yield current
    finally:
        _active.reset(token)


def tick() -> None:
    if (b := _active.get()) is not None:
        b.tick()


def check_size(size: int, what: str, unit: str = "characters") -> None:
    if (b := _active.get()) is not None:
        b.check_size(size, what, unit)


def collect(chunks: Iterable[str]) -> str:
    """Join a render's output, checking the deadline and the size at every chunk."""
    out: list[str] = []
    total = 0
    for chunk in chunks:
        total += len(chunk)
        check_size(total, "the rendered model")
        tick()
        out.append(chunk)
    return "".join(out)


def bounded_iter(iterable: Any) -> Iterator[Any]:
    """What every ``{% for %}`` loop iterates: the same items, with the deadline checked."""
    b = _active.get()
    if b is None:
        yield from iterable
        return
    for item in iterable:
        b.tick()
        yield item


def bounded_concat(parts: Iterable[Any]) -> str:
    """The ``~`` operator, refusing a result over the size limit before building it."""
    texts = [str(p) for p in parts]
    check_size(sum(map(len, texts)), "a string joined with ~")
    return "".join(texts)


def check_format_widths(fmt: str, *, braces: bool, values: Iterable[Any] = ()) -> None:
    """Refuse a format whose field widths or precisions pass the size limit, written in it or,
    for ``%*d`` and ``{:{w}}``, taken from ``values``."""
    if (b := _active.get()) is None:
        return
    if _WIDTH_FROM_VALUES.search(fmt) if braces else "*" in fmt:
        for value in values:
            if isinstance(value, dict):  # '%(w)*d' % {...}, format_map({...})
                check_format_widths(fmt, braces=braces, values=value.values())
            elif _is_int(value) and value > b.max_bytes:
                b.check_size(value, "a formatted field")
    widths: list[str] = []
    for m in _PERCENT_SPEC.finditer(fmt):
        widths.extend(g for g in m.groups() if g)
    if braces:
        for m in _BRACE_SPEC.finditer(fmt):
            widths.extend(_DIGITS.findall(m.group(1)))
    for digits in widths:
        if len(digits) > 18 or int(digits) > b.max_bytes:
            b.check_size(int(digits), "a formatted field")


def check_binop(operator: str, left: Any, right: Any) -> None:
    """Refuse ``*``, ``+``, ``**`` and ``%`` whose result would pass the size limit."""
    b = _active.get()
    if b is None:
        return
    b.tick()
    sized = (str, list, tuple)
    if operator == "*":
        for seq, n in ((left, right), (right, left)):
            if isinstance(seq, sized) and isinstance(n, int):
                b.check_size(len(seq) * max(n, 0), f"{_kind(seq)} * {n}", _unit(seq))
        if _is_int(left) and _is_int(right):
            b.check_size(
                (left.bit_length() + right.bit_length()) // 8, "an integer product", "bytes"
            )
    elif operator == "+":
        if isinstance(left, sized) and isinstance(right, sized):
            b.check_size(len(left) + len(right), f"{_kind(left)} + {_kind(right)}", _unit(left))
    elif operator == "**":
        if _is_int(left) and _is_int(right) and right > 0 and abs(left) > 1:
            size = math.ceil(right * math.log2(abs(left)) / 8)
            b.check_size(size, f"{left} ** {right}", "bytes")
    elif operator == "%" and isinstance(left, str):
        values = right if isinstance(right, tuple) else (right,)
        check_format_widths(left, braces=False, values=values)


def _kind(value: Any) -> str:
    return "a string" if isinstance(value, str) else f"a {type(value).__name__}"


def _unit(value: Any) -> str:
    return "characters" if isinstance(value, str) else "items"


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def check_call_args(name: str, args: Iterable[Any], kwargs: dict[str, Any]) -> None:
    """Refuse a padding width or count over the size limit (``center(10**10)``)."""
    b = _active.get()
    if b is None:
        return
    for value in (*args, *kwargs.values()):
        if _is_int(value) and value > b.max_bytes:
            b.check_size(value, f"{name}({value})", "characters or items")


def check_join(items: list[Any], separator: str, what: str) -> None:
    if (b := _active.get()) is None:
        return
    total = max(len(items) - 1, 0) * len(separator)
    for item in items:
        total += len(item) if isinstance(item, str) else len(str(item))
        if total > b.max_bytes:
            break
    b.check_size(total, what)


def check_replace(text: str, old: str, new: str, count: int = -1) -> None:
    if (b := _active.get()) is None or len(new) <= len(old):
        return
    hits = text.count(old) if old else len(text) + 1
    if count >= 0:
        hits = min(hits, count)
    b.check_size(len(text) + hits * (len(new) - len(old)), "the result of replace")


#: String methods that pad to a width given as an argument.
PADDING_METHODS = frozenset({"center", "ljust", "rjust", "zfill", "expandtabs"})


def checked_method_args(obj: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[Any, ...]:
    """``args`` for calling ``obj``, after refusing a string method call whose result would
    pass the size limit (a ``join`` argument is read once here, so it is passed on as a list)."""
    owner = getattr(obj, "__self__", None)
    if not isinstance(owner, str) or _active.get() is None:
        return args
    name = getattr(obj, "__name__", "")
    if name in PADDING_METHODS:
        check_call_args(name, args, kwargs)
    elif name == "join" and len(args) == 1:
        items = list(args[0])
        check_join(items, owner, "a joined string")
        return (items,)
    elif name == "replace" and len(args) >= 2 and all(isinstance(a, str) for a in args[:2]):
        count = args[2] if len(args) > 2 and _is_int(args[2]) else -1
        check_replace(owner, args[0], args[1], count)
    return args


def bounded_filters(filters: dict[str, Any]) -> dict[str, Any]:
    """Jinja's filters, those that can build large values from small ones checked first."""
    out = dict(filters)
    for name in ("center", "indent", "batch", "slice", "tojson"):
        out[name] = _checking_args(name, filters[name])
    out["format"] = _checking_format(filters["format"])
    out["join"] = _checking_join(filters["join"])
    out["replace"] = _checking_replace(filters["replace"])
    return out


def _checking_args(name: str, f: Callable[..., Any]) -> Callable[..., Any]:
    skip = 2 if hasattr(f, "jinja_pass_arg") else 1  # the context, if passed, and the value

    @wraps(f)  # keeps Jinja's pass_environment / pass_eval_ctx marks
    def checked(*args: Any, **kwargs: Any) -> Any:
        check_call_args(name, args[skip:], kwargs)
        return f(*args, **kwargs)

    return checked


def _checking_format(f: Callable[..., Any]) -> Callable[..., Any]:
    @wraps(f)
    def checked(value: Any, *args: Any, **kwargs: Any) -> Any:
        check_format_widths(str(value), braces=False, values=(*args, *kwargs.values()))
        return f(value, *args, **kwargs)

    return checked


def _checking_join(f: Callable[..., Any]) -> Callable[..., Any]:
    @wraps(f)
    def checked(eval_ctx: Any, value: Any, d: str = "", attribute: Any = None) -> Any:
        items = list(value)
        if attribute is None:
            check_join(items, str(d), "the result of join")
        return f(eval_ctx, items, d, attribute)

    return checked


def _checking_replace(f: Callable[..., Any]) -> Callable[..., Any]:
    @wraps(f)
    def checked(eval_ctx: Any, s: Any, old: Any, new: Any, count: Any = None) -> Any:
        check_replace(str(s), str(old), str(new), -1 if count is None else int(count))
        return f(eval_ctx, s, old, new, count)

    return checked
