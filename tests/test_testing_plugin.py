"""The pack testing kit: ``check_pack``, the helpers, and the pytest fixtures.

Fixture tests run in this session (``flowtime_pack`` overridden to a fake distribution) or, where
the way the pack is named is under test, in an inner pytest session (``pytester``) over a
scaffolded project.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import pytest

from flowtime_sim import hookimpl
from flowtime_sim.errors import ParameterError, UserError
from flowtime_sim.plugins import create_plugin_host
from flowtime_sim.scaffold import create_pack
from flowtime_sim.testing import (
    HOSTILE_STRING,
    CheckedCase,
    FlowtimeCli,
    check_pack,
    declared_packs,
    find_entry_point,
    pack_host,
    render_template,
    run_template,
)
from flowtime_sim.types import PackInfo, Template, TemplateManifest

pytest_plugins = ["pytester"]

GOOD_BODY = """\
schemaVersion: 1
grid: {bins: {{ bins }}, binSize: 1, binUnit: hours}
nodes:
  - {id: level, kind: const, values: {{ repeat_to([level], bins) }}}
"""


def manifest(tid: str = "probe", **props: dict[str, Any]) -> TemplateManifest:
    properties = props or {
        "bins": {
            "type": "integer",
            "minimum": 1,
            "default": 2,
            "description": "Bins.",
            "examples": [3],
        },
        "level": {"type": "number", "default": 1.5, "description": "Level.", "examples": [0, 7]},
    }
    return TemplateManifest(
        id=tid,
        version="1.0.0",
        title=tid.title(),
        parameters={"type": "object", "properties": properties},
    )


class Pack:
    """A plugin serving fixed templates; ``render`` replaces the host's renderer for the
    ``probe-format`` template format."""

    def __init__(self, *templates: Template, render: Any = None) -> None:
        self.templates = list(templates)
        self.render = render

    @hookimpl
    def flowtime_templates(self) -> list[Template]:
        return self.templates

    @hookimpl
    def flowtime_render_template(self, template: Template, parameters: Any) -> str | None:
        if template.format != "probe-format":
            return None
        return str(self.render(template.read_body(), dict(parameters.values)))


def template(body: str = GOOD_BODY, *, fmt: str = "jinja2", **props: dict[str, Any]) -> Template:
    return Template(manifest=manifest(**props), read_body=lambda: body, format=fmt)


def host_with(pack: Pack, name: str = "probe-pack") -> Any:
    return create_plugin_host(load_entry_points=False, plugins=[(name, pack)])


def failures(pack: Pack) -> list[str]:
    return check_pack("probe-pack", host=host_with(pack), raise_on_failure=False).failures


# -- check_pack ------------------------------------------------------------------------------


def test_a_good_pack_passes_and_the_report_says_what_was_checked() -> None:
    report = check_pack("probe-pack", host=host_with(Pack(template())))
    assert report.ok
    assert report.pack == "probe-pack"
    assert report.templates == ["probe 1.0.0"]
    assert [c.case for c in report.cases] == ["defaults", "bins=3", "level=0", "level=7"]
    assert all(isinstance(c, CheckedCase) and c.template == "probe 1.0.0" for c in report.cases)
    assert report.cases[0].model.startswith("probe_") and report.cases[0].model.endswith("@v1")
    assert report.cases[0].run is not None and "-run_" in report.cases[0].run
    assert report.notes == []
    assert report.summary() == (
        "pack 'probe-pack': 1 template version(s), 4 parameter set(s) passed, 0 failure(s)"
    )


def test_without_runs() -> None:
    report = check_pack("probe-pack", host=host_with(Pack(template())), run=False)
    assert [c.run for c in report.cases] == [None] * 4


def test_every_version_of_every_template_is_checked() -> None:
    older = Template(
        manifest=TemplateManifest(id="probe", version="0.9.0", title="Old"),
        read_body=lambda: (
            "schemaVersion: 1\ngrid: {bins: 1, binSize: 1, "
            "binUnit: hours}\nnodes: [{id: a, kind: const, "
            "values: [1]}]\n"
        ),
    )
    report = check_pack("probe-pack", host=host_with(Pack(template(), older)))
    assert report.templates == ["probe 0.9.0", "probe 1.0.0"]


def test_an_invalid_example_and_a_broken_model_are_both_reported() -> None:
    broken = template(
        bins={
            "type": "integer",
            "minimum": 1,
            "maximum": 5,
            "default": 2,
            "description": "Bins.",
            "examples": [9],
        },
        level={"type": "number", "default": 1, "description": "Level.", "examples": [-1]},
    )
    body = GOOD_BODY.replace(
        "{{ repeat_to([level], bins) }}",
        "[{% if level < 0 %}oops{% else %}{{ level }}, {{ level }}{% endif %}]",
    )
    broken = Template(manifest=broken.manifest, read_body=lambda: body)
    with pytest.raises(AssertionError) as err:
        check_pack("probe-pack", host=host_with(Pack(broken)))
    lines = str(err.value).splitlines()
    assert lines[0] == (
        "pack 'probe-pack': 1 template version(s), 1 parameter set(s) passed, 2 failure(s)"
    )
    assert lines[1] == (
        "  - probe 1.0.0 with bins=9: parameter 'bins' = 9 is above the "
        "maximum 5 (template probe 1.0.0)"
    )
    assert lines[2].startswith(
        "  - probe 1.0.0 with level=-1: template probe 1.0.0 rendered an invalid model: "
    )
    assert len(lines) == 3


def test_a_body_reading_names_that_are_not_parameters_fails() -> None:
    body = GOOD_BODY + "{% if level > 100 %}# {{ secret }} {{ os.environ }}{% endif %}\n"
    from flowtime_sim.builtin.jinja import _environment

    helpers = ", ".join(sorted([*_environment().globals, "template"]))
    assert "range" in helpers and "repeat_to" in helpers
    assert failures(Pack(template(body))) == [
        "probe 1.0.0: the body reads os (line 5), secret (line 5), which are not parameters; a "
        f"template may read only its parameters (bins, level) and {helpers}"
    ]
    alone = template("{{ secret }}\n" + GOOD_BODY.replace("[level]", "[1]") + "# {{ secret }}\n")
    assert failures(Pack(alone))[0] == (
        "probe 1.0.0: the body reads secret (lines 1, 6), which is not a parameter; a template "
        f"may read only its parameters (bins, level) and {helpers}"
    )


def test_names_the_body_sets_itself_are_not_reads_from_outside() -> None:
    # a {% set %} in each branch of an {% if %}, a loop variable, and the node_id filter
    body = GOOD_BODY.replace("[level]", "[fill]") + (
        '  - {id: {{ ("stage_" ~ bins) | node_id }}, kind: expr, expr: "level * 2"}\n'
    )
    body = (
        "{% if level > 1 %}{% set fill = level %}{% else %}{% set fill = 1 %}{% endif -%}\n"
        "{% for i in range(2) %}{% endfor -%}\n" + body
    )
    assert failures(Pack(template(body))) == []


def test_a_name_set_only_where_it_is_not_read_still_fails_the_render() -> None:
    body = "{% if level > 100 %}{% set fill = 1 %}{% endif -%}\n" + GOOD_BODY.replace(
        "[level]", "[fill]"
    )
    problems = failures(Pack(template(body)))
    assert problems and all("'fill' is undefined" in p for p in problems), problems


def test_the_template_name_and_version_may_be_read() -> None:
    body = GOOD_BODY + "# {{ template.id }} {{ template.version }}\n"
    assert failures(Pack(template(body))) == []


def test_cases_that_fail_alike_are_one_line() -> None:
    tpl = template(
        GOOD_BODY.replace("binUnit: hours", "binUnit: fortnights"),
        bins={"type": "integer", "default": 2, "description": "Bins.", "examples": [3, 4, 5, 6]},
        level={"type": "number", "default": 1},
    )
    (failure,) = failures(Pack(tpl))
    assert failure.startswith(
        "probe 1.0.0 with defaults, bins=3, bins=4 and 2 more (5 cases): "
        "template probe 1.0.0 rendered an invalid model: "
    )


def test_missing_descriptions_and_examples_are_noted() -> None:
    tpl = template(
        bins={"type": "integer", "default": 2},
        level={"type": "number", "default": 1, "description": "Level."},
    )
    report = check_pack("probe-pack", host=host_with(Pack(tpl)))
    assert report.notes == [
        "probe 1.0.0: parameter 'bins' has no description, examples",
        "probe 1.0.0: parameter 'level' has no examples",
    ]
    assert report.summary().splitlines()[1:] == [f"  note: {n}" for n in report.notes]


LABELLED = {
    "label": {"type": "string", "default": "shop", "description": "A label.", "examples": ["kiosk"]}
}
NAIVE_BODY = (
    "schemaVersion: 1\ngrid: {bins: 1, binSize: 1, binUnit: hours}\n"
    "nodes:\n  - {id: level, kind: const, values: [1]}\n"
    "outputs:\n  - {series: level, as: $label}\n"
)


def test_the_host_renderer_keeps_hostile_strings_plain() -> None:
    body = GOOD_BODY + "outputs:\n  - {series: level, as: {{ label }}}\n"
    props = {**LABELLED, "bins": {"type": "integer", "default": 2}}
    tpl = template(
        body, bins=props["bins"], label=props["label"], level={"type": "number", "default": 1}
    )
    assert failures(Pack(tpl)) == []
    import yaml

    text = render_template(host_with(Pack(tpl)), "probe", {"label": "x"}).text
    assert yaml.safe_load(text)["outputs"] == [{"series": "level", "as": "x"}]


def test_a_renderer_that_lets_a_string_change_the_structure_fails() -> None:
    import json

    tpl = template(NAIVE_BODY, fmt="probe-format", **LABELLED)

    def one_output_per_line(body: str, values: dict[str, Any]) -> str:
        outputs = "".join(
            f"  - {{series: level, as: {json.dumps(line + '.csv')}}}\n"
            for line in values["label"].splitlines()
        )
        return body[: body.index("outputs:")] + "outputs:\n" + outputs

    assert failures(Pack(tpl, render=one_output_per_line)) == [
        "probe 1.0.0: parameter 'label': a string value containing line breaks changed the "
        "model's structure; insert values with {{ name }}, never inside quotes"
    ]


def test_a_renderer_that_breaks_the_yaml_fails() -> None:
    tpl = template(NAIVE_BODY.replace("$label", '"$label"'), fmt="probe-format", **LABELLED)

    def naive(body: str, values: dict[str, Any]) -> str:
        return body.replace("$label", str(values["label"]))

    (problem,) = failures(Pack(tpl, render=naive))
    assert problem.startswith(
        "probe 1.0.0: parameter 'label': a string value containing quotes "
        "and line breaks makes the model invalid YAML ("
    )


def test_a_renderer_that_evaluates_values_as_templates_fails() -> None:
    import json
    import re

    from jinja2 import Environment

    tpl = template(NAIVE_BODY, fmt="probe-format", **LABELLED)

    def expanding(body: str, values: dict[str, Any]) -> str:
        # Expands {{ ... }} found in values: the bug the check exists for.
        value = re.sub(
            r"\{\{.*?\}\}", lambda m: Environment().from_string(m.group()).render(), values["label"]
        )
        return body.replace("$label", json.dumps(value))

    assert failures(Pack(tpl, render=expanding)) == [
        "probe 1.0.0: parameter 'label': a value containing {{ 7*7 }} was evaluated as a "
        "template expression"
    ]


def test_a_renderer_that_alters_values_fails() -> None:
    import json

    tpl = template(NAIVE_BODY, fmt="probe-format", **LABELLED)

    def first_line(body: str, values: dict[str, Any]) -> str:
        return body.replace("$label", json.dumps(values["label"].splitlines()[0]))

    assert failures(Pack(tpl, render=first_line)) == [
        "probe 1.0.0: parameter 'label': a string value was altered on its way into the model"
    ]


def test_a_renderer_that_crashes_on_hostile_strings_fails() -> None:
    import json

    tpl = template(NAIVE_BODY, fmt="probe-format", **LABELLED)

    def picky(body: str, values: dict[str, Any]) -> str:
        if "\n" in values["label"]:
            raise KeyError("newline")
        return body.replace("$label", json.dumps(values["label"]))

    assert failures(Pack(tpl, render=picky)) == [
        "probe 1.0.0: parameter 'label': a hostile string value crashed the renderer: "
        "KeyError: 'newline'"
    ]


def test_a_non_deterministic_template_fails() -> None:
    import itertools

    counter = itertools.count()
    tpl = template(NAIVE_BODY.replace("$label", "level$n.csv"), fmt="probe-format")

    def ticking(body: str, values: dict[str, Any]) -> str:
        return body.replace("$n", str(next(counter)))

    assert (
        "probe 1.0.0: rendering the defaults twice gave different models; a template must "
        "be deterministic" in failures(Pack(tpl, render=ticking))
    )


def test_hostile_string_is_hostile() -> None:
    assert "{{" in HOSTILE_STRING and "\n" in HOSTILE_STRING and '"' in HOSTILE_STRING
    assert "\u2028" in HOSTILE_STRING and "{% raw %}" in HOSTILE_STRING


def test_a_pack_that_did_not_load_fails_with_the_hosts_reason(fake_dist) -> None:
    fake_dist("future_api_static")
    report = check_pack("future_api_static", raise_on_failure=False)
    assert report.failures == [
        "pack 'future_api_static' refused: pack 'future_api_static' "
        "(flowtime-pack-future-api-static 1.0) supports plugin API >=2,<3 but this host "
        "provides 1.0; install a version of the pack that supports it, or a matching "
        "flowtime-sim"
    ]
    assert report.templates == []


def test_a_pack_without_templates_fails() -> None:
    assert failures(Pack()) == ["pack 'probe-pack' provides no templates"]


def test_without_a_pack_name_every_pack_in_the_host_is_checked() -> None:
    host = create_plugin_host(
        load_entry_points=False,
        plugins=[("one", Pack(template())), ("two", Pack(template(tid="other")))],
    )
    report = check_pack(host=host)
    assert report.pack is None
    assert report.templates == ["other 1.0.0", "probe 1.0.0"]
    assert report.summary().startswith("the packs under test: 2 template version(s)")


def test_check_pack_needs_a_pack_or_a_host() -> None:
    with pytest.raises(TypeError, match="check_pack needs the pack's entry-point name or a host"):
        check_pack()


@pytest.mark.parametrize("pack", ["checkout", "ecommerce"])
def test_the_first_party_packs_pass(pack: str) -> None:
    if not any(ep.name == pack for ep in entry_points(group="flowtime_sim")):
        pytest.skip(f"flowtime-pack-{pack} is not installed")
    assert check_pack(pack).ok


def test_pack_check_command(runner, fake_dist) -> None:
    from flowtime_sim.cli import main

    fake_dist("pack_a")
    result = runner.invoke(main, ["pack", "check", "pack_a"])
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines() == [
        "pack 'pack_a': 1 template version(s), 1 parameter set(s) passed, 0 failure(s)",
        "  note: hello 1.0.0: parameter 'bins' has no examples",
        "  note: hello 1.0.0: parameter 'level' has no examples",
    ]
    result = runner.invoke(main, ["pack", "check", "pack_a", "--no-run", "--json"])
    assert json.loads(result.stdout) == {
        "pack": "pack_a",
        "ok": True,
        "templates": ["hello 1.0.0"],
        "cases": 1,
        "failures": [],
        "notes": [
            "hello 1.0.0: parameter 'bins' has no examples",
            "hello 1.0.0: parameter 'level' has no examples",
        ],
        "warnings": [],
        "release": None,
    }


def test_pack_check_command_fails_with_every_failure(runner, fake_dist) -> None:
    from flowtime_sim.cli import main

    fake_dist("future_api_static")
    result = runner.invoke(main, ["pack", "check", "future_api_static"])
    assert result.exit_code == 1
    assert result.stdout.splitlines()[1].startswith(
        "  - pack 'future_api_static' refused: pack 'future_api_static' "
        "(flowtime-pack-future-api-static 1.0) supports plugin API >=2,<3"
    )
    result = runner.invoke(main, ["pack", "check", "nope"])
    assert result.exit_code == 1
    assert result.stderr.startswith("error: pack 'nope' is not installed; installed packs: ")


# -- finding the pack ------------------------------------------------------------------------


def test_an_installed_pack_is_found_by_its_entry_point(fake_dist) -> None:
    fake_dist("pack_a")
    ep = find_entry_point("pack_a")
    assert (ep.value, ep.dist.name if ep.dist else None) == ("pack_a", "flowtime-pack-pack-a")
    host = pack_host("pack_a")
    assert [(r.name, r.status) for r in host.records if r.dist] == [("pack_a", "loaded")]


def test_only_the_pack_under_test_is_loaded(fake_dist) -> None:
    fake_dist("pack_a")
    fake_dist("pack_b")
    host = pack_host("pack_b")
    assert [r.name for r in host.records if r.dist] == ["pack_b"]


def test_a_pack_declared_by_an_uninstalled_project_is_found(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = create_pack("demo", tmp_path / "demo").folder
    assert declared_packs(project) == {"demo": "flowtime_pack_demo"}
    monkeypatch.syspath_prepend(str(project / "src"))
    host = pack_host("demo", project_dir=project)
    (record,) = [r for r in host.records if r.name == "demo"]
    assert (record.status, record.dist) == ("loaded", PackInfo("flowtime-pack-demo", "0.1.0"))


def test_declared_packs_of_a_folder_without_pyproject(tmp_path: Path) -> None:
    assert declared_packs(tmp_path) == {}
    (tmp_path / "pyproject.toml").write_text("not [toml", encoding="utf-8")
    assert declared_packs(tmp_path) == {}


def test_an_unknown_pack_is_named_with_the_installed_ones(fake_dist, tmp_path: Path) -> None:
    fake_dist("pack_a")
    with pytest.raises(UserError) as err:
        find_entry_point("nope", tmp_path)
    assert str(err.value).startswith(
        f"pack 'nope' is not installed and {tmp_path / 'pyproject.toml'} does not declare it; "
        "installed packs: "
    )
    assert "pack_a" in str(err.value)
    assert str(err.value).endswith(
        " (the name is the entry point's name under [project.entry-points.flowtime_sim])"
    )


# -- helpers ---------------------------------------------------------------------------------


def test_render_and_run_a_template() -> None:
    host = host_with(Pack(template()))
    rendered = render_template(host, "probe", {"bins": 3, "level": 2})
    assert [n.id for n in rendered.model.nodes] == ["level"]
    assert run_template(host, "probe-pack:probe", {"bins": 3, "level": 2}) == {
        "level": [2.0, 2.0, 2.0]
    }
    with pytest.raises(ParameterError, match="parameter 'bins' = 0 is below the minimum 1"):
        run_template(host, "probe", {"bins": 0})


# -- fixtures, in this session ---------------------------------------------------------------


@pytest.fixture
def flowtime_pack(fake_dist) -> str:
    """The fixtures' documented override: name the pack in code."""
    fake_dist("pack_a")
    fake_dist("pack_b")  # installed too, but not under test
    return "pack_a"


def test_flowtime_host_holds_the_pack_under_test_only(flowtime_host) -> None:
    assert [(r.name, r.status) for r in flowtime_host.records if r.dist] == [("pack_a", "loaded")]
    assert check_pack(host=flowtime_host).templates == ["hello 1.0.0"]


def test_flowtime_root_is_the_default_root(flowtime_root: Path) -> None:
    import os

    assert flowtime_root.is_dir() and list(flowtime_root.iterdir()) == []
    assert os.environ["FLOWTIME_ARTIFACTS_ROOT"] == str(flowtime_root)


def test_flowtime_cli_sees_only_the_pack_under_test(
    flowtime_cli: FlowtimeCli, flowtime_root: Path
) -> None:
    assert [t["ref"] for t in flowtime_cli.json("templates")] == ["pack_a:hello"]
    result = flowtime_cli.invoke("templates show hello")
    assert result.exit_code == 0 and "Hello from A" in result.stdout
    created = flowtime_cli.json("new", "--template", "hello", "--set", "level=2")
    assert (flowtime_root / "models" / created["model_id"] / "v1" / "model.yaml").is_file()
    run = flowtime_cli.json(f"run --model {created['model_id']}")
    assert (flowtime_root / "runs" / run["run_id"] / "binned_v0.csv").is_file()


def test_flowtime_cli_strict_and_templates_dir_get_fresh_hosts(
    flowtime_cli: FlowtimeCli, tmp_path: Path
) -> None:
    upstream = Path(__file__).parent / "fixtures" / "upstream"
    assert flowtime_cli.invoke("--strict", "templates").exit_code == 0
    if upstream.is_dir():
        for _ in range(2):  # each command registers the folder into its own host
            result = flowtime_cli.invoke("templates", "--templates-dir", str(upstream))
            assert result.exit_code == 0, result.stderr


def test_flowtime_cli_json_reports_a_failed_command(flowtime_cli: FlowtimeCli) -> None:
    with pytest.raises(AssertionError) as err:
        flowtime_cli.json("new", "--template", "nope")
    assert str(err.value) == (
        "flowtime-sim new --template nope --json exited 1: error: unknown template 'nope'; "
        "available: hello (see 'flowtime-sim templates')"
    )


def test_flowtime_client(flowtime_client: Any) -> None:
    assert flowtime_client.get("/healthz").status_code == 200
    templates = flowtime_client.get("/sim/templates").json()
    assert "hello" in str(templates)


# -- fixtures, in an inner pytest session ----------------------------------------------------


@pytest.fixture
def scaffolded(pytester: pytest.Pytester) -> Iterator[Path]:
    """A scaffolded pack 'demo' as the inner session's project (not installed)."""
    create_pack("demo", pytester.path)
    before = set(sys.modules)
    yield pytester.path
    for name in set(sys.modules) - before:
        if name.startswith(("flowtime_pack_demo", "test_")):
            del sys.modules[name]


def test_the_scaffolded_tests_pass(scaffolded: Path, pytester: pytest.Pytester) -> None:
    pytester.runpytest().assert_outcomes(passed=4)


def test_the_marker_wins_over_the_ini_option(
    scaffolded: Path, pytester: pytest.Pytester, fake_dist
) -> None:
    fake_dist("pack_a")
    pytester.makepyfile(
        test_marker="""
        import pytest

        @pytest.mark.flowtime_pack("pack_a")
        def test_marked(flowtime_pack, flowtime_host):
            assert flowtime_pack == "pack_a"

        def test_unmarked(flowtime_pack):
            assert flowtime_pack == "demo"
    """
    )
    pytester.runpytest("test_marker.py").assert_outcomes(passed=2)


def test_the_one_declared_entry_point_is_used_without_the_ini_option(
    scaffolded: Path, pytester: pytest.Pytester
) -> None:
    pyproject = scaffolded / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text(encoding="utf-8").replace('flowtime_pack = "demo"\n', ""),
        encoding="utf-8",
    )
    pytester.runpytest().assert_outcomes(passed=4)


def test_an_unnamed_pack_is_a_clear_failure(pytester: pytest.Pytester) -> None:
    pytester.makepyprojecttoml("[project]\nname = 'nothing'\n")
    pytester.makepyfile("def test_it(flowtime_host):\n    pass\n")
    result = pytester.runpytest()
    result.assert_outcomes(errors=1)
    assert (
        f"which template pack should the flowtime_* fixtures load? "
        f"{pytester.path / 'pyproject.toml'} declares no flowtime_sim entry point; set "
        'flowtime_pack = "NAME" under [tool.pytest.ini_options], mark the test with '
        '@pytest.mark.flowtime_pack("NAME"), or override the flowtime_pack fixture; NAME '
        "is the entry point's name under [project.entry-points.flowtime_sim]"
    ) in result.stdout.str()


def test_a_project_with_several_packs_must_name_one(pytester: pytest.Pytester) -> None:
    pytester.makepyprojecttoml(
        "[project]\nname = 'two'\n[project.entry-points.flowtime_sim]\nb = 'pkg_b'\na = 'pkg_a'\n"
    )
    pytester.makepyfile("def test_it(flowtime_host):\n    pass\n")
    result = pytester.runpytest()
    result.assert_outcomes(errors=1)
    assert (
        f"which template pack should the flowtime_* fixtures load? "
        f"{pytester.path / 'pyproject.toml'} declares a, b; set flowtime_pack = "
    ) in result.stdout.str()


def test_a_refused_pack_fails_its_tests_with_the_hosts_reason(
    scaffolded: Path, pytester: pytest.Pytester
) -> None:
    manifest = scaffolded / "src" / "flowtime_pack_demo" / "flowtime_pack.toml"
    manifest.write_text('plugin_api = ">=2,<3"\ntemplates = "templates"\n', encoding="utf-8")
    result = pytester.runpytest()
    result.assert_outcomes(errors=4)
    result.stdout.fnmatch_lines(
        [
            "*pack 'demo' refused: pack 'demo' (flowtime-pack-demo 0.1.0) supports plugin API "
            ">=2,<3 but this host provides 1.0; install a version of the pack that supports it, or "
            "a matching flowtime-sim"
        ]
    )


def test_an_uninstalled_pack_off_the_test_path_is_explained(
    scaffolded: Path, pytester: pytest.Pytester
) -> None:
    pyproject = scaffolded / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text(encoding="utf-8").replace('pythonpath = ["src"]\n', ""),
        encoding="utf-8",
    )
    result = pytester.runpytest()
    result.assert_outcomes(errors=4)
    assert (
        "pack 'demo' failed: import failed: ModuleNotFoundError: No module named "
        "'flowtime_pack_demo'; the pack is not installed, so its source folder must be on "
        'the test path: add pythonpath = ["src"] under [tool.pytest.ini_options], or pip '
        "install -e ."
    ) in result.stdout.str()


def test_flowtime_client_skips_without_fastapi(scaffolded: Path, pytester: pytest.Pytester) -> None:
    pytester.makeconftest("import sys\nsys.modules['fastapi'] = None\n")
    pytester.makepyfile(test_client="def test_it(flowtime_client):\n    pass\n")
    result = pytester.runpytest("test_client.py", "-rs")
    result.assert_outcomes(skipped=1)
    result.stdout.fnmatch_lines(["*flowtime_client needs FastAPI, which the HTTP service runs on*"])


def test_the_plugin_is_registered_for_pytest() -> None:
    (ep,) = [ep for ep in entry_points(group="pytest11") if ep.name == "flowtime_sim"]
    assert ep.value == "flowtime_sim.testing.plugin"
