"""The plugin host: entry-point discovery, API ranges, broken packs, strict mode, env vars.

Packs are fake distributions (``tests/fixtures/fakepacks``, installed by the ``fake_dist``
fixture) that :mod:`importlib.metadata` finds exactly like installed ones.
"""

from __future__ import annotations

import sys
from types import SimpleNamespace

import pytest
from fakepack_messages import BROKEN

from flowtime_sim import hookimpl
from flowtime_sim.errors import PluginError, UserError
from flowtime_sim.plugins import (
    BUILTIN_PLUGINS,
    PluginHost,
    PluginRecord,
    create_plugin_host,
    get_plugin_host,
)
from flowtime_sim.templates import TemplateIndex
from flowtime_sim.types import PackInfo, Template, TemplateManifest


def record(host: PluginHost, name: str) -> PluginRecord:
    (found,) = [r for r in host.records if r.name == name]
    return found


def templates_of(host: PluginHost, plugin: str) -> list[str]:
    index = TemplateIndex.collect(host)
    return sorted(
        f"{t.id} {t.version}" for vs in index.by_id.values() for t in vs if t.plugin == plugin
    )


def test_builtin_plugins_are_loaded_like_packs(host: PluginHost) -> None:
    builtins = [r for r in host.records if r.dist is None]
    assert [(r.name, r.status, r.detail) for r in builtins] == [
        (name, "loaded", "") for name, _ in BUILTIN_PLUGINS
    ]
    assert host.failures() == []
    assert all(host.pm.has_plugin(name) for name, _ in BUILTIN_PLUGINS)


@pytest.mark.parametrize("package", sorted(BROKEN))
def test_a_broken_pack_is_recorded_and_skipped(fake_dist, package: str) -> None:
    fake_dist(package)
    fake_dist("pack_a")
    host = create_plugin_host()
    status, detail = BROKEN[package]
    rec = record(host, package)
    assert (rec.status, rec.detail) == (status, detail)
    assert rec.dist == PackInfo(f"flowtime-pack-{package.replace('_', '-')}", "1.0")
    assert host.failures() == [rec]
    assert not host.pm.has_plugin(package)
    # The host survives: built-ins and the healthy pack still work.
    assert record(host, "pack_a").status == "loaded"
    assert templates_of(host, "pack_a") == ["hello 1.0.0"]


@pytest.mark.parametrize("package", sorted(BROKEN))
def test_strict_makes_a_broken_pack_fatal(fake_dist, package: str) -> None:
    fake_dist(package)
    status, detail = BROKEN[package]
    with pytest.raises(PluginError) as err:
        create_plugin_host(strict=True)
    assert str(err.value) == f"plugin {package!r} {status}: {detail}"
    assert err.value.pack == package


@pytest.mark.parametrize(
    ("value", "fatal"), [("1", True), ("true", True), ("0", False), ("false", False), ("", False)]
)
def test_strict_from_the_environment(
    fake_dist, monkeypatch: pytest.MonkeyPatch, value: str, fatal: bool
) -> None:
    fake_dist("broken_import")
    monkeypatch.setenv("FLOWTIME_SIM_STRICT", value)
    if fatal:
        with pytest.raises(PluginError) as err:
            create_plugin_host()
        assert str(err.value) == (
            "plugin 'broken_import' failed: import failed: RuntimeError: "
            "broken_import needs a licence key"
        )
    else:
        assert record(create_plugin_host(), "broken_import").status == "failed"


@pytest.mark.parametrize(
    "package", ["future_api_static", "future_api_python", "no_api_static", "static_only", "pack_a"]
)
def test_packs_with_a_manifest_are_judged_without_importing_them(fake_dist, package: str) -> None:
    # Each of these packages raises ImportError when imported.
    fake_dist(package)
    host = create_plugin_host()
    assert "import failed" not in record(host, package).detail
    assert package not in sys.modules


def test_a_static_pack_lists_and_renders_without_being_imported(fake_dist) -> None:
    from flowtime_sim.core import Flowtime

    fake_dist("static_only")
    host = create_plugin_host()
    rec = record(host, "static_only")
    assert (rec.status, rec.static, rec.as_dict()["imported"]) == ("loaded", True, False)
    assert templates_of(host, "static_only") == [
        "greeting 1.0.0",
        "greeting 1.10.0",
        "greeting 1.2.0",
    ]
    rendered = Flowtime(host=host).render("greeting")
    assert rendered.template.pack == PackInfo("flowtime-pack-static-only", "1.0")
    assert [n.id for n in rendered.model.nodes] == ["level"]
    assert "static_only" not in sys.modules


def test_a_python_pack_provides_templates_with_templates_from_package(fake_dist) -> None:
    site = fake_dist("python_pack")
    host = create_plugin_host()
    rec = record(host, "python_pack")
    assert (rec.status, rec.static, rec.detail) == ("loaded", False, "")
    assert "python_pack" in sys.modules  # "python = true" in its manifest: it is imported
    (tpl,) = TemplateIndex.collect(host).by_id["python-hello"]
    assert (tpl.version, tpl.plugin, tpl.format) == ("0.1.0", "python_pack", "jinja2")
    assert tpl.pack == PackInfo("flowtime-pack-python-pack", "1.0")
    assert tpl.origin == str(site / "python_pack" / "templates" / "python-hello" / "model.yaml.j2")


def test_record_as_dict() -> None:
    rec = PluginRecord("pack_a", PackInfo("flowtime-pack-a", "1.2"), "refused", "why", True)
    assert rec.as_dict() == {
        "name": "pack_a",
        "distribution": {"name": "flowtime-pack-a", "version": "1.2"},
        "status": "refused",
        "detail": "why",
        "imported": False,
    }
    assert PluginRecord("builtin-x", None, "loaded").as_dict()["distribution"] is None


@pytest.mark.parametrize(
    ("package", "problem"),
    [
        (
            "discovery_raises",
            "plugin 'discovery_raises': flowtime_templates failed: OSError: "
            "templates folder is unreadable",
        ),
        (
            "discovery_dict",
            "plugin 'discovery_dict': flowtime_templates failed: returned a dict, "
            "not a list of Template objects",
        ),
    ],
)
def test_a_failing_discovery_hook_loses_only_that_packs_templates(
    fake_dist, package: str, problem: str
) -> None:
    fake_dist(package)
    fake_dist("pack_a")
    host = create_plugin_host()
    assert record(host, package).status == "loaded"
    index = TemplateIndex.collect(host)
    assert index.problems == [problem]
    assert [t.plugin for t in index.by_id["hello"]] == ["pack_a"]
    with pytest.raises(PluginError) as err:
        TemplateIndex.collect(create_plugin_host(strict=True))
    assert str(err.value) == problem
    assert (err.value.pack, err.value.hook) == (package, "flowtime_templates")


def test_a_static_pack_without_its_templates_folder(fake_dist) -> None:
    site = fake_dist(
        "no_folder",
        {
            "no_folder/__init__.py": "",
            "no_folder/flowtime_pack.toml": 'plugin_api = ">=1,<2"\ntemplates = "tpl"\n',
        },
    )
    assert TemplateIndex.collect(create_plugin_host()).problems == [
        f"plugin 'no_folder': flowtime_templates failed: ValueError: templates folder "
        f"{site / 'no_folder' / 'tpl'} does not exist"
    ]


def test_a_discovery_hook_returning_other_objects_in_a_list_is_refused() -> None:
    class Pack:
        @hookimpl
        def flowtime_templates(self) -> list[object]:
            return [{"id": "hello"}]

    host = create_plugin_host(load_entry_points=False, plugins=[("dicts", Pack())])
    assert TemplateIndex.collect(host).problems == [
        "plugin 'dicts': flowtime_templates failed: returned a dict among its templates, "
        "not a Template"
    ]


def test_same_template_id_from_two_packs_needs_the_pack_name(fake_dist) -> None:
    fake_dist("pack_a")
    fake_dist("pack_b")
    index = TemplateIndex.collect(create_plugin_host())
    assert index.providers("hello") == ["pack_a", "pack_b"]
    assert index.get("pack_a:hello").manifest.title == "Hello from A"
    assert index.get("pack_b:hello").manifest.title == "Hello from B"
    assert index.get("pack_b:hello", "2.0.0").version == "2.0.0"
    with pytest.raises(UserError) as err:
        index.get("hello")
    assert str(err.value) == (
        "template id 'hello' is provided by several packs (pack_a, "
        "pack_b); choose one of: pack_a:hello, pack_b:hello"
    )
    assert err.value.field == "template"
    assert index.problems == []


def test_disabled_plugins_are_not_loaded(fake_dist, monkeypatch: pytest.MonkeyPatch) -> None:
    fake_dist("broken_import")
    fake_dist("pack_a")
    monkeypatch.setenv("FLOWTIME_SIM_DISABLE_PLUGINS", " broken_import,builtin-preview,, pack_a")
    host = create_plugin_host(strict=True)  # a disabled pack is not a failure
    for name, dist in [
        ("broken_import", PackInfo("flowtime-pack-broken-import", "1.0")),
        ("builtin-preview", None),
        ("pack_a", PackInfo("flowtime-pack-pack-a", "1.0")),
    ]:
        assert record(host, name) == PluginRecord(
            name, dist, "disabled", "listed in FLOWTIME_SIM_DISABLE_PLUGINS"
        )
        assert not host.pm.has_plugin(name)
    assert host.failures() == []
    assert "hello" not in TemplateIndex.collect(host).by_id
    assert record(host, "builtin-jinja2").status == "loaded"


def test_trace_writes_plugin_loading_and_hook_calls_to_stderr(
    fake_dist, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    fake_dist("pack_a")
    fake_dist("broken_import")
    create_plugin_host()
    assert capsys.readouterr().err == ""
    monkeypatch.setenv("FLOWTIME_SIM_TRACE_PLUGINS", "1")
    host = create_plugin_host()
    host.collect("flowtime_storage_backends")
    host.collect("flowtime_templates")
    err = capsys.readouterr().err
    assert "builtin-jinja2 (built in) loaded [plugin]\n" in err
    assert "pack_a (flowtime-pack-pack-a 1.0) loaded [plugin]\n" in err
    assert (
        "broken_import (flowtime-pack-broken-import 1.0) failed import failed: "
        "RuntimeError: broken_import needs a licence key [plugin]\n"
    ) in err
    assert "flowtime_storage_backends [hook]" in err
    assert "flowtime_templates [hook]" in err


def test_invalid_hook_signature_is_one_line() -> None:
    plugin = SimpleNamespace(flowtime_render_template=hookimpl(lambda template, params: None))
    host = create_plugin_host(load_entry_points=False, plugins=[("odd", plugin)])
    assert record(host, "odd").detail == (
        "invalid hook implementation: Plugin 'odd' for hook 'flowtime_render_template'; "
        "hookimpl definition: <lambda>(template, params); Argument(s) {'params'} are declared "
        "in the hookimpl but can not be found in the hookspec"
    )


def test_invalid_plugin_api_range(fake_dist) -> None:
    fake_dist(
        "odd_range",
        {
            "odd_range/__init__.py": "",
            "odd_range/flowtime_pack.toml": 'plugin_api = "one or two"\n',
        },
    )
    assert record(create_plugin_host(), "odd_range").detail == (
        "pack 'odd_range' (flowtime-pack-odd-range 1.0) declares an invalid plugin-API range "
        "'one or two'; use a PEP 440 range such as \">=1,<2\""
    )


def test_an_unreadable_pack_manifest(fake_dist) -> None:
    site = fake_dist(
        "bad_toml",
        {
            "bad_toml/__init__.py": "raise ImportError('not imported')",
            "bad_toml/flowtime_pack.toml": "plugin_api = >=1\n",
        },
    )
    rec = record(create_plugin_host(), "bad_toml")
    assert (rec.status, rec.detail) == (
        "failed",
        f"cannot read {site / 'bad_toml' / 'flowtime_pack.toml'}: Invalid value "
        "(at line 1, column 14)",
    )


def test_a_taken_plugin_name_is_refused() -> None:
    class Pack:
        @hookimpl
        def flowtime_templates(self) -> list[Template]:
            manifest = TemplateManifest(id="x", version="1.0.0", title="X")
            return [Template(manifest, read_body=lambda: "")]

    host = create_plugin_host(
        load_entry_points=False,
        plugins=[("builtin-jinja2", Pack()), ("twice", Pack()), ("twice", Pack())],
    )
    failed = [(r.name, r.detail) for r in host.failures()]
    assert failed == [
        (
            "builtin-jinja2",
            "plugin name 'builtin-jinja2' is already taken by a built-in "
            "plugin; uninstall one of the two distributions",
        ),
        (
            "twice",
            "plugin name 'twice' is already taken by a built-in plugin; uninstall one of "
            "the two distributions",
        ),
    ]
    assert [t.plugin for t in TemplateIndex.collect(host).by_id["x"]] == ["twice"]


def test_a_pack_entry_point_name_taken_by_another_distribution(fake_dist) -> None:
    fake_dist("pack_a")
    fake_dist("pack_b", entry_points={"pack_a": "pack_b"})
    host = create_plugin_host()
    records = [r for r in host.records if r.name == "pack_a"]
    assert sorted(r.status for r in records) == ["failed", "loaded"]
    (ok,) = [r for r in records if r.status == "loaded"]
    (bad,) = [r for r in records if r.status == "failed"]
    assert ok.dist is not None
    assert bad.detail == (
        f"plugin name 'pack_a' is already taken by {ok.dist.name} 1.0; "
        "uninstall one of the two distributions"
    )


def test_the_process_wide_host_is_built_once() -> None:
    assert get_plugin_host() is get_plugin_host()
