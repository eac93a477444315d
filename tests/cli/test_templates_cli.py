"""``templates`` and ``templates show``, in both spellings, with installed and fake packs."""

from __future__ import annotations

import json
from collections.abc import Callable
from importlib.metadata import entry_points

import pytest
from click.testing import Result

from flowtime_sim.plugins import create_plugin_host
from flowtime_sim.templates import TemplateIndex

Cli = Callable[..., Result]
SPELLINGS = ["flowtime-sim", "flowtime"]
HELLO_A = {
    "id": "hello",
    "ref": "pack_a:hello",
    "version": "1.0.0",
    "title": "Hello from A",
    "description": "A single constant series.",
    "tags": ["demo"],
    "capabilities": ["counts"],
    "format": "jinja2",
    "pack": {"name": "flowtime-pack-pack-a", "version": "1.0"},
}
HELLO_PARAMETERS = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "bins": {
            "type": "integer",
            "minimum": 1,
            "maximum": 48,
            "default": 3,
            "description": "Number of bins.",
        },
        "level": {
            "type": "number",
            "minimum": 0,
            "default": 5,
            "description": "Value of every bin.",
        },
    },
}


def installed() -> TemplateIndex:
    return TemplateIndex.collect(create_plugin_host())


def fails(result: Result, message: str) -> None:
    """Exit 1 with exactly one line on stderr and no traceback."""
    assert result.exit_code == 1, result.output
    assert result.stderr == f"error: {message}\n"
    assert "Traceback" not in result.output
    assert isinstance(result.exception, SystemExit)


@pytest.mark.parametrize("spelling", SPELLINGS)
def test_templates_lists_every_installed_template(cli: Cli, spelling: str) -> None:
    result = cli("templates", spelling=spelling)
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    header, *rows = [line.split("\t") for line in result.stdout.splitlines()]
    assert header == ["template", "version", "title", "tags", "pack"]
    assert rows == [
        [t.id, t.version, t.manifest.title, ", ".join(t.manifest.tags), t.plugin]
        for t in installed().latest()
    ]


def test_both_spellings_print_the_same(cli: Cli, fake_dist) -> None:
    fake_dist("pack_a")
    for args in (["templates"], ["templates", "--json"], ["templates", "show", "hello"]):
        assert cli(*args).stdout == cli(*args, spelling="flowtime").stdout


def test_templates_json(cli: Cli, fake_dist) -> None:
    fake_dist("pack_a")
    result = cli("templates", "--json")
    assert result.exit_code == 0
    listed = json.loads(result.stdout)
    assert HELLO_A in listed
    assert [t["ref"] for t in listed] == [f"{t.plugin}:{t.id}" for t in installed().latest()]


def test_no_templates_installed(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    names = {ep.name for ep in entry_points(group="flowtime_sim")}
    monkeypatch.setenv("FLOWTIME_SIM_DISABLE_PLUGINS", ",".join(names))
    result = cli("templates")
    assert (result.exit_code, result.stdout) == (
        0,
        "No templates installed. Install a pack, e.g. 'pip install flowtime-pack-checkout'.\n",
    )
    assert json.loads(cli("templates", "--json").stdout) == []


def test_an_id_from_two_packs_is_listed_with_the_pack(cli: Cli, fake_dist) -> None:
    fake_dist("pack_a")
    fake_dist("pack_b")
    out = cli("templates").stdout
    rows = {line.split("\t")[0]: line.split("\t")[1:] for line in out.splitlines()}
    assert "hello" not in rows
    assert rows["pack_a:hello"] == ["1.0.0", "Hello from A", "demo", "pack_a"]
    assert rows["pack_b:hello"] == ["2.0.0", "Hello from B", "demo", "pack_b"]
    fails(
        cli("templates", "show", "hello"),
        "template id 'hello' is provided by several packs (pack_a, pack_b); choose one of: "
        "pack_a:hello, pack_b:hello",
    )
    assert cli("templates", "show", "pack_b:hello").exit_code == 0


@pytest.mark.parametrize("package", ["discovery_raises", "discovery_dict"])
def test_a_broken_discovery_hook_is_a_warning(cli: Cli, fake_dist, package: str) -> None:
    fake_dist(package)
    fake_dist("pack_a")
    result = cli("templates", "--json")
    assert result.exit_code == 0
    assert HELLO_A in json.loads(result.stdout)
    problem = TemplateIndex.collect(create_plugin_host()).problems
    assert result.stderr == f"warning: {problem[0]}\n"
    assert result.stderr.startswith(f"warning: plugin '{package}': flowtime_templates failed: ")


@pytest.mark.parametrize("spelling", SPELLINGS)
@pytest.mark.parametrize("how", ["option", "env"])
def test_strict_makes_a_broken_pack_fatal(
    cli: Cli, fake_dist, monkeypatch: pytest.MonkeyPatch, spelling: str, how: str
) -> None:
    fake_dist("broken_import")
    fake_dist("pack_a")
    assert cli("templates", spelling=spelling).exit_code == 0  # skipped, not fatal
    if how == "env":
        monkeypatch.setenv("FLOWTIME_SIM_STRICT", "1")
        result = cli("templates", spelling=spelling)
    else:
        result = cli("--strict", "templates", spelling=spelling)
    fails(
        result,
        "plugin 'broken_import' failed: import failed: RuntimeError: broken_import "
        "needs a licence key",
    )


def test_strict_makes_a_broken_discovery_hook_fatal(cli: Cli, fake_dist) -> None:
    fake_dist("discovery_dict")
    fails(
        cli("--strict", "templates"),
        "plugin 'discovery_dict': flowtime_templates failed: "
        "returned a dict, not a list of Template objects",
    )


# -- templates show -------------------------------------------------------------------------


def test_show_prints_the_manifest_and_a_parameters_table(cli: Cli, fake_dist) -> None:
    fake_dist("static_only")
    result = cli("templates", "show", "greeting")
    assert result.exit_code == 0, result.output
    assert result.stdout == (
        "template\tgreeting 1.10.0\n"
        "title\tGreeting\n"
        "pack\tflowtime-pack-static-only 1.0\n"
        "versions\t1.10.0, 1.2.0, 1.0.0\n"
        "tags\tdemo\n"
        "capabilities\tcounts\n"
        "\n"
        "A single constant series.\n"
        "\n"
        "# Parameters\n"
        "name\ttype\tdefault\tallowed\tdescription\n"
        "bins\tinteger\t3\t≥ 1, ≤ 48\tNumber of bins.\n"
        "level\tnumber\t5\t≥ 0\tValue of every bin.\n"
    )


def test_show_table_for_richer_schemas(cli: Cli, fake_dist) -> None:
    manifest = """\
id: rich
version: 1.0.0
title: Rich
parameters:
  type: object
  required: [who]
  properties:
    who: {type: string, pattern: '^[a-z]+$', maxLength: 12, minLength: 2,
          description: Who it is for.}
    mode: {type: string, enum: [fast, slow], default: fast}
    start: {type: [string, "null"], default: null}
    profile: {type: array, minItems: 2, maxItems: 3, default: [1, 2]}
    ratio: {exclusiveMinimum: 0, exclusiveMaximum: 1, default: 0.5}
"""
    fake_dist(
        "rich_pack",
        {
            "rich_pack/__init__.py": "",
            "rich_pack/flowtime_pack.toml": 'plugin_api = ">=1,<2"\n',
            "rich_pack/templates/rich/template.yaml": manifest,
            "rich_pack/templates/rich/model.yaml.j2": "",
        },
    )
    lines = cli("templates", "show", "rich").stdout.splitlines()
    assert lines[6:9] == ["", "# Parameters", "name\ttype\tdefault\tallowed\tdescription"]
    rows = [line.split("\t") for line in lines[9:]]
    assert rows == [
        [
            "who",
            "string",
            "(required)",
            "min length 2, max length 12, pattern ^[a-z]+$",
            "Who it is for.",
        ],
        ["mode", "string", "fast", "one of fast, slow", ""],
        ["start", "string | null", "null", "", ""],
        ["profile", "array", "[1, 2]", "min items 2, max items 3", ""],
        ["ratio", "any", "0.5", "> 0, < 1", ""],
    ]


@pytest.mark.parametrize("spelling", SPELLINGS)
def test_show_json(cli: Cli, fake_dist, spelling: str) -> None:
    fake_dist("pack_a")
    result = cli("templates", "show", "pack_a:hello", "--json", spelling=spelling)
    assert result.exit_code == 0
    assert json.loads(result.stdout) == {
        **HELLO_A,
        "versions": ["1.0.0"],
        "parameters": HELLO_PARAMETERS,
    }


def test_show_json_of_every_installed_template(cli: Cli) -> None:
    for tpl in installed().latest():
        shown = json.loads(cli("templates", "show", f"{tpl.plugin}:{tpl.id}", "--json").stdout)
        assert (shown["id"], shown["version"]) == (tpl.id, tpl.version)
        assert shown["parameters"] == tpl.manifest.parameters


@pytest.mark.parametrize(
    ("version", "expected"), [(None, "1.10.0"), ("1.2.0", "1.2.0"), ("1.0.0", "1.0.0")]
)
def test_show_a_version(cli: Cli, fake_dist, version: str | None, expected: str) -> None:
    fake_dist("static_only")
    args = ["templates", "show", "greeting", "--json"] + (["--version", version] if version else [])
    shown = json.loads(cli(*args).stdout)
    assert (shown["version"], shown["versions"]) == (expected, ["1.10.0", "1.2.0", "1.0.0"])


def test_show_unknown_version(cli: Cli, fake_dist) -> None:
    fake_dist("static_only")
    fails(
        cli("templates", "show", "greeting", "--version", "2.0.0"),
        "template 'greeting' has no version '2.0.0'; available: 1.10.0, 1.2.0, 1.0.0",
    )


@pytest.mark.parametrize("spelling", SPELLINGS)
def test_show_unknown_template(cli: Cli, spelling: str) -> None:
    known = ", ".join(sorted(installed().by_id)) or "none installed"
    fails(
        cli("templates", "show", "no-such-template", spelling=spelling),
        f"unknown template 'no-such-template'; available: {known} (see 'flowtime-sim templates')",
    )


@pytest.mark.parametrize(
    "args",
    [
        ["templates", "--bogus"],
        ["templates", "show"],
        ["templates", "show", "x", "--version"],
        ["templates", "nothing"],
    ],
)
def test_usage_errors_exit_2(cli: Cli, args: list[str]) -> None:
    result = cli(*args)
    assert result.exit_code == 2
    assert "Error: " in result.stderr
    assert "Traceback" not in result.output
