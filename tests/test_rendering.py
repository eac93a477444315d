"""Rendering: the Jinja2 sandbox, strict undefined names, YAML-safe values, model validation."""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from flowtime_sim import hookimpl
from flowtime_sim.builtin.jinja import render_jinja, repeat_to
from flowtime_sim.errors import ParameterError, PluginError, TemplateError
from flowtime_sim.plugins import PluginHost, create_plugin_host
from flowtime_sim.rendering import render, resolve_parameters
from flowtime_sim.types import (
    ParameterSources,
    ResolvedParameters,
    Template,
    TemplateManifest,
)

WHERE = "template evil 1.2.3"
MODEL = """\
schemaVersion: 1
grid: {bins: {{ bins }}, binSize: 60, binUnit: minutes}
nodes:
  - {id: level, kind: const, values: {{ repeat_to([level], bins) }}}
outputs:
  - {series: level, as: {{ filename }}}
"""
SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "bins": {"type": "integer", "minimum": 1, "default": 3},
        "level": {"type": "number", "default": 2.5},
        "filename": {"type": "string", "default": "level.csv"},
    },
}


def template(
    body: str,
    tid: str = "evil",
    version: str = "1.2.3",
    parameters: dict[str, Any] | None = None,
    fmt: str = "jinja2",
) -> Template:
    manifest = TemplateManifest(
        id=tid, version=version, title="T", parameters=parameters or {"type": "object"}
    )
    return Template(manifest, read_body=lambda: body, format=fmt)


def rendered_text(body: str, **values: Any) -> str:
    return render_jinja(template(body), values)


@pytest.fixture
def bare_host() -> PluginHost:
    return create_plugin_host(load_entry_points=False)


# -- the sandbox ----------------------------------------------------------------------------

REFUSED = "refused by the sandbox: "
NO_FILES = REFUSED + "templates cannot include, import or extend other files"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            "a: 1\nb: {{ x.__class__ }}",
            f"line 2: {REFUSED}access to attribute '__class__' of 'str' object is unsafe.",
        ),
        (
            "b: {{ ''.__class__.__mro__[1].__subclasses__() }}",
            f"line 1: {REFUSED}access to attribute '__class__' of 'str' object is unsafe.",
        ),
        (
            "\n\nb: {{ repeat_to.__globals__ }}",
            f"line 3: {REFUSED}access to attribute '__globals__' of 'function' object is unsafe.",
        ),
        (
            "b: {{ range.__self__.open('/etc/passwd') }}",
            "line 1: 'function object' has no attribute '__self__'",
        ),
        (
            "b: {{ x|attr('__class__') }}",
            f"line 1: {REFUSED}access to attribute '__class__' of 'str' object is unsafe.",
        ),
        (
            "b: {{ x.__len__() }}",
            f"line 1: {REFUSED}access to attribute '__len__' of 'str' object is unsafe.",
        ),
        (
            "{% if x.__class__ %}a: 1{% endif %}",
            f"line 1: {REFUSED}access to attribute '__class__' of 'str' object is unsafe.",
        ),
        (
            "b: {{ template.__class__ }}",
            f"line 1: {REFUSED}access to attribute '__class__' of 'dict' object is unsafe.",
        ),
        ("a: 1\n\n\n{% include '/etc/passwd' %}", f"line 4: {NO_FILES} ('/etc/passwd')"),
        ("{% import 'os' as os %}\n{{ os.system('id') }}", f"line 1: {NO_FILES} ('os')"),
        ("{% from 'os' import system %}", f"line 1: {NO_FILES} ('os')"),
        ("{% extends '/etc/hosts' %}", f"line 1: {NO_FILES} ('/etc/hosts')"),
        ("a: {{ __import__('os').system('id') }}", "line 1: '__import__' is undefined"),
        ("a: {{ lipsum.__globals__ }}", "line 1: 'lipsum' is undefined"),
        ("a: {{ cycler }}", "line 1: 'cycler' is undefined"),
        ("a: {{ self }}", "line 1: cannot insert a TemplateReference into a model"),
        (
            "{% for i in range(10**9) %}{% endfor %}",
            "line 1: Range too big. The sandbox blocks ranges larger than MAX_RANGE (100000).",
        ),
    ],
)
def test_the_sandbox_refuses(body: str, message: str) -> None:
    with pytest.raises(TemplateError) as err:
        rendered_text(body, x="text")
    assert str(err.value) == f"{WHERE} {message}"


def test_an_immutable_sandbox() -> None:
    with pytest.raises(TemplateError) as err:
        rendered_text("{% set _ = items.append(4) %}a: {{ items }}", items=[1, 2])
    assert str(err.value) == (
        f"{WHERE} line 1: {REFUSED}access to attribute 'append' of 'list' object is unsafe."
    )


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("grid:\n  bins: {{ bins }}\n", "line 2: 'bins' is undefined"),
        ("a: 1\nb: {{ x.missing }}", "line 2: 'str object' has no attribute 'missing'"),
        ("a: 1\n\nb: {% for v in values %}{{ v }}{% endfor %}", "line 3: 'values' is undefined"),
        ("a: {{ nothing | round }}", "line 1: 'nothing' is undefined"),
        ("a: {{ nothing | abs }}", "line 1: 'nothing' is undefined"),
        ("a: {{ range(nothing) }}", "line 1: 'nothing' is undefined"),
        ("a: {{ x + 1 }}", 'line 1: can only concatenate str (not "int") to str'),
        ("a: {{ 1 / 0 }}", "line 1: division by zero"),
        ("a: {{ repeat_to([], 3) }}", "line 1: repeat_to needs at least one value"),
        ("a: {{ 1.0 / 3 * inf }}", "line 1: 'inf' is undefined"),
        (
            "a: {{ x",
            "line 1: syntax error: unexpected end of template, expected 'end of print statement'.",
        ),
        (
            "a: 1\n{% for %}",
            "line 2: syntax error: Expected an expression, got 'end of statement block'",
        ),
    ],
)
def test_template_bugs_name_template_version_and_line(body: str, message: str) -> None:
    with pytest.raises(TemplateError) as err:
        rendered_text(body, x="text")
    assert str(err.value) == f"{WHERE} {message}"


def test_only_the_host_helpers_are_visible() -> None:
    text = rendered_text(
        "r: {{ range(3) | list }}\nt: {{ repeat_to([1, 2], 5) }}\n"
        "id: {{ template.id }}\nversion: {{ template.version }}\n"
    )
    assert yaml.safe_load(text) == {
        "r": [0, 1, 2],
        "t": [1, 2, 1, 2, 1],
        "id": "evil",
        "version": "1.2.3",
    }
    assert repeat_to(["a"], 2.0) == ["a", "a"]  # type: ignore[arg-type]


def test_node_id_filter_prints_checked_ids_bare() -> None:
    body = (
        "nodes:\n{% for i in range(2) %}  - {id: {{ ('stage_' ~ i) | node_id }}, kind: const}\n"
        "{% endfor %}"
    )
    assert yaml.safe_load(rendered_text(body)) == {
        "nodes": [{"id": "stage_0", "kind": "const"}, {"id": "stage_1", "kind": "const"}]
    }
    with pytest.raises(TemplateError) as err:
        rendered_text("id: {{ x | node_id }}", x="a: b\nnodes: []")
    assert str(err.value) == (
        f"{WHERE} line 1: 'a: b\\nnodes: []' is not a valid node id ([A-Za-z_][A-Za-z0-9_]*)"
    )


def test_namespace_and_dict_are_available_but_immutable() -> None:
    body = (
        "{% set ns = namespace(total=0) %}{% for v in values %}"
        "{% set ns.total = ns.total + v %}{% endfor %}total: {{ ns.total }}\n"
        "d: {{ dict(a=1) }}\n"
    )
    assert yaml.safe_load(rendered_text(body, values=[1, 2, 3])) == {"total": 6, "d": {"a": 1}}
    with pytest.raises(
        TemplateError,
        match="refused by the sandbox: access to attribute 'update' of 'dict' object is unsafe",
    ):
        rendered_text("{% set d = dict(a=1) %}{{ d.update(b=2) }}")


# -- YAML-safe insertion --------------------------------------------------------------------

NASTY = [
    "x\nnodes: []",
    "quote \" and ' apostrophe",
    "key: value",
    "{{ bins }} {% raw %}",
    "# not a comment",
    "line\u2028separator\u2029paragraph\x85next",
    "- a list item?",
    "&anchor *alias !!python/object:os.system",
    "",
    " ",
    "null",
    "true",
    "1e3",
    "0x10",
    "~",
    "[1, 2]",
    "{a: 1}",
    "\\",
    "\t\r\n",
]


@pytest.mark.parametrize("label", NASTY)
def test_a_string_value_never_changes_the_structure(label: str) -> None:
    body = "name: {{ label }}\nitems: [{{ label }}, {{ n }}]\nnested: {k: {{ label }}}\nnodes: []\n"
    text = rendered_text(body, label=label, n=2)
    assert yaml.safe_load(text) == {
        "name": label,
        "items": [label, 2],
        "nested": {"k": label},
        "nodes": [],
    }


@settings(deadline=None)  # renders a template per example; CI machines can be slow
@given(
    st.text(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.lists(st.integers() | st.text(max_size=5), max_size=4),
)
def test_any_value_keeps_its_place(label: str, number: float, items: list[Any]) -> None:
    text = rendered_text(
        "a: {{ label }}\nb: {{ number }}\nc: {{ items }}\n", label=label, number=number, items=items
    )
    assert yaml.safe_load(text) == {"a": label, "b": number, "c": items}


def test_a_non_finite_value_is_a_template_error() -> None:
    with pytest.raises(TemplateError) as err:
        rendered_text("a: 1\nb: {{ v }}", v=float("nan"))
    assert str(err.value) == f"{WHERE} line 2: nan is not a finite number"


def test_end_to_end_a_hostile_string_stays_one_value(bare_host: PluginHost) -> None:
    tpl = template(MODEL, parameters=SCHEMA)
    hostile = "x.csv}\nnodes:\n  - {id: evil, kind: const, values: [1]}\n# : {{ }}\u2028"
    params = resolve_parameters(bare_host, tpl, ParameterSources(sets={"filename": hostile}))
    result = render(bare_host, tpl, params)
    assert [n.id for n in result.model.nodes] == ["level"]
    assert [(o.series, o.as_) for o in result.model.outputs] == [("level", hostile)]
    assert result.parameters.values == {"bins": 3, "level": 2.5, "filename": hostile}


# -- rendering through the hooks ------------------------------------------------------------


def test_render_validates_the_model(bare_host: PluginHost) -> None:
    tpl = template(MODEL, parameters=SCHEMA)
    result = render(bare_host, tpl, resolve_parameters(bare_host, tpl, ParameterSources()))
    assert result.model.grid.bins == 3
    assert result.text.startswith("schemaVersion: 1\ngrid: {bins: 3, binSize: 60")
    assert result.template is tpl


def test_an_invalid_model_is_the_templates_fault(bare_host: PluginHost) -> None:
    tpl = template(
        MODEL.replace("values: {{ repeat_to([level], bins) }}", "values: [1]"), parameters=SCHEMA
    )
    with pytest.raises(TemplateError) as err:
        render(bare_host, tpl, resolve_parameters(bare_host, tpl, ParameterSources()))
    assert str(err.value).startswith(f"{WHERE} rendered an invalid model: ")
    assert "level" in str(err.value)


def test_parameter_errors_come_from_the_resolver(bare_host: PluginHost) -> None:
    tpl = template(MODEL, parameters=SCHEMA)
    with pytest.raises(ParameterError) as err:
        resolve_parameters(bare_host, tpl, ParameterSources(sets={"bins": 0}))
    assert err.value.problems == [f"parameter 'bins' = 0 is below the minimum 1 ({WHERE})"]


def test_no_renderer_for_a_format(bare_host: PluginHost) -> None:
    tpl = template("x", fmt="mustache")
    with pytest.raises(PluginError) as err:
        render(bare_host, tpl, ResolvedParameters("evil", "1.2.3", {}))
    assert str(err.value) == "no renderer for template format 'mustache' (template evil)"
    assert err.value.hook == "flowtime_render_template"


def test_a_plugin_renderer_comes_first_and_its_crash_is_a_plugin_error() -> None:
    class Upper:
        @hookimpl(tryfirst=True)
        def flowtime_render_template(
            self, template: Template, parameters: ResolvedParameters
        ) -> str | None:
            if template.format == "crash":
                raise RuntimeError("renderer exploded")
            return template.read_body().upper() if template.format == "upper" else None

    host = create_plugin_host(load_entry_points=False, plugins=[("upper", Upper())])
    params = ResolvedParameters("evil", "1.2.3", {})
    with pytest.raises(TemplateError, match="rendered an invalid model"):
        render(host, template("{{ x }}", fmt="upper"), params)
    with pytest.raises(PluginError) as err:
        render(host, template("", fmt="crash"), params)
    assert str(err.value) == (
        "plugin 'upper': flowtime_render_template failed: RuntimeError: renderer exploded"
    )
    assert (err.value.pack, err.value.hook) == ("upper", "flowtime_render_template")


def test_an_undefined_name_inside_a_list_is_named() -> None:
    with pytest.raises(TemplateError) as err:
        rendered_text("v: {{ repeat_to([level], 3) }}\n")
    assert str(err.value) == f"{WHERE} line 1: 'level' is undefined"


# -- the on-disk cache of compiled templates -------------------------------------------------


@pytest.fixture
def disk_cache(tmp_path, monkeypatch: pytest.MonkeyPatch):
    from flowtime_sim.builtin import jinja

    folder = tmp_path / "jinja-cache"
    folder.mkdir()
    cache = jinja.open_bytecode_cache(str(folder))
    monkeypatch.setattr(jinja, "_bytecode_cache", lambda: cache)
    jinja._compile.cache_clear()
    yield folder
    jinja._compile.cache_clear()


def test_compiled_templates_are_kept_on_disk_and_reused(disk_cache, monkeypatch) -> None:
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    from flowtime_sim.builtin import jinja

    fresh = render_jinja(template(MODEL), {"bins": 2, "level": 1, "filename": "x.csv"})
    assert len(list(disk_cache.iterdir())) == 1
    jinja._compile.cache_clear()  # as a new process would start
    compiled: list[str] = []
    real_compile = ImmutableSandboxedEnvironment.compile

    def counting(self, source, *args, **kwargs):
        compiled.append(source)
        return real_compile(self, source, *args, **kwargs)

    monkeypatch.setattr(ImmutableSandboxedEnvironment, "compile", counting)
    again = render_jinja(template(MODEL), {"bins": 2, "level": 1, "filename": "x.csv"})
    assert again == fresh and compiled == []
    render_jinja(template(MODEL + "# another body\n"), {"bins": 2, "level": 1, "filename": "x.csv"})
    assert len(compiled) == 1 and len(list(disk_cache.iterdir())) == 2


def test_a_damaged_cache_entry_is_compiled_again(disk_cache) -> None:
    from flowtime_sim.builtin import jinja

    values = {"bins": 2, "level": 1, "filename": "x.csv"}
    fresh = render_jinja(template(MODEL), values)
    (entry,) = disk_cache.iterdir()
    entry.write_bytes(entry.read_bytes()[:40])
    jinja._compile.cache_clear()
    assert render_jinja(template(MODEL), values) == fresh


def test_rendering_works_without_a_disk_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    from flowtime_sim.builtin import jinja

    monkeypatch.setattr(jinja, "_bytecode_cache", lambda: None)
    jinja._compile.cache_clear()
    try:
        text = render_jinja(template(MODEL), {"bins": 1, "level": 4, "filename": "y.csv"})
    finally:
        jinja._compile.cache_clear()
    assert "values: [4]" in text


def test_the_sandbox_holds_for_a_body_loaded_from_the_cache(disk_cache) -> None:
    from flowtime_sim.builtin import jinja

    body = "{{ ''.__class__.__mro__ }}"
    for _ in range(2):  # compiled, then loaded from disk
        with pytest.raises(TemplateError, match="refused by the sandbox"):
            render_jinja(template(body), {})
        jinja._compile.cache_clear()
