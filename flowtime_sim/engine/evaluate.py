"""Evaluating a model into time series (SPEC §5 and §5a semantics, §8 sample mode).

:func:`evaluate` follows the model's plan (:mod:`flowtime_sim.plan`): each vector stage is
one node or synthesized step computed as a float64 array of ``grid.bins`` values, one NumPy
operation per step of an expression (never a Python loop over bins); expressions are
compiled once into closures and parts without node references are folded into constants.
Each sequential stage (a feedback loop through ``SHIFT``, or a queue) is computed bin by
bin by :mod:`flowtime_sim.engine.sequential`; steps other than nodes by
:mod:`flowtime_sim.engine.vector`.

Meaning per bin ``t`` (``a``, ``b``, ``x`` stand for any sub-expression):

- ``a / b`` is 0 where ``b`` is 0; ``MOD(a, b)`` is the remainder with the sign of ``b``
  (Python's ``%``: ``MOD(-4, 3) = 2``, ``MOD(7, -3) = -2``), 0 where ``b`` is 0, and works on
  fractions too (``MOD(5.5, 3) = 2.5``).
- ``SHIFT(x, k)`` is ``x[t-k]``, 0 for ``t < k`` (all 0 when ``k >= bins``);
  ``CONV(x, [w0, .., wn])`` is ``w0*x[t] + w1*x[t-1] + ..``, terms with ``t-k < 0`` left out,
  added in that order (weights beyond ``bins`` contribute nothing).
- ``FLOOR``, ``CEIL``; ``ROUND`` rounds half away from zero (``2.5 -> 3``, ``-2.5 -> -3``).
- ``MIN``, ``MAX``; ``CLAMP(v, lo, hi) = MAX(lo, MIN(hi, v))`` (so ``lo`` wins if ``lo > hi``);
  ``STEP(x, th)`` is 1 where ``x >= th``, else 0.
- ``PULSE(period[, phase[, amp]])`` is ``amp`` (default 1) where ``t >= phase`` and
  ``t - phase`` is a multiple of ``period``, else 0; ``phase`` defaults to 0. The arguments
  are number literals (the parser insists); ``period`` must be greater than 0. The multiple
  test is exact floating-point arithmetic, so a fractional period such as 2.5 fires at bins
  0, 5, 10, .. and a fractional phase never meets a bin unless the period brings it there.
- A ``pmf`` node is its expected value ``sum(v*p)`` in every bin; in sample mode it is drawn
  per bin instead (below).
- Any non-finite value in a node (an overflow) stops the run with a :class:`ModelError`
  naming the node and the first such bin; infinities and NaN are never returned.

Sample mode, the reproducibility contract: one :class:`~flowtime_sim.engine.pcg32.Pcg32`
stream seeded with the run seed; the pmf nodes in model file order each take ``bins``
consecutive uniforms ``u``, one per bin ``t = 0 .. bins-1``; bin ``t`` gets the first value
(in the order the model lists them) whose running total of probabilities exceeds ``u``. If no
total exceeds ``u`` (possible only when the probabilities add up to slightly less than 1),
the last value with a non-zero probability is taken. The same model, seed and engine
version always give the same numbers.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Final, Literal, TypeAlias

import numpy as np

from flowtime_sim.engine import sequential, vector
from flowtime_sim.engine.pcg32 import Pcg32
from flowtime_sim.engine.vector import divide as _divide
from flowtime_sim.errors import ModelError, UserError
from flowtime_sim.model.expr import FUNCTIONS
from flowtime_sim.model.types import (
    BinOp,
    Call,
    ConstNode,
    Expr,
    ExprNode,
    ListLit,
    Model,
    Neg,
    Node,
    Num,
    PmfNode,
    Ref,
)
from flowtime_sim.plan import NodeStep, Step

Series: TypeAlias = vector.Series
Mode: TypeAlias = Literal["expected", "sample"]
#: ``progress(done_nodes, total_nodes)``, called after each node.
Progress: TypeAlias = Callable[[int, int], None]
MODES: Final = ("expected", "sample")

# A compiled sub-expression is a folded constant or a function of the series computed so far.
_Program: TypeAlias = Callable[[Mapping[str, Series]], Series | float]
_Compiled: TypeAlias = _Program | float
_Op: TypeAlias = Callable[..., Series]


def effective_seed(model: Model, seed: int | None) -> int:
    """The seed a run uses: ``seed`` when given, else the model's ``rng.seed``, else 0."""
    if seed is not None:
        return seed
    return model.rng.seed if model.rng is not None else 0


def evaluate(
    model: Model,
    *,
    mode: Mode = "expected",
    seed: int | None = None,
    progress: Progress | None = None,
) -> dict[str, Series]:
    """Every series (nodes and synthesized series), keyed by name in evaluation order.

    The arrays are read-only (a node that only references another may share its array).
    ``seed`` matters in sample mode only (see :func:`effective_seed`). ``progress`` is
    called after each stage of the plan. Raises :class:`ModelError` for an overflow or a
    node this engine cannot evaluate, and :class:`UserError` for an unknown ``mode``.
    """
    if mode not in MODES:
        raise UserError(f"mode {mode!r} is not one of {', '.join(MODES)}", field="mode")
    plan = model.plan
    if plan is None:
        from flowtime_sim.plan import build_plan

        plan = build_plan(model, check=False)
    bins = model.grid.bins
    sampled = sample_pmfs(model, effective_seed(model, seed)) if mode == "sample" else {}
    series: dict[str, Series] = {}
    total = len(plan.stages)
    with np.errstate(all="ignore"):  # overflow shows up as inf/NaN, checked per series below
        for done, stage in enumerate(plan.stages, start=1):
            if stage.sequential:
                computed = sequential.run_stage(stage.steps, series, bins, _sub_compiler(bins))
            else:
                computed = _vector_stage(stage.steps[0], series, bins, sampled)
            for name, values in computed.items():
                check_finite(name, values)
                values.flags.writeable = False
                series[name] = values
            if progress is not None:
                progress(done, total)
    return series


def _vector_stage(
    step: Step, series: Mapping[str, Series], bins: int, sampled: Mapping[str, Series]
) -> dict[str, Series]:
    if not isinstance(step, NodeStep):
        return vector.run_step(step, series, bins)
    node = step.node
    if node.id in sampled:
        return {node.id: sampled[node.id]}
    if isinstance(node, ExprNode):
        return {node.id: compile_expr(node, bins)(series)}
    return {node.id: _plain_values(node, bins)}


def _sub_compiler(bins: int) -> sequential.SubCompiler:
    """Compiles the parts of a loop's expressions that need no value of the loop."""

    def compile_part(node: ExprNode, expr: Expr) -> _Compiled:
        with np.errstate(all="ignore"):
            return _Compiler(node, bins).compile(expr)

    return compile_part


def _plain_values(node: Node, bins: int) -> Series:
    if isinstance(node, ConstNode):
        if len(node.values) != bins:
            raise ModelError(
                f"node '{node.id}' has {len(node.values)} values but the grid has {bins} bins",
                node=node.id,
            )
        return np.array(node.values, dtype=np.float64)
    if isinstance(node, PmfNode):
        return np.full(bins, node.expected_value)
    raise ModelError(
        f"node '{node.id}' has kind '{node.kind}', which the engine cannot evaluate",
        node=node.id,
    )


def sample_pmfs(model: Model, seed: int) -> dict[str, Series]:
    """Draw every pmf node's series as the module docstring describes."""
    rng = Pcg32(seed)
    drawn: dict[str, Series] = {}
    for node in model.nodes:
        if isinstance(node, PmfNode):
            uniforms = rng.uniform_array(model.grid.bins)
            running = np.cumsum(node.probabilities)
            last = max(i for i, p in enumerate(node.probabilities) if p > 0)
            picks = np.minimum(np.searchsorted(running, uniforms, side="right"), last)
            drawn[node.id] = np.asarray(node.values, dtype=np.float64)[picks]
    return drawn


def overflow_error(node_id: str, value: float, bin_index: int) -> ModelError:
    """The error for a node whose value at ``bin_index`` is not finite."""
    if np.isnan(value):
        what = "overflowed (an intermediate result was infinite)"
    else:
        what = "overflowed to infinity" if value > 0 else "overflowed to -infinity"
    return ModelError(f"node '{node_id}' {what} at bin {bin_index}; check its inputs", node=node_id)


def check_finite(node_id: str, values: Series) -> None:
    """Raise :func:`overflow_error` for the first non-finite value, if any."""
    finite = np.isfinite(values)
    if not finite.all():
        first = int(np.argmin(finite))
        raise overflow_error(node_id, float(values[first]), first)


# ---------------------------------------------------------------------------------------------
# Compiling expressions


def compile_expr(node: ExprNode, bins: int) -> Callable[[Mapping[str, Series]], Series]:
    """``node``'s expression as a function from the series computed so far to its series.

    Raises :class:`ModelError` for what the engine cannot evaluate (the parser rejects all
    of it first; hand-built models meet these checks here).
    """
    with np.errstate(all="ignore"):  # a folded constant may overflow; checked when run
        compiled = _Compiler(node, bins).compile(node.ast)

    def run(env: Mapping[str, Series]) -> Series:
        value = compiled if isinstance(compiled, float) else compiled(env)
        return _full(value, bins)

    return run


def _full(value: Series | float, bins: int) -> Series:
    return np.full(bins, value) if isinstance(value, float) else value


def _mod(a: Series, b: Series) -> Series:
    out = np.zeros(np.broadcast_shapes(np.shape(a), np.shape(b)))
    np.mod(a, b, out=out, where=np.not_equal(b, 0.0))  # np.mod is Python's %: sign of b
    return out


def _round(x: Series) -> Series:
    # x - trunc(x) is exact, so halves are recognised exactly (unlike floor(x + 0.5)).
    whole = np.trunc(x)
    result: Series = np.where(np.abs(x - whole) >= 0.5, whole + np.sign(x), whole)
    return result


def _step(x: Series, threshold: Series) -> Series:
    result: Series = np.where(np.greater_equal(x, threshold), 1.0, 0.0)
    return result


def _clamp(v: Series, lo: Series, hi: Series) -> Series:
    result: Series = np.maximum(lo, np.minimum(hi, v))
    return result


_BINARY: Final[dict[str, _Op]] = {
    "+": np.add,
    "-": np.subtract,
    "*": np.multiply,
    "/": _divide,
}
_ELEMENTWISE: Final[dict[str, _Op]] = {
    "MIN": np.minimum,
    "MAX": np.maximum,
    "CLAMP": _clamp,
    "MOD": _mod,
    "FLOOR": np.floor,
    "CEIL": np.ceil,
    "ROUND": _round,
    "STEP": _step,
}


class _Compiler:
    def __init__(self, node: ExprNode, bins: int) -> None:
        self.node = node
        self.bins = bins

    def fail(self, problem: str) -> ModelError:
        return ModelError(
            f"node '{self.node.id}': {problem} in expression {self.node.expr!r}",
            node=self.node.id,
        )

    def compile(self, expr: Expr) -> _Compiled:
        if isinstance(expr, Num):
            return float(expr.value)
        if isinstance(expr, Ref):
            name = expr.name
            return lambda env: env[name]
        if isinstance(expr, Neg):
            return self.apply(np.negative, expr.operand)
        if isinstance(expr, BinOp):
            return self.apply(_BINARY[expr.op], expr.left, expr.right)
        if isinstance(expr, Call):
            return self.call(expr)
        raise self.fail("a list such as [1, 2] is only allowed as CONV's weights")

    def apply(self, op: _Op, *args: Expr) -> _Compiled:
        parts = [self.compile(arg) for arg in args]
        if all(isinstance(p, float) for p in parts):
            # Fold with the very same operation, on one-element arrays.
            return float(op(*(np.array([p]) for p in parts))[0])

        def run(env: Mapping[str, Series]) -> Series:
            return op(*(p if isinstance(p, float) else p(env) for p in parts))

        return run

    def constant(self, expr: Expr, what: str) -> float:
        value = self.compile(expr)
        if not isinstance(value, float):
            raise self.fail(f"{what} must be a number literal")
        return value

    def call(self, call: Call) -> _Compiled:
        special = {"SHIFT": self.shift, "CONV": self.conv, "PULSE": self.pulse}
        if call.name not in FUNCTIONS or not (call.name in _ELEMENTWISE or call.name in special):
            raise self.fail(f"unknown function {call.name}")
        low, high = FUNCTIONS[call.name]
        if not low <= len(call.args) <= high:
            wanted = f"exactly {low}" if low == high else f"{low} to {high}"
            raise self.fail(f"{call.name} takes {wanted} arguments, got {len(call.args)}")
        if call.name in _ELEMENTWISE:
            return self.apply(_ELEMENTWISE[call.name], *call.args)
        return special[call.name](call)

    def shift(self, call: Call) -> _Compiled:
        k = self.constant(call.args[1], "SHIFT's k")
        if not (k.is_integer() and k >= 0):
            raise self.fail(f"SHIFT's k must be a whole number >= 0, got {k!r}")
        lag, bins, x = int(k), self.bins, self.compile(call.args[0])

        def run(env: Mapping[str, Series]) -> Series:
            values = _full(x if isinstance(x, float) else x(env), bins)
            out = np.zeros(bins)
            if lag < bins:
                out[lag:] = values[: bins - lag]
            return out

        return run

    def conv(self, call: Call) -> _Compiled:
        weights = call.args[1]
        if not isinstance(weights, ListLit):
            raise self.fail("CONV's weights must be a list of numbers")
        bins, x = self.bins, self.compile(call.args[0])
        terms = list(enumerate(weights.values))[:bins]

        def run(env: Mapping[str, Series]) -> Series:
            values = _full(x if isinstance(x, float) else x(env), bins)
            out = np.zeros(bins)
            for lag, weight in terms:  # in weight order, like the per-bin definition
                out[lag:] += weight * values[: bins - lag]
            return out

        return run

    def pulse(self, call: Call) -> _Compiled:
        names = ("PULSE's period", "PULSE's phase", "PULSE's amplitude")
        given = [self.constant(arg, name) for arg, name in zip(call.args, names, strict=False)]
        period = given[0]
        phase = given[1] if len(given) > 1 else 0.0
        amp = given[2] if len(given) > 2 else 1.0
        if not period > 0:
            raise self.fail(f"PULSE's period must be greater than 0, got {period!r}")
        offset = np.arange(self.bins, dtype=np.float64) - phase
        hits = (offset >= 0) & (np.mod(offset, period) == 0)
        pulse = np.where(hits, amp, 0.0)
        return lambda env: pulse
