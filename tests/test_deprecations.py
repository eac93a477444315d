"""Deprecated hooks warn when a pack implementing them is registered, and keep working."""

from __future__ import annotations

import warnings

import pytest

from flowtime_sim import hookimpl
from flowtime_sim.deprecations import (
    DEPRECATIONS,
    TEMPLATE_PACKS_HOOK,
    Deprecation,
    FlowtimeSimDeprecationWarning,
)
from flowtime_sim.plugins import create_plugin_host
from flowtime_sim.templates import TemplateIndex
from flowtime_sim.types import Template, TemplateManifest

MESSAGE = (
    "hook flowtime_template_packs is deprecated since plugin API 1.0 and will be removed "
    "in plugin API 2.0; use flowtime_templates instead (same arguments and return value: "
    "rename the function)"
)
BODY = """\
schemaVersion: 1
grid: {bins: 2, binSize: 1, binUnit: hours}
nodes:
  - {id: level, kind: const, values: [{{ level }}, {{ level }}]}
"""
LEGACY_PACK = f'''\
"""A pack written against the first name of the discovery hook."""

from flowtime_sim import Template, TemplateManifest, hookimpl

FLOWTIME_SIM_PLUGIN_API = ">=1,<2"
MANIFEST = TemplateManifest(id="legacy", version="1.0.0", title="Legacy", parameters={{
    "type": "object", "properties": {{"level": {{"type": "number", "default": 4}}}}}})


@hookimpl
def flowtime_template_packs():
    return [Template(manifest=MANIFEST, read_body=lambda: {BODY!r})]
'''


class LegacyPack:
    @hookimpl
    def flowtime_template_packs(self) -> list[Template]:
        manifest = TemplateManifest(id="legacy", version="1.0.0", title="Legacy")
        return [Template(manifest=manifest, read_body=lambda: BODY)]


def test_the_deprecation_message() -> None:
    assert TEMPLATE_PACKS_HOOK.message() == MESSAGE
    assert DEPRECATIONS == (TEMPLATE_PACKS_HOOK,)
    warning = TEMPLATE_PACKS_HOOK.warning()
    assert isinstance(warning, DeprecationWarning)
    assert str(warning) == MESSAGE
    assert Deprecation("x", "y", "1.2", "2.0").message() == (
        "x is deprecated since plugin API 1.2 and will be removed in plugin API 2.0; use y instead"
    )


def test_registering_a_pack_with_the_deprecated_hook_warns_and_it_still_works() -> None:
    host = create_plugin_host(load_entry_points=False)
    with pytest.warns(FlowtimeSimDeprecationWarning) as caught:
        host.register(LegacyPack(), "legacy-pack")
    assert [str(w.message) for w in caught] == [MESSAGE]
    assert caught[0].filename == __file__  # points at the pack's implementation
    assert host.records[-1].status == "loaded"
    index = TemplateIndex.collect(host)
    assert [(t.id, t.plugin) for t in index.latest()] == [("legacy", "legacy-pack")]


def test_a_failing_deprecated_hook_is_reported_under_its_own_name() -> None:
    class Broken:
        @hookimpl
        def flowtime_template_packs(self) -> list[Template]:
            raise RuntimeError("no templates today")

    host = create_plugin_host(load_entry_points=False)
    with pytest.warns(FlowtimeSimDeprecationWarning):
        host.register(Broken(), "broken")
    index = TemplateIndex.collect(host)
    assert index.problems == [
        "plugin 'broken': flowtime_template_packs failed: RuntimeError: no templates today"
    ]


def test_an_installed_legacy_pack_warns_renders_and_runs(fake_dist) -> None:
    fake_dist("legacy_pack", {"legacy_pack/__init__.py": LEGACY_PACK})
    with pytest.warns(FlowtimeSimDeprecationWarning, match="flowtime_template_packs"):
        host = create_plugin_host()
    from flowtime_sim.testing import run_template

    assert run_template(host, "legacy_pack:legacy")["level"] == [4.0, 4.0]


def test_current_hooks_do_not_warn() -> None:
    class Current:
        @hookimpl
        def flowtime_templates(self) -> list[Template]:
            return []

    host = create_plugin_host(load_entry_points=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        host.register(Current(), "current")
    assert host.records[-1].status == "loaded"


def test_warnings_as_errors_cannot_stop_the_host_and_the_warning_is_recorded() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        host = create_plugin_host(load_entry_points=False, plugins=[("legacy", LegacyPack())])
    record = next(r for r in host.records if r.name == "legacy")
    assert record.status == "loaded" and record.detail == MESSAGE
    assert [t.id for t in TemplateIndex.collect(host).latest()] == ["legacy"]


def test_doctor_notes_a_deprecated_hook(monkeypatch: pytest.MonkeyPatch) -> None:
    import json

    from click.testing import CliRunner

    import flowtime_sim.plugins as plugins
    from flowtime_sim.cli import main

    with pytest.warns(FlowtimeSimDeprecationWarning):
        host = create_plugin_host(plugins=[("legacy", LegacyPack())])
    monkeypatch.setattr(plugins, "get_plugin_host", lambda: host)
    report = json.loads(CliRunner().invoke(main, ["doctor", "--json"]).stdout)
    assert report["notes"] == [f"plugin 'legacy': {MESSAGE}"]
