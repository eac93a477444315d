"""The expression language: grammar, positions, checks, printing, and properties."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given
from hypothesis import strategies as st

from flowtime_sim.errors import ModelError
from flowtime_sim.model import format_expr, parse_expr, references
from flowtime_sim.model.expr import MAX_DEPTH, MAX_NESTING, check_expr
from flowtime_sim.model.types import BinOp, Call, Expr, ListLit, Neg, Num, Ref


def strip(expr: Expr) -> Expr:
    """The same tree with every position set to 0, to compare shapes."""
    if isinstance(expr, BinOp):
        return BinOp(expr.op, strip(expr.left), strip(expr.right), 0)
    if isinstance(expr, Neg):
        return Neg(strip(expr.operand), 0)
    if isinstance(expr, Call):
        return Call(expr.name, tuple(strip(a) for a in expr.args), 0)
    return dataclasses.replace(expr, pos=0)


def shape(text: str) -> Expr:
    return strip(parse_expr(text))


def fails(text: str, *, nodes: tuple[str, ...] = ("a", "b", "x", "demand")) -> str:
    """The message of the ModelError that parsing and checking ``text`` raises."""
    with pytest.raises(ModelError) as caught:
        check_expr(parse_expr(text, node="n", field="f"), text, nodes=nodes, node="n", field="f")
    assert caught.value.node == "n"
    assert caught.value.field == "f"
    return str(caught.value)


a, b, c = Ref("a", 0), Ref("b", 0), Ref("c", 0)


# --- grammar ----------------------------------------------------------------------------------


def test_operators_are_left_associative_and_product_binds_tighter() -> None:
    assert shape("a - b - c") == BinOp("-", BinOp("-", a, b, 0), c, 0)
    assert shape("a / b / c") == BinOp("/", BinOp("/", a, b, 0), c, 0)
    assert shape("a + b * c") == BinOp("+", a, BinOp("*", b, c, 0), 0)
    assert shape("a * b - c") == BinOp("-", BinOp("*", a, b, 0), c, 0)
    assert shape("(a + b) * c") == BinOp("*", BinOp("+", a, b, 0), c, 0)


def test_unary_minus_binds_tighter_than_every_operator_and_repeats() -> None:
    assert shape("-a * b") == BinOp("*", Neg(a, 0), b, 0)
    assert shape("a - -b") == BinOp("-", a, Neg(b, 0), 0)
    assert shape("--a") == Neg(Neg(a, 0), 0)
    assert shape("-(a + b)") == Neg(BinOp("+", a, b, 0), 0)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("12", 12.0),
        ("0.5", 0.5),
        (".5", 0.5),
        ("1.", 1.0),
        ("1e3", 1000.0),
        ("1E3", 1000.0),
        ("1.5e-3", 0.0015),
        ("1.0e+20", 1e20),
        ("007", 7.0),
    ],
)
def test_numeric_literals(text: str, value: float) -> None:
    assert parse_expr(text) == Num(value, 0)


def test_function_names_are_case_insensitive_and_stored_upper_cased() -> None:
    assert shape("shift(a, 2)") == Call("SHIFT", (a, Num(2.0, 0)), 0)
    assert shape("Min(a,b)") == Call("MIN", (a, b), 0)
    assert shape("PULSE()") == Call("PULSE", (), 0)


def test_node_references_keep_their_case() -> None:
    assert parse_expr("Demand_2") == Ref("Demand_2", 0)
    assert references(parse_expr("min + MIN(min, _x)")) == {"min", "_x"}


def test_list_literal_holds_numbers_optionally_negative() -> None:
    assert shape("CONV(a, [0.5, -0.3, .2])") == Call("CONV", (a, ListLit((0.5, -0.3, 0.2), 0)), 0)
    assert shape("[]") == ListLit((), 0)


def test_whitespace_including_newlines_is_free() -> None:
    assert shape(" \tMIN( a ,\n b )\n") == Call("MIN", (a, b), 0)


def test_every_node_records_its_offset() -> None:
    assert parse_expr("MIN(a, -2) * [1]") == BinOp(
        "*",
        Call("MIN", (Ref("a", 4), Neg(Num(2.0, 8), 7)), 0),
        ListLit((1.0,), 13),
        11,
    )


def test_references_lists_every_node_read_once() -> None:
    assert references(parse_expr("a + SHIFT(a, 1) * CONV(b, [1]) - -c + 3")) == {"a", "b", "c"}
    assert references(parse_expr("PULSE(2)")) == set()


# --- syntax errors ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("MIN(a,))", "unexpected ')' at column 7 in expression \"MIN(a,))\""),
        ("MIN(a", 'unexpected end of expression at column 6 in expression "MIN(a"'),
        ("a b", "unexpected 'b' at column 3 in expression \"a b\""),
        ("a + * b", "unexpected '*' at column 5 in expression \"a + * b\""),
        ("+a", "unexpected '+' at column 1 in expression \"+a\""),
        ("(a", 'unexpected end of expression at column 3 in expression "(a"'),
        ("a)", "unexpected ')' at column 2 in expression \"a)\""),
        ("[a]", "unexpected 'a' at column 2 in expression \"[a]\""),
        ("[1,]", "unexpected ']' at column 4 in expression \"[1,]\""),
        ("a $ b", "unexpected character '$' at column 3 in expression \"a $ b\""),
        ("a ^ 2", "unexpected character '^' at column 3 in expression \"a ^ 2\""),
        ("é", "unexpected character 'é' at column 1 in expression \"é\""),
        ("2x", "malformed number '2x' at column 1 in expression \"2x\""),
        ("a * 1e", "malformed number '1e' at column 5 in expression \"a * 1e\""),
        ("1.2.3", "malformed number '1.2.3' at column 1 in expression \"1.2.3\""),
        ("1e999", "number '1e999' is out of range at column 1 in expression \"1e999\""),
        ("[1e400]", "number '1e400' is out of range at column 2 in expression \"[1e400]\""),
        ("a +\n", 'unexpected end of expression at column 5 in expression "a +\\n"'),
        ("", 'expression is empty in expression ""; write a formula such as "demand * 0.8"'),
        ("  ", 'expression is empty in expression "  "; write a formula such as "demand * 0.8"'),
    ],
)
def test_syntax_errors_name_node_column_and_text(text: str, message: str) -> None:
    assert fails(text) == f"node 'n': {message}"


def test_messages_without_a_node_have_no_prefix() -> None:
    with pytest.raises(ModelError, match=r"^unexpected '\)' at column 2 in expression") as caught:
        parse_expr("a)")
    assert caught.value.node is None


def test_a_sum_of_max_depth_terms_parses_and_one_more_is_refused() -> None:
    assert len(references(parse_expr(" + ".join(f"n{i}" for i in range(MAX_DEPTH))))) == MAX_DEPTH
    text = " + ".join(["a"] * (MAX_DEPTH + 1))
    assert fails(text) == (
        f"node 'n': expression is more than {MAX_DEPTH} levels deep at column 1 in expression "
        f'"{text}"; split it into several expr nodes'
    )


def test_deep_unary_minus_is_refused_without_recursing() -> None:
    text = "-" * 10_000 + "a"
    assert fails(text) == (
        f"node 'n': expression is more than {MAX_DEPTH} levels deep at column {MAX_DEPTH + 1} "
        f'in expression "{text}"; split it into several expr nodes'
    )


@pytest.mark.parametrize("opening", ["(", "MIN(a, ", "floor("])
def test_deep_nesting_is_refused_without_recursing(opening: str) -> None:
    text = opening * 5_000 + "a"
    column = len(opening) * MAX_NESTING + 1  # the opening one too many
    assert fails(text) == (
        f"node 'n': parentheses and calls nest more than {MAX_NESTING} levels deep at column "
        f'{column} in expression "{text}"; split the expression into several expr nodes'
    )


def test_nesting_limit_points_at_the_opening_too_many() -> None:
    ok = "(" * MAX_NESTING + "a" + ")" * MAX_NESTING
    assert shape(ok) == a
    text = "(" * (MAX_NESTING + 1) + "a" + ")" * (MAX_NESTING + 1)
    assert fails(text) == (
        f"node 'n': parentheses and calls nest more than {MAX_NESTING} levels deep at column "
        f'{MAX_NESTING + 1} in expression "{text}"; split the expression into several expr nodes'
    )


# --- checks -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "dmand * 2",
            "unknown node 'dmand' at column 1 in expression \"dmand * 2\"; did you mean 'demand'?",
        ),
        ("a + zzz", "unknown node 'zzz' at column 5 in expression \"a + zzz\""),
        (
            "SUM(a, b)",
            "unknown function 'SUM' at column 1 in expression \"SUM(a, b)\"; known functions: "
            "CEIL, CLAMP, CONV, FLOOR, MAX, MIN, MOD, PULSE, ROUND, SHIFT, STEP",
        ),
        (
            "a + mn(a, b)",
            "unknown function 'mn' at column 5 in expression \"a + mn(a, b)\"; did you mean "
            "'MIN'? Known functions: CEIL, CLAMP, CONV, FLOOR, MAX, MIN, MOD, PULSE, ROUND, "
            "SHIFT, STEP",
        ),
        (
            "demand(1)",
            "unknown function 'demand' at column 1 in expression \"demand(1)\"; "
            "known functions: CEIL, CLAMP, CONV, FLOOR, MAX, MIN, MOD, PULSE, ROUND, SHIFT, STEP",
        ),
        (
            "MIN(a, b, x)",
            'MIN takes exactly 2 arguments, got 3 at column 1 in expression "MIN(a, b, x)"',
        ),
        ("max(a)", 'max takes exactly 2 arguments, got 1 at column 1 in expression "max(a)"'),
        (
            "CLAMP(a, b)",
            'CLAMP takes exactly 3 arguments, got 2 at column 1 in expression "CLAMP(a, b)"',
        ),
        (
            "FLOOR(a, b)",
            'FLOOR takes exactly 1 argument, got 2 at column 1 in expression "FLOOR(a, b)"',
        ),
        ("ROUND()", 'ROUND takes exactly 1 argument, got 0 at column 1 in expression "ROUND()"'),
        ("PULSE()", 'PULSE takes 1 to 3 arguments, got 0 at column 1 in expression "PULSE()"'),
        (
            "PULSE(1, 2, 3, 4)",
            'PULSE takes 1 to 3 arguments, got 4 at column 1 in expression "PULSE(1, 2, 3, 4)"',
        ),
        ("SHIFT(a)", 'SHIFT takes exactly 2 arguments, got 1 at column 1 in expression "SHIFT(a)"'),
        ("CONV(a)", 'CONV takes exactly 2 arguments, got 1 at column 1 in expression "CONV(a)"'),
        (
            "SHIFT(a, -1)",
            "SHIFT's k must be a whole, non-negative number literal, got '-1' at "
            'column 10 in expression "SHIFT(a, -1)"',
        ),
        (
            "SHIFT(a, 1.5)",
            "SHIFT's k must be a whole, non-negative number literal, got '1.5' "
            'at column 10 in expression "SHIFT(a, 1.5)"',
        ),
        (
            "SHIFT(a, b)",
            "SHIFT's k must be a whole, non-negative number literal, got 'b' at "
            'column 10 in expression "SHIFT(a, b)"',
        ),
        (
            "SHIFT(a, 1 + 1)",
            "SHIFT's k must be a whole, non-negative number literal, got "
            "'1 + 1' at column 10 in expression \"SHIFT(a, 1 + 1)\"",
        ),
        (
            "CONV(a, b)",
            "CONV's weights must be a list of numbers such as [0.5, 0.3, 0.2], got "
            "'b' at column 9 in expression \"CONV(a, b)\"",
        ),
        (
            "CONV(a, [])",
            "CONV's weights must not be empty, got '[]' at column 9 in expression \"CONV(a, [])\"",
        ),
        (
            "PULSE(0)",
            "PULSE's period must be a whole number literal of at least 1, got '0' at "
            'column 7 in expression "PULSE(0)"',
        ),
        (
            "PULSE(a)",
            "PULSE's period must be a whole number literal of at least 1, got 'a' at "
            'column 7 in expression "PULSE(a)"',
        ),
        (
            "PULSE(2, 0.5)",
            "PULSE's phase must be a whole, non-negative number literal, got "
            "'0.5' at column 10 in expression \"PULSE(2, 0.5)\"",
        ),
        (
            "PULSE(2, -1)",
            "PULSE's phase must be a whole, non-negative number literal, got '-1' "
            'at column 10 in expression "PULSE(2, -1)"',
        ),
        (
            "PULSE(2, 0, a)",
            "PULSE's amplitude must be a number literal, got 'a' at column 13 in "
            'expression "PULSE(2, 0, a)"',
        ),
        (
            "[1, 2] + a",
            "a list such as '[1, 2]' is only allowed as CONV's weights at column 1 "
            'in expression "[1, 2] + a"',
        ),
        (
            "CONV([1], [1])",
            "a list such as '[1]' is only allowed as CONV's weights at column 6 "
            'in expression "CONV([1], [1])"',
        ),
        (
            "MIN(a, [0.5])",
            "a list such as '[0.5]' is only allowed as CONV's weights at column 8 "
            'in expression "MIN(a, [0.5])"',
        ),
    ],
)
def test_check_errors_name_node_column_and_text(text: str, message: str) -> None:
    assert fails(text) == f"node 'n': {message}"


@pytest.mark.parametrize(
    "text",
    [
        "SHIFT(a, 0)",
        "SHIFT(a, 2.0)",
        "SHIFT(a, 1e2)",
        "CONV(a, [-1])",
        "PULSE(3)",
        "PULSE(3, 0, -2.5)",
        "CLAMP(a - SHIFT(b, 1), 0, 30)",
        "mod(a, 0 - 3) + step(a, 3) + ceil(a) + round(-a) + max(a, b)",
    ],
)
def test_valid_calls_pass_the_checks(text: str) -> None:
    check_expr(parse_expr(text), text, nodes={"a", "b"})


def test_checks_report_the_first_problem_in_reading_order() -> None:
    assert fails("zz + FOO(1)").startswith("node 'n': unknown node 'zz' at column 1")
    assert fails("FOO(zz)").startswith("node 'n': unknown function 'FOO' at column 1")


# --- printing ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "printed"),
    [
        ("a-(b-c)", "a - (b - c)"),
        ("(a-b)-c", "a - b - c"),
        ("(a*b)/c", "a * b / c"),
        ("a/(b*c)", "a / (b * c)"),
        ("(a+b)*(a-b)", "(a + b) * (a - b)"),
        ("-(a*b)", "-(a * b)"),
        ("(-a)*b", "-a * b"),
        ("- -a", "--a"),
        ("shift( a ,2.0 )", "SHIFT(a, 2)"),
        ("CONV(a,[.5,-1e-3,1e20])", "CONV(a, [0.5, -0.001, 1e+20])"),
        ("1e16 + 0.1 + 1e-7", "1e+16 + 0.1 + 1e-07"),
    ],
)
def test_format_expr_prints_canonical_text(text: str, printed: str) -> None:
    assert format_expr(parse_expr(text)) == printed


# --- properties -------------------------------------------------------------------------------

identifiers = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,6}", fullmatch=True)
numbers = st.floats(min_value=0, allow_nan=False, allow_infinity=False)
signed = st.floats(allow_nan=False, allow_infinity=False)
leaves = st.one_of(
    st.builds(Num, numbers, st.just(0)),
    st.builds(Ref, identifiers, st.just(0)),
    st.builds(ListLit, st.lists(signed, max_size=4).map(tuple), st.just(0)),
)


def _extend(children: st.SearchStrategy[Expr]) -> st.SearchStrategy[Expr]:
    return st.one_of(
        st.builds(Neg, children, st.just(0)),
        st.builds(BinOp, st.sampled_from(["+", "-", "*", "/"]), children, children, st.just(0)),
        st.builds(
            Call,
            identifiers.map(str.upper),
            st.lists(children, max_size=4).map(tuple),
            st.just(0),
        ),
    )


trees = st.recursive(leaves, _extend, max_leaves=30)


@given(trees)
def test_format_then_parse_gives_the_same_tree(tree: Expr) -> None:
    assert strip(parse_expr(format_expr(tree))) == tree


expression_text = st.text(alphabet="ab_MINSHFTcon01239.eE+-*/()[], \t", max_size=40)
words = ["a", "b", "c", "MIN", "shift", "CONV", "pulse", "0", "1", ".5", "1e3", "2.", "-1"]
punctuation = ["(", ")", "[", "]", ",", "-", "+", "*", "/", " "]
tokens = st.sampled_from([*words, *punctuation])
token_text = st.lists(tokens, max_size=30).map("".join)


@given(st.one_of(st.text(max_size=60), expression_text, token_text))
def test_any_text_raises_nothing_but_model_error(text: str) -> None:
    try:
        tree = parse_expr(text, node="n")
        check_expr(tree, text, nodes={"a", "b"}, node="n")
    except ModelError as err:
        message = str(err)
    else:
        message = ""
        assert strip(parse_expr(format_expr(tree))) == strip(tree)
    assert message == "" or message.startswith("node 'n': ")
