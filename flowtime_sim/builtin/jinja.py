"""The host's template format: Jinja2 rendered in a sandbox with YAML-safe value insertion."""

from __future__ import annotations

import contextlib
import hashlib
import re
from functools import cache, lru_cache
from typing import Any

from flowtime_sim.builtin import jinja_limits
from flowtime_sim.errors import TemplateError
from flowtime_sim.markers import hookimpl
from flowtime_sim.types import ResolvedParameters, Template
from flowtime_sim.yamlsafe import yaml_literal

FLOWTIME_SIM_PLUGIN_API = ">=1,<2"
_NODE_ID = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
#: Every name a template body can read besides its parameters and ``template``.
TEMPLATE_GLOBALS = ("dict", "fail", "namespace", "range", "repeat_to")


def repeat_to(values: list[Any], length: int) -> list[Any]:
    """``values`` repeated (cyclically) to ``length`` items: a daily profile over many days."""
    if not values:
        raise ValueError("repeat_to needs at least one value")
    jinja_limits.check_size(int(length), f"repeat_to(..., {int(length)})", "items")
    return [values[i % len(values)] for i in range(int(length))]


class NodeId(str):
    """A checked node id that the YAML-safe insertion prints bare (see :func:`node_id`)."""


def node_id(value: Any) -> NodeId:
    """The ``node_id`` filter: ``{{ ("stage_" ~ i) | node_id }}`` prints ``stage_3`` unquoted,
    so templates can build node ids; anything outside ``[A-Za-z_][A-Za-z0-9_]*`` is refused."""
    text = str(value)
    if not _NODE_ID.fullmatch(text):
        raise ValueError(f"{text!r} is not a valid node id ([A-Za-z_][A-Za-z0-9_]*)")
    return NodeId(text)


@cache
def _environment() -> Any:
    from jinja2 import BaseLoader, StrictUndefined, Undefined
    from jinja2.exceptions import SecurityError

    class NoLoader(BaseLoader):
        def get_source(self, environment: Any, template: str) -> Any:
            # A Jinja error (not ours) so that render_jinja adds the template and line.
            raise SecurityError(
                f"templates cannot include, import or extend other files ({template!r})"
            )

    class Strict(StrictUndefined):
        # Also fail, naming the variable, where Python asks the object itself: round(), abs().
        __round__ = __abs__ = __index__ = StrictUndefined._fail_with_undefined_error

    def raise_if_undefined(value: Any) -> None:
        if isinstance(value, Undefined):
            str(value)  # raises: names the undefined variable or the refused attribute
        elif isinstance(value, list | tuple):
            for item in value:
                raise_if_undefined(item)
        elif isinstance(value, dict):
            for item in value.values():
                raise_if_undefined(item)

    def finalize(value: Any) -> str:
        raise_if_undefined(value)
        if isinstance(value, NodeId):
            return str(value)
        return yaml_literal(value)

    env = _bounded_sandbox()(
        loader=NoLoader(),
        undefined=Strict,
        finalize=finalize,
        autoescape=False,
        keep_trailing_newline=True,
    )
    from flowtime_sim.builtin.template_fail import fail

    builtin = {**env.globals, "repeat_to": repeat_to, "fail": fail}
    env.globals = {name: builtin[name] for name in TEMPLATE_GLOBALS}
    env.filters = jinja_limits.bounded_filters(env.filters)
    env.filters["node_id"] = node_id
    return env


def _bounded_sandbox() -> type[Any]:
    """The sandbox with the time and size checks of :mod:`.jinja_limits` wired in: loops
    iterate through ``bounded_iter``, ``~`` joins through ``bounded_concat``, and calls,
    ``str.format`` and the operators that can build large values are checked first."""
    from jinja2 import nodes
    from jinja2.compiler import CodeGenerator, Frame
    from jinja2.runtime import Context
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    class BoundedCodeGenerator(CodeGenerator):
        def visit_For(self, node: nodes.For, frame: Frame) -> None:
            node.iter = nodes.Call(
                nodes.EnvironmentAttribute("bounded_iter"),
                [node.iter],
                [],
                None,
                None,
                lineno=node.lineno,
            )
            super().visit_For(node, frame)

        def visit_Concat(self, node: nodes.Concat, frame: Frame) -> None:
            self.write("environment.bounded_concat((")
            for arg in node.nodes:
                self.visit(arg, frame)
                self.write(", ")
            self.write("))")

    class BoundedSandbox(ImmutableSandboxedEnvironment):
        code_generator_class = BoundedCodeGenerator
        intercepted_binops = frozenset({"*", "+", "**", "%"})
        bounded_iter = staticmethod(jinja_limits.bounded_iter)
        bounded_concat = staticmethod(jinja_limits.bounded_concat)

        def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
            jinja_limits.check_binop(operator, left, right)
            return super().call_binop(context, operator, left, right)

        def call(self, context: Context, obj: Any, /, *args: Any, **kwargs: Any) -> Any:
            jinja_limits.tick()
            args = jinja_limits.checked_method_args(obj, args, kwargs)
            return super().call(context, obj, *args, **kwargs)

        def wrap_str_format(self, value: Any) -> Any:
            wrapped = super().wrap_str_format(value)
            if wrapped is None:
                return None
            text = value.__self__

            def checked(*args: Any, **kwargs: Any) -> Any:
                jinja_limits.check_format_widths(
                    text, braces=True, values=(*args, *kwargs.values())
                )
                return wrapped(*args, **kwargs)

            return checked

    return BoundedSandbox


def open_bytecode_cache(directory: str | None = None) -> Any:
    """Jinja2's on-disk cache of compiled templates (by default in its own per-user folder,
    created private and refused when another user owns it) that treats an unreadable entry
    as missing; ``None`` where no cache can be had."""
    from jinja2 import FileSystemBytecodeCache

    class Cache(FileSystemBytecodeCache):
        def load_bytecode(self, bucket: Any) -> None:
            try:
                super().load_bytecode(bucket)
            except Exception:  # a damaged entry (disk full, another tool): compile again
                bucket.reset()

    try:
        return Cache(directory)
    except (OSError, RuntimeError):
        return None


@cache
def _bytecode_cache() -> Any:
    return open_bytecode_cache()


@lru_cache(maxsize=256)
def _compile(body: str) -> Any:
    """Compiled bodies, cached in the process and on disk: compiling a template costs more
    than the rest of ``new``'s work. The disk entry is keyed by the body's checksum, the host's
    version (the environment's settings shape the code) and Jinja2's and Python's versions."""
    from flowtime_sim import __version__

    env = _environment()
    disk = _bytecode_cache()
    if disk is None:
        return env.from_string(body)
    digest = hashlib.sha256(body.encode("utf-8", "surrogatepass")).hexdigest()
    bucket = disk.get_bucket(env, f"flowtime-sim/{__version__}/bounded/{digest}", None, body)
    if bucket.code is None:
        bucket.code = env.compile(body)  # exactly what from_string compiles
        with contextlib.suppress(OSError):
            disk.set_bucket(bucket)
    return env.template_class.from_code(env, bucket.code, env.make_globals(None), None)


def render_jinja(template: Template, values: dict[str, Any]) -> str:
    """Render ``template``'s body with ``values``; failures become a :class:`TemplateError`
    naming the template, its version and the line."""
    from jinja2 import TemplateError as JinjaError
    from jinja2 import TemplateSyntaxError
    from jinja2.exceptions import SecurityError

    where = f"template {template.id} {template.version}"
    try:
        # Compiling folds constant expressions (filters included), so it is bounded too.
        with jinja_limits.budget():
            compiled = _compile(template.read_body())
            return jinja_limits.collect(
                compiled.generate(
                    **values, template={"id": template.id, "version": template.version}
                )
            )
    except TemplateSyntaxError as exc:
        raise TemplateError(f"{where} line {exc.lineno}: syntax error: {exc.message}") from None
    except SecurityError as exc:
        raise TemplateError(f"{where} line {_line(exc)}: refused by the sandbox: {exc}") from None
    except jinja_limits.RenderLimitError as exc:
        line = _line(exc)  # none for the size of the whole output
        raise TemplateError(f"{where}{'' if line == '?' else f' line {line}'}: {exc}") from None
    except RecursionError:
        raise TemplateError(f"{where}: macros call each other too deeply") from None
    except (JinjaError, ValueError, TypeError, ArithmeticError) as exc:
        raise TemplateError(f"{where} line {_line(exc)}: {exc}") from None


def _line(exc: BaseException) -> str:
    """The template line of a render-time failure, from Jinja's rewritten traceback."""
    line = "?"
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == "<template>":
            line = str(tb.tb_lineno)
        tb = tb.tb_next
    return line


@hookimpl
def flowtime_render_template(template: Template, parameters: ResolvedParameters) -> str | None:
    if template.format != "jinja2":
        return None
    return render_jinja(template, dict(parameters.values))
