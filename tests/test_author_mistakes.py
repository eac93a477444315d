"""Pack authors' mistakes caught where they are made, each through the command line and
through the testing kit: invalid parameter schemas, one unreadable manifest among several,
broken old versions, models that fail validation (located in the template), and input a
template refuses with ``fail()``."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result

from flowtime_sim import ParameterError
from flowtime_sim.core import Flowtime
from flowtime_sim.errors import InvalidModelError
from flowtime_sim.plugins import create_plugin_host
from flowtime_sim.testing import check_pack, pack_host
from flowtime_sim.types import ParameterSources

Cli = Callable[..., Result]

BODY = """\
schemaVersion: 1
grid: {bins: {{ bins }}, binSize: 1, binUnit: hours}
nodes:
  - {id: level, kind: const, values: {{ repeat_to([1], bins) }}}
"""
GOOD = """\
id: {tid}
version: {version}
title: T
parameters:
  type: object
  properties:
    bins: {{type: integer, minimum: 1, default: 2, description: Bins., examples: [3]}}
"""


def static_pack(fake_dist, package: str, templates: dict[str, tuple[str, str]]) -> Path:
    """A pack read from flowtime_pack.toml: folder -> (template.yaml, body)."""
    files = {
        f"{package}/__init__.py": "",
        f"{package}/flowtime_pack.toml": 'plugin_api = ">=1,<2"\n',
    }
    for folder, (manifest, body) in templates.items():
        files[f"{package}/templates/{folder}/template.yaml"] = manifest
        files[f"{package}/templates/{folder}/model.yaml.j2"] = body
    return Path(fake_dist(package, files)) / package / "templates"


# -- parameter schemas ----------------------------------------------------------------------

SCHEMAS = {
    "integr": (
        "    x: {type: integr, default: 2}\n",
        "parameters/properties/x/type: 'integr' is not a JSON Schema type; use one "
        "of array, boolean, integer, null, number, object, string",
    ),
    "required": (
        "    x: {type: integer, default: 2}\n  required: yes\n",
        "parameters/required: must be a list of parameter names, not 'yes'",
    ),
    "exclusive": (
        "    x: {type: integer, default: 2, exclusiveMinimum: true}\n",
        "parameters/properties/x/exclusiveMinimum: True is not of type 'number'",
    ),
    "regex": (
        "    x: {type: string, default: a, pattern: '([a'}\n",
        "parameters/properties/x/pattern: '([a' is not a valid regular expression",
    ),
    "pattern-on-integer": (
        "    x: {type: integer, default: 2, pattern: '^[0-9]+$'}\n",
        "parameters/properties/x/pattern: pattern applies only to string "
        "values, but the type is integer; remove it or change the type",
    ),
}


def schema_manifest(props: str) -> str:
    return (
        "id: bad\nversion: 1.0.0\ntitle: Bad\nparameters:\n  type: object\n"
        "  properties:\n    bins: {type: integer, default: 2}\n" + props
    )


@pytest.mark.parametrize("case", sorted(SCHEMAS))
def test_an_invalid_parameter_schema_is_named_with_its_file_and_path(
    cli: Cli, fake_dist, case: str
) -> None:
    props, problem = SCHEMAS[case]
    folder = static_pack(fake_dist, "schemas", {"bad": (schema_manifest(props), BODY)})
    where = f"{folder / 'bad' / 'template.yaml'}: {problem}"
    # doctor lists it, and does not also fail to render it
    result = cli("doctor")
    assert result.exit_code == 1
    assert [line for line in result.stdout.splitlines() if line.startswith("problem:")] == [
        f"problem: template schemas:bad 1.0.0: {where}"
    ]
    # pack check and check_pack report it once, instead of every case failing alike
    result = cli("pack", "check", "schemas", "--no-run")
    assert result.exit_code == 1
    assert result.stdout.splitlines()[1] == f"  - bad 1.0.0: invalid parameter schema: {where}"
    assert not result.stdout.splitlines()[2].startswith("  - ")
    report = check_pack("schemas", raise_on_failure=False)
    assert report.failures == [f"bad 1.0.0: invalid parameter schema: {where}"]
    # new refuses it in one line naming the template
    result = cli("new", "--template", "bad", "--out", "m.yaml")
    assert result.exit_code == 1
    assert result.stderr == (
        f"error: template bad 1.0.0 has an invalid parameter schema: "
        f"{where}; 'flowtime-sim doctor' lists every problem\n"
    )


def test_every_schema_problem_is_listed(fake_dist) -> None:
    props = (
        "    a: {type: integr, default: 1}\n    b: {type: integer, default: 1, "
        "maxLength: 3}\n"
    )  # after bins, which is valid
    folder = static_pack(fake_dist, "schemas", {"bad": (schema_manifest(props), BODY)})
    where = folder / "bad" / "template.yaml"
    assert check_pack("schemas", raise_on_failure=False).failures == [
        f"bad 1.0.0: invalid parameter schema: {where}: parameters/properties/a/type: 'integr' "
        "is not a JSON Schema type; use one of array, boolean, integer, null, number, object, "
        "string",
        f"bad 1.0.0: invalid parameter schema: {where}: parameters/properties/b/maxLength: "
        "maxLength applies only to string values, but the type is integer; remove it or change "
        "the type",
    ]
    with pytest.raises(Exception) as err:
        Flowtime(host=create_plugin_host()).render("bad")
    assert str(err.value).endswith("(and 1 more); 'flowtime-sim doctor' lists every problem")


# -- one unreadable manifest ----------------------------------------------------------------


def test_one_bad_manifest_costs_only_its_template(cli: Cli, fake_dist) -> None:
    folder = static_pack(
        fake_dist,
        "mixed",
        {
            "good": (GOOD.format(tid="good", version="1.0.0"), BODY),
            "typo": (GOOD.format(tid="typo", version="1.0.0") + "tittle: x\n", BODY),
        },
    )
    skipped = (
        f"template {folder / 'typo' / 'template.yaml'} skipped: unknown manifest key(s) "
        "tittle; allowed: body, capabilities, description, id, parameters, tags, title, "
        "version"
    )
    result = cli("templates")
    assert result.exit_code == 0
    assert result.stderr == f"warning: plugin 'mixed': {skipped}\n"
    assert [line.split("\t")[0] for line in result.stdout.splitlines()[1:]] == [
        "checkout",
        "good",
        "order-fulfilment",
        "returns",
        "storefront",
    ]
    rows = [line.split("\t") for line in cli("plugins").stdout.splitlines()]
    assert ["mixed", "flowtime-pack-mixed 1.0", "loaded", skipped] in rows
    (record,) = [r for r in json.loads(cli("plugins", "--json").stdout) if r["name"] == "mixed"]
    assert (record["status"], record["problems"]) == ("loaded", [skipped])
    result = cli("doctor")
    assert result.exit_code == 1
    assert f"problem: plugin 'mixed': {skipped}" in result.stdout.splitlines()
    report = check_pack("mixed", raise_on_failure=False)
    assert report.templates == ["good 1.0.0"]
    assert report.failures == [f"plugin 'mixed': {skipped}"]
    result = cli("--strict", "templates")
    assert result.exit_code == 1
    assert result.stderr == f"error: plugin 'mixed': {skipped}\n"


def test_a_duplicate_key_skips_the_template_naming_the_file(cli: Cli, fake_dist) -> None:
    folder = static_pack(
        fake_dist,
        "dups",
        {
            "twice": (GOOD.format(tid="twice", version="1.0.0") + "title: again\n", BODY),
            "once": (GOOD.format(tid="once", version="1.0.0"), BODY),
        },
    )
    skipped = (
        f"plugin 'dups': template {folder / 'twice' / 'template.yaml'} skipped: template "
        "manifest is not valid YAML: duplicate key 'title' at line 8, column 1"
    )
    result = cli("templates")
    assert result.stderr == f"warning: {skipped}\n"
    assert "once" in result.stdout
    result = cli("pack", "check", "dups", "--no-run")
    assert f"  - {skipped}" in result.stdout.splitlines()


def test_whatever_the_yaml_layer_raises_names_the_file(
    cli: Cli, fake_dist, monkeypatch: pytest.MonkeyPatch
) -> None:
    from flowtime_sim import manifests

    folder = static_pack(fake_dist, "odd", {"odd": (GOOD.format(tid="odd", version="1.0.0"), BODY)})

    def broken(path: Path) -> object:
        raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setattr(manifests, "load_manifest_file", broken)
    result = cli("templates")
    assert (
        f"warning: plugin 'odd': template {folder / 'odd' / 'template.yaml'} skipped: "
        "maximum recursion depth exceeded"
    ) in result.stderr.splitlines()


# -- doctor renders every version ------------------------------------------------------------


def test_doctor_renders_every_version_not_only_the_newest(cli: Cli, fake_dist) -> None:
    static_pack(
        fake_dist,
        "versions",
        {
            "t-1": (
                GOOD.format(tid="t", version="1.0.0"),
                BODY.replace("repeat_to([1], bins)", "[1]"),
            ),
            "t-2": (GOOD.format(tid="t", version="2.0.0"), BODY),
        },
    )
    result = cli("doctor")
    assert result.exit_code == 1
    (problem,) = [line for line in result.stdout.splitlines() if line.startswith("problem:")]
    assert problem.startswith(
        "problem: template versions:t 1.0.0: template t 1.0.0 rendered "
        "an invalid model: node 'level': values has 1 entries but the "
        "grid has 2 bins"
    )


# -- invalid models, located in the template ------------------------------------------------

LOOP = """\
schemaVersion: 1
grid: {bins: 1, binSize: 1, binUnit: hours}
nodes:
{% for name in names %}
  - {id: {{ name | node_id }}, kind: const, values: [1]}
{% endfor %}
  - {id: total, kind: expr, expr: {{ names | join(" + ") ~ " + " ~ missing_node }}}
"""
LOOP_MANIFEST = """\
id: loop
version: 1.0.0
title: Loop
parameters:
  type: object
  properties:
    names: {type: array, items: {type: string}, default: [a, b]}
    missing_node: {type: string, default: nope}
"""


@pytest.mark.parametrize("names", [["a"], ["a", "b", "c", "d", "e", "f"]])
def test_an_invalid_model_names_the_template_line_whatever_the_parameters(
    cli: Cli, fake_dist, names: list[str]
) -> None:
    static_pack(fake_dist, "lines", {"loop": (LOOP_MANIFEST, LOOP)})
    result = cli(
        "new", "--template", "loop", "--set", f"names={json.dumps(names)}", "--out", "m.yaml"
    )
    assert result.exit_code == 1
    model_line = 4 + 2 * len(names) + 1
    expr = " + ".join(names) + " + nope"
    assert result.stderr.startswith("error: template loop 1.0.0 rendered an invalid model: ")
    assert "unknown node 'nope'" in result.stderr
    assert result.stderr.endswith(
        '[template line 7: `- {id: total, kind: expr, expr: {{ names | join(" + ") ~ " + " '
        "~ missing_node }}}`; "
        f'model line {model_line}: `- {{id: total, kind: expr, expr: "{expr}"}}`]\n'
    )


def test_a_yaml_error_is_located_in_the_template(fake_dist) -> None:
    body = (
        BODY + "{% for i in range(bins) %}\n  - {id: n{{ i }}, kind: const values: [1]}\n"
        "{% endfor %}\n"
    )
    static_pack(fake_dist, "yamlerr", {"y": (GOOD.format(tid="y", version="1.0.0"), body)})
    ft = Flowtime(host=create_plugin_host())
    for bins, model_line in ((2, 6), (3, 6)):
        with pytest.raises(InvalidModelError) as err:
            ft.render("y", ParameterSources(sets={"bins": bins}))
        assert (err.value.template_line, err.value.model_line) == (6, model_line)
        assert (
            "[template line 6: `- {id: n{{ i }}, kind: const values: [1]}`; model line 6: "
            "`- {id: n0, kind: const values: [1]}`]" in str(err.value)
        )
        assert err.value.rendered.startswith("schemaVersion: 1\n")


def test_keep_rendered_writes_the_text_even_when_it_is_invalid(
    cli: Cli, fake_dist, tmp_path: Path
) -> None:
    static_pack(fake_dist, "lines", {"loop": (LOOP_MANIFEST, LOOP)})
    kept = tmp_path / "seen" / "loop.yaml"
    result = cli("new", "--template", "loop", "--keep-rendered", str(kept))
    assert result.exit_code == 1
    assert result.stderr.endswith(f"; the rendered model is in {kept}]\n")
    assert kept.read_text(encoding="utf-8").startswith("schemaVersion: 1\ngrid:")
    assert 'expr: "a + b + nope"' in kept.read_text(encoding="utf-8")


def test_keep_rendered_environment_variable_keeps_every_render(
    cli: Cli, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("FLOWTIME_SIM_KEEP_RENDERED", str(tmp_path / "kept"))
    result = cli("new", "--template", "checkout", "--out", "m.yaml")
    assert result.exit_code == 0, result.stderr
    (kept,) = (tmp_path / "kept").iterdir()
    assert kept.name.startswith("checkout-") and kept.suffix == ".yaml"
    assert kept.read_text(encoding="utf-8") == Path("m.yaml").read_text(encoding="utf-8")


# -- fail(): input a schema cannot refuse -----------------------------------------------------

STATIONS = """\
{%- set seen = namespace(names=[]) -%}
{%- for s in stations -%}
{%- if s.name in seen.names -%}
{{ fail("duplicate station name " ~ s.name, parameter="stations") }}
{%- endif -%}
{%- set seen.names = seen.names + [s.name] -%}
{%- endfor -%}
schemaVersion: 1
grid: {bins: 1, binSize: 1, binUnit: hours}
nodes:
{% for s in stations %}
  - {id: {{ s.name | node_id }}, kind: const, values: [{{ s.rate }}]}
{% endfor %}
"""
STATIONS_MANIFEST = """\
id: line-flow
version: 1.0.0
title: Line
parameters:
  type: object
  properties:
    stations:
      type: array
      items: {type: object, properties: {name: {type: string}, rate: {type: number}}}
      default: [{name: a, rate: 1}]
      description: Stations.
      examples: [[{name: a, rate: 1}, {name: a, rate: 2}]]
"""


def test_fail_refuses_input_with_a_parameter_error(cli: Cli, fake_dist) -> None:
    static_pack(fake_dist, "stations", {"line": (STATIONS_MANIFEST, STATIONS)})
    result = cli(
        "new",
        "--template",
        "line-flow",
        "--set",
        "stations=[{name: A, rate: 1}, {name: A, rate: 2}]",
        "--out",
        "m.yaml",
    )
    assert result.exit_code == 1
    assert result.stderr == (
        "error: parameter 'stations': duplicate station name A (template line-flow 1.0.0)\n"
    )
    with pytest.raises(ParameterError) as err:
        Flowtime(host=create_plugin_host()).render(
            "line-flow", ParameterSources(sets={"stations": [{"name": "B"}, {"name": "B"}]})
        )
    assert err.value.field == "stations"
    assert err.value.problems == [
        "parameter 'stations': duplicate station name B (template line-flow 1.0.0)"
    ]
    # the example the schema accepts but the template refuses is the pack's failure; the
    # hostile-string probes count a refusal by fail() as a clean one
    (failure,) = check_pack("stations", raise_on_failure=False).failures
    assert failure.startswith('line-flow 1.0.0 with stations=[{"name": "a", "rate": 1}, ')
    assert failure.endswith(
        ": parameter 'stations': duplicate station name a (template line-flow 1.0.0)"
    )


def test_fail_without_a_parameter(fake_dist) -> None:
    body = '{{ fail("this pack needs flowtime-sim 2") }}' + BODY
    static_pack(fake_dist, "plain", {"p": (GOOD.format(tid="p", version="1.0.0"), body)})
    with pytest.raises(ParameterError) as err:
        Flowtime(host=pack_host("plain")).render("p")
    assert str(err.value) == "this pack needs flowtime-sim 2 (template p 1.0.0)"
    assert err.value.field is None
