"""``plugins`` and ``doctor``: every kind of broken pack is shown with its reason; ``--strict``
(or FLOWTIME_SIM_STRICT=1) makes it fatal; FLOWTIME_SIM_DISABLE_PLUGINS and
FLOWTIME_SIM_TRACE_PLUGINS work through the CLI."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from click.testing import Result
from fakepack_messages import BROKEN

from flowtime_sim import PLUGIN_API_VERSION, __version__
from flowtime_sim.core import Flowtime
from flowtime_sim.errors import FlowtimeError
from flowtime_sim.plugins import BUILTIN_PLUGINS, create_plugin_host, get_plugin_host
from flowtime_sim.templates import TemplateIndex

Cli = Callable[..., Result]
SPELLINGS = ["flowtime-sim", "flowtime"]

BAD_BODY = """\
schemaVersion: 1
grid: {bins: {{ bins }}, binSize: 1, binUnit: hours}
nodes:
  - {id: level, kind: const, values: [1]}
"""


def fails(result: Result, message: str) -> None:
    assert result.exit_code == 1, result.output
    assert result.stderr == f"error: {message}\n"
    assert "Traceback" not in result.output


def healthy_count() -> int:
    """Template versions the installed packs provide (doctor renders every one)."""
    return sum(len(v) for v in TemplateIndex.collect(create_plugin_host()).by_id.values())


def hook_calls() -> int:
    """Doctor calls each plugin's implementation of every hook but the artifact-created one."""
    host = create_plugin_host()
    return sum(
        len(host.plugins_implementing(hook))
        for hook in host.hook_names()
        if hook != "flowtime_artifact_created"
    )


# -- plugins --------------------------------------------------------------------------------


@pytest.mark.parametrize("spelling", SPELLINGS)
def test_plugins_lists_builtins_and_installed_packs(cli: Cli, spelling: str) -> None:
    result = cli("plugins", spelling=spelling)
    assert result.exit_code == 0
    header, *rows = [line.split("\t") for line in result.stdout.splitlines()]
    assert header == ["plugin", "distribution", "status", "detail"]
    expected = [
        [r.name, f"{r.dist.name} {r.dist.version}" if r.dist else "(built in)", r.status, r.detail]
        for r in create_plugin_host().records
    ]
    assert rows == expected
    assert rows[: len(BUILTIN_PLUGINS)] == [
        [name, "(built in)", "loaded", ""] for name, _ in BUILTIN_PLUGINS
    ]


@pytest.mark.parametrize("package", sorted(BROKEN))
def test_plugins_shows_why_a_pack_was_skipped(cli: Cli, fake_dist, package: str) -> None:
    fake_dist(package)
    status, detail = BROKEN[package]
    result = cli("plugins")
    assert result.exit_code == 0
    rows = [line.split("\t") for line in result.stdout.splitlines()]
    assert [package, f"flowtime-pack-{package.replace('_', '-')} 1.0", status, detail] in rows
    records = json.loads(cli("plugins", "--json").stdout)
    assert {
        "name": package,
        "distribution": {"name": f"flowtime-pack-{package.replace('_', '-')}", "version": "1.0"},
        "status": status,
        "detail": detail,
        "imported": True,
        "problems": [],
    } in records


@pytest.mark.parametrize("package", sorted(BROKEN))
@pytest.mark.parametrize("command", ["plugins", "doctor", "templates"])
def test_strict_option_makes_it_fatal(cli: Cli, fake_dist, package: str, command: str) -> None:
    fake_dist(package)
    status, detail = BROKEN[package]
    fails(cli("--strict", command), f"plugin {package!r} {status}: {detail}")


@pytest.mark.parametrize("spelling", SPELLINGS)
@pytest.mark.parametrize("command", ["plugins", "doctor"])
def test_strict_environment_variable(
    cli: Cli, fake_dist, monkeypatch: pytest.MonkeyPatch, spelling: str, command: str
) -> None:
    fake_dist("future_api_module")
    monkeypatch.setenv("FLOWTIME_SIM_STRICT", "1")
    fails(
        cli(command, "--json", spelling=spelling),
        f"plugin 'future_api_module' refused: {BROKEN['future_api_module'][1]}",
    )


def test_plugins_json_of_a_static_pack(cli: Cli, fake_dist) -> None:
    fake_dist("pack_a")
    records = json.loads(cli("plugins", "--json").stdout)
    assert records[0] == {
        "name": "builtin-parameters",
        "distribution": None,
        "status": "loaded",
        "detail": "",
        "imported": True,
        "problems": [],
    }
    assert {
        "name": "pack_a",
        "distribution": {"name": "flowtime-pack-pack-a", "version": "1.0"},
        "status": "loaded",
        "detail": "",
        "imported": False,
        "problems": [],
    } in records


def test_disabled_plugins_are_listed_as_disabled(
    cli: Cli, fake_dist, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_dist("broken_import")
    fake_dist("pack_a")
    monkeypatch.setenv("FLOWTIME_SIM_DISABLE_PLUGINS", "broken_import,pack_a")
    rows = [line.split("\t") for line in cli("--strict", "plugins").stdout.splitlines()]
    assert [
        "broken_import",
        "flowtime-pack-broken-import 1.0",
        "disabled",
        "listed in FLOWTIME_SIM_DISABLE_PLUGINS",
    ] in rows
    assert [
        "pack_a",
        "flowtime-pack-pack-a 1.0",
        "disabled",
        "listed in FLOWTIME_SIM_DISABLE_PLUGINS",
    ] in rows
    assert "hello" not in cli("templates").stdout
    assert cli("doctor").exit_code == 0


def test_trace_goes_to_stderr(cli: Cli, fake_dist, monkeypatch: pytest.MonkeyPatch) -> None:
    fake_dist("pack_a")
    assert cli("plugins").stderr == ""
    monkeypatch.setenv("FLOWTIME_SIM_TRACE_PLUGINS", "1")
    get_plugin_host.cache_clear()  # a new process would build a new host
    result = cli("plugins")
    assert result.exit_code == 0
    assert "builtin-parameters (built in) loaded [plugin]\n" in result.stderr
    assert "pack_a (flowtime-pack-pack-a 1.0) loaded [plugin]\n" in result.stderr
    assert "[plugin]" not in result.stdout
    result = cli("new", "--template", "pack_a:hello", "--out", "m.yaml")
    assert "  flowtime_resolve_parameters [hook]\n" in result.stderr
    assert "  flowtime_render_template [hook]\n" in result.stderr


# -- doctor ---------------------------------------------------------------------------------


def _raising_pack(hook: str) -> str:
    """A pack module whose implementation of ``hook`` raises."""
    args = {
        "flowtime_templates": "",
        "flowtime_resolve_parameters": "template, sources",
        "flowtime_render_template": "template, parameters",
        "flowtime_render_preview": "model, title",
        "flowtime_storage_backends": "",
    }[hook]
    return (
        "from flowtime_sim import hookimpl\nFLOWTIME_SIM_PLUGIN_API = '>=1,<2'\n"
        f"@hookimpl\ndef {hook}({args}):\n    raise RuntimeError('{hook} is down')\n"
    )


@pytest.mark.parametrize(
    "hook",
    [
        "flowtime_templates",
        "flowtime_resolve_parameters",
        "flowtime_render_template",
        "flowtime_render_preview",
        "flowtime_storage_backends",
    ],
)
def test_doctor_calls_every_hook_of_every_pack(cli: Cli, fake_dist, hook: str) -> None:
    # The built-in plugins answer these hooks too; doctor still names the raising one.
    fake_dist("raising", {"raising/__init__.py": _raising_pack(hook)})
    fake_dist("pack_a")
    result = cli("doctor")
    assert result.exit_code == 1
    problems = [p for p in result.stdout.splitlines() if p.startswith("problem: ")]
    assert f"problem: plugin 'raising': {hook} failed: RuntimeError: {hook} is down" in problems
    # a raising resolver or renderer also fails every template it is asked for first
    assert all(f"plugin 'raising': {hook} failed" in p for p in problems)
    if hook in {"flowtime_render_preview", "flowtime_storage_backends", "flowtime_templates"}:
        assert len(problems) == 1


@pytest.mark.parametrize("spelling", SPELLINGS)
def test_doctor_healthy(cli: Cli, spelling: str) -> None:
    result = cli("doctor", spelling=spelling)
    plugins = len(create_plugin_host().records)
    assert (result.exit_code, result.stderr) == (0, "")
    assert result.stdout == (
        f"flowtime-sim {__version__}, plugin API {PLUGIN_API_VERSION}\n"
        f"{plugins} plugin(s), {hook_calls()} hook call(s), "
        f"{healthy_count()} template version(s) render with their "
        "defaults\nno problems found\n"
    )
    assert json.loads(cli("doctor", "--json").stdout) == {
        "version": __version__,
        "plugin_api": PLUGIN_API_VERSION,
        "plugins": plugins,
        "templates_checked": healthy_count(),
        "hooks_called": hook_calls(),
        "problems": [],
        "notes": [],
        "warnings": [],
    }


@pytest.mark.parametrize("package", sorted(BROKEN))
def test_doctor_reports_a_broken_pack(cli: Cli, fake_dist, package: str) -> None:
    fake_dist(package)
    status, detail = BROKEN[package]
    result = cli("doctor")
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines[2:] == [f"problem: plugin {package!r} {status}: {detail}", "1 problem(s)"]
    report = json.loads(cli("doctor", "--json").stdout)
    assert report["problems"] == [f"plugin {package!r} {status}: {detail}"]


@pytest.mark.parametrize("package", ["discovery_raises", "discovery_dict"])
def test_doctor_reports_a_broken_discovery_hook(cli: Cli, fake_dist, package: str) -> None:
    fake_dist(package)
    (problem,) = TemplateIndex.collect(create_plugin_host()).problems
    result = cli("doctor")
    assert result.exit_code == 1
    assert result.stdout.splitlines()[2:] == [f"problem: {problem}", "1 problem(s)"]


def test_doctor_renders_every_template_with_its_defaults(cli: Cli, fake_dist) -> None:
    fake_dist(
        "bad_template",
        {
            "bad_template/__init__.py": "",
            "bad_template/flowtime_pack.toml": 'plugin_api = ">=1,<2"\n',
            "bad_template/templates/short/template.yaml": (
                "id: short\nversion: 1.0.0\ntitle: Short\nparameters:\n  type: object\n"
                "  properties: {bins: {type: integer, default: 3}}\n"
            ),
            "bad_template/templates/short/model.yaml.j2": BAD_BODY,
        },
    )
    fake_dist("pack_a")
    with pytest.raises(FlowtimeError) as err:
        Flowtime(host=create_plugin_host()).render("bad_template:short")
    assert str(err.value).startswith("template short 1.0.0 rendered an invalid model: ")
    result = cli("doctor")
    assert result.exit_code == 1
    assert result.stdout.splitlines()[1:] == [
        f"{len(create_plugin_host().records)} plugin(s), {hook_calls()} hook call(s), "
        f"{healthy_count() - 1} template version(s) render with their defaults",
        f"problem: template bad_template:short 1.0.0: {err.value}",
        "1 problem(s)",
    ]
