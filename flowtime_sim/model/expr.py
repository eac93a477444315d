"""The ``expr`` language of SPEC §5: parsing, checking, printing.

Grammar (whitespace is free between tokens)::

    sum      := product (("+" | "-") product)*          left-associative
    product  := operand (("*" | "/") operand)*          left-associative, binds tighter
    operand  := "-"* primary                            unary minus
    primary  := NUMBER | NAME | NAME "(" [sum ("," sum)*] ")" | "(" sum ")" | list
    list     := "[" ["-"? NUMBER ("," "-"? NUMBER)*] "]"
    NUMBER   := 12 | 0.5 | .5 | 1. | 1e3 | 1.5e-3 | 1.0e+20      (ASCII digits, finite)
    NAME     := [A-Za-z_][A-Za-z0-9_]*

Function names are case-insensitive and stored upper-cased. A list is syntactically a primary
anywhere, so that misplacing one earns a precise message from :func:`check_expr`; it is only
valid as CONV's second argument.

Literal-only arguments (decided here, documented for model authors):

- ``SHIFT(x, k)``: ``k`` is a whole, non-negative number literal (``2`` or ``2.0``).
- ``CONV(x, [w0, ..., wn])``: a non-empty list of number literals, each optionally negative.
- ``PULSE(period[, phase[, amp]])``: ``period`` a whole literal >= 1, ``phase`` a whole
  literal >= 0, ``amp`` a number literal, optionally negative. No expressions: a pulse is a
  fixed shape; scale it with ``*`` when it must follow another series.

An expression's tree is at most :data:`MAX_DEPTH` levels deep (each operator, call and minus
sign is a level, so a sum of up to 200 terms fits) and parentheses and calls nest at most
:data:`MAX_NESTING` levels, so every walk over an AST, here and in the engine, may recurse.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from typing import Final, Literal, NoReturn

from flowtime_sim.errors import ModelError
from flowtime_sim.model.types import BinOp, Call, Expr, ListLit, Neg, Num, Ref

#: Known functions and how many arguments each takes (inclusive range).
FUNCTIONS: Final[dict[str, tuple[int, int]]] = {
    "CEIL": (1, 1),
    "CLAMP": (3, 3),
    "CONV": (2, 2),
    "FLOOR": (1, 1),
    "MAX": (2, 2),
    "MIN": (2, 2),
    "MOD": (2, 2),
    "PULSE": (1, 3),
    "ROUND": (1, 1),
    "SHIFT": (2, 2),
    "STEP": (2, 2),
}

#: The deepest an expression's tree may be (every operator, call and minus sign is a level).
MAX_DEPTH: Final = 200
#: How deep parentheses and calls may nest inside each other.
MAX_NESTING: Final = 100

# Every character lands in exactly one group. A number running straight into letters, digits
# or dots ("1e", "2x", "1.2.3") is one malformed number, not two tokens: hence ``tail``.
_TOKEN = re.compile(
    r"(?s)(?P<ws>\s+)"
    r"|(?P<num>(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)(?P<tail>[A-Za-z0-9_.]*)"
    r"|(?P<name>[A-Za-z_][A-Za-z0-9_]*)"
    r"|(?P<punct>[-+*/(),\[\]])"
    r"|(?P<other>.)"
)

_OPERATORS: Final[dict[str, Literal["+", "-", "*", "/"]]] = {"+": "+", "-": "-", "*": "*", "/": "/"}

# A token is (kind, text, pos); kind is "num", "name", "end" or the punctuation character.
_Token = tuple[str, str, int]


@dataclass(frozen=True, slots=True)
class _Source:
    """An expression's text and where it sits in the model, for error messages."""

    text: str
    node: str | None
    field: str | None

    def error(self, problem: str, pos: int | None = None, hint: str = "") -> ModelError:
        where = f"node '{self.node}': " if self.node is not None else ""
        quoted = json.dumps(self.text, ensure_ascii=False)  # one line, even for block scalars
        at = "" if pos is None else f" at column {pos + 1}"
        return ModelError(
            f"{where}{problem}{at} in expression {quoted}{hint}", node=self.node, field=self.field
        )


def _tokenize(source: _Source) -> list[_Token]:
    tokens: list[_Token] = []
    for match in _TOKEN.finditer(source.text):
        kind, pos = match.lastgroup, match.start()
        if kind == "tail":  # a number: ``tail`` is the last group in it, even when empty
            if match.group("tail"):
                raise source.error(f"malformed number {match.group()!r}", pos)
            tokens.append(("num", match.group("num"), pos))
        elif kind == "name":
            tokens.append(("name", match.group(), pos))
        elif kind == "punct":
            tokens.append((match.group(), match.group(), pos))
        elif kind == "other":
            raise source.error(f"unexpected character {match.group()!r}", pos)
    tokens.append(("end", "", len(source.text)))
    return tokens


class _Parser:
    """Recursive descent over a token list; nesting is bounded so recursion stays shallow."""

    def __init__(self, source: _Source) -> None:
        self.source = source
        self.tokens = _tokenize(source)
        self.index = 0
        self.nesting = 0

    def fail(self, token: _Token) -> NoReturn:
        kind, value, pos = token
        what = "end of expression" if kind == "end" else repr(value)
        raise self.source.error(f"unexpected {what}", pos)

    def peek(self) -> _Token:
        return self.tokens[self.index]

    def take(self, kind: str) -> _Token:
        token = self.tokens[self.index]
        if token[0] != kind:
            self.fail(token)
        self.index += 1
        return token

    def enter(self, pos: int) -> None:
        self.nesting += 1
        if self.nesting > MAX_NESTING:
            raise self.source.error(
                f"parentheses and calls nest more than {MAX_NESTING} levels deep",
                pos,
                "; split the expression into several expr nodes",
            )

    def number(self, token: _Token) -> float:
        value = float(token[1])
        if value in (float("inf"), float("-inf")):
            raise self.source.error(f"number {token[1]!r} is out of range", token[2])
        return value

    def parse(self) -> Expr:
        expr = self.sum()
        if self.peek()[0] != "end":
            self.fail(self.peek())
        if len(self.tokens) > MAX_DEPTH:  # fewer tokens cannot make a tree that deep
            for item, depth in _walk(expr):
                if depth > MAX_DEPTH:
                    raise self.source.error(
                        f"expression is more than {MAX_DEPTH} levels deep",
                        _start(item),
                        "; split it into several expr nodes",
                    )
        return expr

    def sum(self) -> Expr:
        left = self.product()
        while self.peek()[0] in ("+", "-"):
            op, _, pos = self.tokens[self.index]
            self.index += 1
            left = BinOp(_OPERATORS[op], left, self.product(), pos)
        return left

    def product(self) -> Expr:
        left = self.operand()
        while self.peek()[0] in ("*", "/"):
            op, _, pos = self.tokens[self.index]
            self.index += 1
            left = BinOp(_OPERATORS[op], left, self.operand(), pos)
        return left

    def operand(self) -> Expr:
        # Unary minus is a loop and the primary is inline, so one nesting level (a group or a
        # call) costs three stack frames: sum, product, operand.
        minus: list[int] = []
        while self.peek()[0] == "-":
            minus.append(self.take("-")[2])
        token = self.peek()
        kind, value, pos = token
        expr: Expr
        if kind == "num":
            self.index += 1
            expr = Num(self.number(token), pos)
        elif kind == "name" and self.tokens[self.index + 1][0] == "(":
            self.index += 2
            self.enter(pos)
            args: list[Expr] = []
            if self.peek()[0] != ")":
                args.append(self.sum())
                while self.peek()[0] == ",":
                    self.index += 1
                    args.append(self.sum())
            self.take(")")
            self.nesting -= 1
            expr = Call(value.upper(), tuple(args), pos)
        elif kind == "name":
            self.index += 1
            expr = Ref(value, pos)
        elif kind == "(":
            self.index += 1
            self.enter(pos)
            expr = self.sum()
            self.take(")")
            self.nesting -= 1
        elif kind == "[":
            expr = self.list_literal()
        else:
            self.fail(token)
        for minus_pos in reversed(minus):
            expr = Neg(expr, minus_pos)
        return expr

    def list_literal(self) -> ListLit:
        pos = self.take("[")[2]
        values: list[float] = []
        if self.peek()[0] != "]":
            values.append(self.list_number())
            while self.peek()[0] == ",":
                self.index += 1
                values.append(self.list_number())
        self.take("]")
        return ListLit(tuple(values), pos)

    def list_number(self) -> float:
        sign = 1.0
        if self.peek()[0] == "-":
            self.index += 1
            sign = -1.0
        return sign * self.number(self.take("num"))


def _walk(expr: Expr) -> Iterator[tuple[Expr, int]]:
    """Everything in ``expr`` with its depth (root = 1), pre-order and left to right.
    Iterative, so trees of any depth are safe."""
    stack: list[tuple[Expr, int]] = [(expr, 1)]
    while stack:
        item, depth = stack.pop()
        yield item, depth
        depth += 1
        if isinstance(item, BinOp):
            stack += ((item.right, depth), (item.left, depth))
        elif isinstance(item, Neg):
            stack.append((item.operand, depth))
        elif isinstance(item, Call):
            stack += [(arg, depth) for arg in reversed(item.args)]


def parse_expr(text: str, *, node: str | None = None, field: str | None = None) -> Expr:
    """Parse ``text`` into an AST, checking syntax and depth only (see :func:`check_expr`).

    Raises :class:`ModelError` naming ``node``, the column and the offending text. Nothing
    else escapes, whatever ``text`` holds.
    """
    source = _Source(text, node, field)
    if not text.strip():
        raise source.error("expression is empty", hint='; write a formula such as "demand * 0.8"')
    return _Parser(source).parse()


def _start(expr: Expr) -> int:
    """The offset where ``expr``'s text begins (a BinOp's ``pos`` is its operator's)."""
    while isinstance(expr, BinOp):
        expr = expr.left
    return expr.pos


def references(expr: Expr) -> set[str]:
    """The node ids an expression reads."""
    return {item.name for item, _ in _walk(expr) if isinstance(item, Ref)}


def split_references(expr: Expr) -> tuple[set[str], set[str]]:
    """``(same_bin, lagged)``: the node ids an expression reads at the bin it computes, and
    those it reads only inside ``SHIFT(x, k)`` with ``k >= 1`` (earlier bins only).

    A name found both inside and outside such a SHIFT is in both sets: the read outside is a
    real same-bin dependency (SPEC §5a).
    """
    same_bin: set[str] = set()
    lagged: set[str] = set()
    stack: list[tuple[Expr, bool]] = [(expr, False)]
    while stack:
        item, late = stack.pop()
        if isinstance(item, Ref):
            (lagged if late else same_bin).add(item.name)
        elif isinstance(item, BinOp):
            stack += ((item.left, late), (item.right, late))
        elif isinstance(item, Neg):
            stack.append((item.operand, late))
        elif isinstance(item, Call):
            lag = item.args[1] if item.name == "SHIFT" and len(item.args) == 2 else None
            shifted = isinstance(lag, Num) and float(lag.value) >= 1
            stack += [(arg, late or shifted) for arg in item.args]
    return same_bin, lagged


def _whole(arg: Expr, minimum: int) -> bool:
    return isinstance(arg, Num) and arg.value.is_integer() and arg.value >= minimum


def _literal(arg: Expr) -> bool:
    return isinstance(arg, Num) or (isinstance(arg, Neg) and isinstance(arg.operand, Num))


def did_you_mean(word: str, choices: Collection[str]) -> str:
    """``"; did you mean 'x'?"`` for the closest of ``choices``; ``""`` when none is close."""
    close = difflib.get_close_matches(word, list(choices), n=1)
    return f"; did you mean '{close[0]}'?" if close else ""


def _literal_problem(call: Call) -> tuple[str, Expr] | None:
    """The first argument that breaks ``call``'s literal-only rules, with the complaint."""
    args = call.args
    if call.name == "SHIFT" and not _whole(args[1], 0):
        return "SHIFT's k must be a whole, non-negative number literal", args[1]
    if call.name == "CONV":
        weights = args[1]
        if not isinstance(weights, ListLit):
            return "CONV's weights must be a list of numbers such as [0.5, 0.3, 0.2]", weights
        if not weights.values:
            return "CONV's weights must not be empty", weights
    if call.name == "PULSE":
        if not _whole(args[0], 1):
            return "PULSE's period must be a whole number literal of at least 1", args[0]
        if len(args) > 1 and not _whole(args[1], 0):
            return "PULSE's phase must be a whole, non-negative number literal", args[1]
        if len(args) > 2 and not _literal(args[2]):
            return "PULSE's amplitude must be a number literal", args[2]
    return None


def check_expr(
    expr: Expr,
    text: str,
    *,
    nodes: Collection[str],
    node: str | None = None,
    field: str | None = None,
) -> None:
    """Check what the grammar cannot: functions, arities, literal arguments, list placement
    and node references (against ``nodes``). Reports the first problem in reading order."""
    source = _Source(text, node, field)
    weights: set[int] = set()  # ids of the lists sitting as CONV's second argument
    for item, _ in _walk(expr):
        if isinstance(item, Ref) and item.name not in nodes:
            hint = did_you_mean(item.name, nodes)
            raise source.error(f"unknown node '{item.name}'", item.pos, hint)
        if isinstance(item, ListLit) and id(item) not in weights:
            problem = f"a list such as '{format_expr(item)}' is only allowed as CONV's weights"
            raise source.error(problem, item.pos)
        if isinstance(item, Call):
            _check_call(item, source)
            if item.name == "CONV":
                weights.add(id(item.args[1]))


def _check_call(call: Call, source: _Source) -> None:
    written = source.text[call.pos : call.pos + len(call.name)]
    if call.name not in FUNCTIONS:
        known = ", ".join(FUNCTIONS)
        guess = did_you_mean(call.name, FUNCTIONS)
        hint = f"{guess} Known functions: {known}" if guess else f"; known functions: {known}"
        raise source.error(f"unknown function '{written}'", call.pos, hint)
    low, high = FUNCTIONS[call.name]
    if not low <= len(call.args) <= high:
        wanted = f"exactly {low}" if low == high else f"{low} to {high}"
        plural = "" if high == 1 else "s"
        problem = f"{written} takes {wanted} argument{plural}, got {len(call.args)}"
        raise source.error(problem, call.pos)
    literal = _literal_problem(call)
    if literal is not None:
        problem, arg = literal
        raise source.error(f"{problem}, got '{format_expr(arg)}'", _start(arg))


# ---------------------------------------------------------------------------------------------
# Printing

_PRECEDENCE: Final = {"+": 1, "-": 1, "*": 2, "/": 2}


def format_number(value: float) -> str:
    """``12`` for whole values below 1e16, else the shortest text that reads back exactly."""
    if value.is_integer() and abs(value) < 1e16:
        return str(int(value))
    return repr(value)  # shortest text that reads back as the same float


def format_expr(expr: Expr) -> str:
    """Print an AST as text that :func:`parse_expr` reads back to an equal AST (positions
    aside), with the fewest parentheses left-associativity and precedence need.

    That holds for every tree the parser can produce; a hand-built ``Num`` with a negative
    value prints as ``-5`` and so reads back as ``Neg(Num(5))``.
    """
    if isinstance(expr, Num):
        return format_number(expr.value)
    if isinstance(expr, Ref):
        return expr.name
    if isinstance(expr, ListLit):
        return "[" + ", ".join(format_number(v) for v in expr.values) + "]"
    if isinstance(expr, Call):
        return expr.name + "(" + ", ".join(format_expr(a) for a in expr.args) + ")"
    if isinstance(expr, Neg):
        inner = format_expr(expr.operand)
        return f"-({inner})" if isinstance(expr.operand, BinOp) else "-" + inner
    level = _PRECEDENCE[expr.op]
    left, right = format_expr(expr.left), format_expr(expr.right)
    if isinstance(expr.left, BinOp) and _PRECEDENCE[expr.left.op] < level:
        left = f"({left})"
    if isinstance(expr.right, BinOp) and _PRECEDENCE[expr.right.op] <= level:
        right = f"({right})"
    return f"{left} {expr.op} {right}"
