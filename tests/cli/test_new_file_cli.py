"""``new --out FILE.yaml``: every bundled template renders a valid model; parameters, versions,
upstream templates (``--templates-dir`` / ``--template-file``) and errors through the CLI."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from click.testing import Result

from flowtime_sim.core import Flowtime
from flowtime_sim.model import load_model_file
from flowtime_sim.plugins import create_plugin_host
from flowtime_sim.templates import TemplateIndex
from flowtime_sim.types import ParameterSources

Cli = Callable[..., Result]
SPELLINGS = ["flowtime-sim", "flowtime"]
UPSTREAM = Path(__file__).parents[1] / "fixtures" / "upstream"
CALL_CENTER = UPSTREAM / "call-center.yaml"
HELLO = "hello 1.0.0"


def bundled() -> list[tuple[str, str]]:
    """(reference, version) of every version of every template the installed packs provide;
    the bare id where only one pack offers it."""
    index = TemplateIndex.collect(create_plugin_host())
    return sorted(
        (tpl.id if len(index.providers(tid)) == 1 else f"{tpl.plugin}:{tid}", tpl.version)
        for tid, versions in index.by_id.items()
        for tpl in versions
    )


BUNDLED = bundled()


def fails(result: Result, message: str) -> None:
    assert result.exit_code == 1, result.output
    assert result.stderr == f"error: {message}\n"
    assert "Traceback" not in result.output


def test_template_packs_are_installed() -> None:
    assert BUNDLED, (
        "no template packs are installed; install the first-party ones with "
        "pip install -e template_packs/checkout -e template_packs/ecommerce"
    )


@pytest.mark.parametrize(("ref", "version"), BUNDLED)
def test_every_bundled_template_renders_a_valid_model(
    cli: Cli, tmp_path: Path, ref: str, version: str
) -> None:
    tid = ref.rpartition(":")[2]
    result = cli("new", "--template", ref, "--version", version, "--out", "m.yaml")
    assert result.exit_code == 0, result.output
    assert (result.stdout, result.stderr) == (f"wrote m.yaml (template {tid} {version})\n", "")
    model = load_model_file(tmp_path / "m.yaml")
    assert model.nodes
    expected = Flowtime(host=create_plugin_host()).render(ref, version=version)
    assert (tmp_path / "m.yaml").read_text(encoding="utf-8") == expected.text
    assert [n.id for n in model.nodes] == [n.id for n in expected.model.nodes]


@pytest.mark.parametrize("spelling", SPELLINGS)
def test_the_newest_version_by_default_and_json(
    cli: Cli, tmp_path: Path, fake_dist, spelling: str
) -> None:
    fake_dist("static_only")
    result = cli("new", "--template", "greeting", "--out", "sub/g.yml", "--json", spelling=spelling)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {
        "path": "sub/g.yml",
        "template_id": "greeting",
        "template_version": "1.10.0",
        "parameters": {"bins": 3, "level": 5},
    }
    assert load_model_file(tmp_path / "sub" / "g.yml").grid.bins == 3


def test_parameters_file_then_set(cli: Cli, tmp_path: Path, fake_dist) -> None:
    fake_dist("pack_a")
    (tmp_path / "p.yaml").write_text("bins: 4\nlevel: 2.5\n", encoding="utf-8")
    (tmp_path / "p.json").write_text('{"bins": 4, "level": 2.5}', encoding="utf-8")
    for params in ("p.yaml", "p.json"):
        result = cli(
            "new",
            "-t",
            "hello",
            "--params",
            params,
            "--set",
            "level=7",
            "--out",
            "m.YAML",
            "--json",
        )
        assert result.exit_code == 0, result.output
        assert json.loads(result.stdout)["parameters"] == {"bins": 4, "level": 7}
        model = yaml.safe_load((tmp_path / "m.YAML").read_text(encoding="utf-8"))
        assert model["nodes"][0]["values"] == [7, 7, 7, 7]


def test_an_existing_file_is_replaced_whole(cli: Cli, tmp_path: Path, fake_dist) -> None:
    fake_dist("pack_a")
    (tmp_path / "m.yaml").write_text(
        "old content that is much longer than the new model " * 50, encoding="utf-8"
    )
    assert cli("new", "-t", "hello", "--set", "bins=1", "--out", "m.yaml").exit_code == 0
    text = (tmp_path / "m.yaml").read_text(encoding="utf-8")
    assert "old content" not in text
    assert load_model_file(tmp_path / "m.yaml").grid.bins == 1
    assert [p.name for p in tmp_path.glob("*m.yaml*")] == ["m.yaml"]  # no temporary file left


# -- errors ---------------------------------------------------------------------------------


@pytest.mark.parametrize("spelling", SPELLINGS)
def test_every_parameter_problem_in_one_line(
    cli: Cli, tmp_path: Path, fake_dist, spelling: str
) -> None:
    fake_dist("pack_a")
    result = cli(
        "new",
        "--template",
        "hello",
        "--set",
        "bins=0",
        "--set",
        "level=-1",
        "--set",
        "colour=red",
        "--out",
        "m.yaml",
        spelling=spelling,
    )
    fails(
        result,
        "unknown parameter(s) 'colour'; known parameters: bins, level (template "
        f"{HELLO}); parameter 'bins' = 0 is below the minimum 1 (template {HELLO}); "
        f"parameter 'level' = -1 is below the minimum 0 (template {HELLO})",
    )
    assert not (tmp_path / "m.yaml").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--set", "bins"], "--set expects key=value, got 'bins'"),
        (
            ["--set", "bins=2.5"],
            f"parameter 'bins' = 2.5 is not of type 'integer' (template {HELLO})",
        ),
        (
            ["--set", "level=.nan"],
            f"parameter 'level' = NaN is not a finite number (template {HELLO})",
        ),
        (["--set", "bins=49"], f"parameter 'bins' = 49 is above the maximum 48 (template {HELLO})"),
        (["--params", "missing.yaml"], "parameters file 'missing.yaml' does not exist"),
        (
            ["--params", "list.json"],
            "parameters file 'list.json' must hold a mapping of parameter names to values",
        ),
        (
            ["--params", "bad.yaml"],
            "parameters file 'bad.yaml' is not valid YAML: while parsing a "
            "flow sequence, did not find expected ',' or ']' at line 2, "
            "column 1",
        ),
        (["--version", "0.9.0"], "template 'hello' has no version '0.9.0'; available: 1.0.0"),
        (["--root", "elsewhere"], "--root cannot be combined with --out FILE.yaml"),
    ],
)
def test_user_errors(cli: Cli, tmp_path: Path, fake_dist, args: list[str], message: str) -> None:
    fake_dist("pack_a")
    (tmp_path / "list.json").write_text("[1]", encoding="utf-8")
    (tmp_path / "bad.yaml").write_text("bins: [1\n", encoding="utf-8")
    fails(cli("new", "--template", "hello", *args, "--out", "m.yaml"), message)
    assert not (tmp_path / "m.yaml").exists()


def test_unknown_template(cli: Cli) -> None:
    known = ", ".join(sorted(TemplateIndex.collect(create_plugin_host()).by_id))
    fails(
        cli("new", "--template", "nope", "--out", "m.yaml"),
        f"unknown template 'nope'; available: {known} (see 'flowtime-sim templates')",
    )
    result = cli("new", "--out", "m.yaml")
    assert result.exit_code == 2  # a usage error
    assert result.stderr.endswith(
        "Error: missing --template; see 'flowtime-sim templates' for the choices\n"
    )


def test_an_id_from_two_packs(cli: Cli, tmp_path: Path, fake_dist) -> None:
    fake_dist("pack_a")
    fake_dist("pack_b")
    fails(
        cli("new", "--template", "hello", "--out", "m.yaml"),
        "template id 'hello' is provided by several packs (pack_a, pack_b); choose one of: "
        "pack_a:hello, pack_b:hello",
    )
    result = cli("new", "--template", "pack_b:hello", "--out", "m.yaml")
    assert result.stdout == "wrote m.yaml (template hello 2.0.0)\n"
    assert cli("new", "--template", "pack_a:hello", "--out", "a.yaml").exit_code == 0


def test_a_template_the_sandbox_refuses(cli: Cli, fake_dist) -> None:
    manifest = "id: sneaky\nversion: 0.1.0\ntitle: Sneaky\n"
    body = "schemaVersion: 1\n# harmless so far\nnote: {{ template.id.__class__.__mro__ }}\n"
    fake_dist(
        "sneaky_pack",
        {
            "sneaky_pack/__init__.py": "",
            "sneaky_pack/flowtime_pack.toml": 'plugin_api = ">=1,<2"\n',
            "sneaky_pack/templates/sneaky/template.yaml": manifest,
            "sneaky_pack/templates/sneaky/model.yaml.j2": body,
        },
    )
    fails(
        cli("new", "--template", "sneaky", "--out", "m.yaml"),
        "template sneaky 0.1.0 line 3: refused by the sandbox: access to attribute "
        "'__class__' of 'str' object is unsafe.",
    )


def test_strict_new(cli: Cli, fake_dist) -> None:
    fake_dist("pack_a")
    fake_dist("no_api")
    assert cli("new", "-t", "hello", "--out", "m.yaml").exit_code == 0
    fails(
        cli("--strict", "new", "-t", "hello", "--out", "m.yaml"),
        "plugin 'no_api' refused: pack 'no_api' (flowtime-pack-no-api 1.0) declares no "
        'plugin-API range; add plugin_api = ">=1,<2" to flowtime_pack.toml or '
        'FLOWTIME_SIM_PLUGIN_API = ">=1,<2" to the module',
    )


@pytest.mark.parametrize(
    "args",
    [
        ["new", "--visibility", "secret"],
        ["new", "--template-file", "missing.yaml"],
        ["new", "--templates-dir", "missing-dir"],
        ["new", "--bogus"],
        ["new", "--set"],
    ],
)
def test_usage_errors_exit_2(cli: Cli, args: list[str]) -> None:
    result = cli(*args)
    assert result.exit_code == 2
    assert "Error: " in result.stderr
    assert "Traceback" not in result.output


# -- upstream FlowTime-Sim templates --------------------------------------------------------


@pytest.mark.parametrize(
    "source", [["--templates-dir", str(UPSTREAM)], ["--template-file", str(CALL_CENTER)]]
)
def test_templates_lists_upstream_templates(cli: Cli, source: list[str]) -> None:
    rows = [line.split("\t") for line in cli("templates", *source).stdout.splitlines()]
    assert [
        "call-center",
        "1.1.0",
        "Call Center",
        "beginner, call-center, queue, capacity",
        "templates-dir",
    ] in rows
    listed = json.loads(cli("templates", *source, "--json").stdout)
    assert {
        "id": "call-center",
        "ref": "templates-dir:call-center",
        "version": "1.1.0",
        "title": "Call Center",
        "description": "Inbound calls against agent capacity, with abandonment and callbacks",
        "tags": ["beginner", "call-center", "queue", "capacity"],
        "capabilities": [],
        "format": "flowtime-upstream",
        "pack": {"name": "templates-dir", "version": "0"},
    } in listed
    assert "call-center" not in cli("templates").stdout  # only when asked for


def test_show_an_upstream_template(cli: Cli) -> None:
    for args in (
        ["templates", "--template-file", str(CALL_CENTER), "show", "call-center"],
        ["templates", "show", "call-center", "--templates-dir", str(UPSTREAM)],
    ):
        result = cli(*args, "--json")
        assert result.exit_code == 0, result.output
        shown = json.loads(result.stdout)
        assert shown["parameters"]["properties"]["abandonRate"] == {
            "type": "number",
            "title": "Abandon Rate",
            "default": 0.25,
            "minimum": 0.0,
            "maximum": 1.0,
            "description": "Share of waiting callers who hang up (0.0-1.0)",
        }


@pytest.mark.parametrize("spelling", SPELLINGS)
def test_new_from_a_template_file(cli: Cli, tmp_path: Path, spelling: str) -> None:
    result = cli("new", "--template-file", str(CALL_CENTER), "--out", "m.yaml", spelling=spelling)
    assert result.exit_code == 0, result.output
    assert result.stdout == "wrote m.yaml (template call-center 1.1.0)\n"
    text = (tmp_path / "m.yaml").read_text(encoding="utf-8")
    model = yaml.safe_load(text)
    assert list(model) == ["schemaVersion", "grid", "rng", "nodes", "outputs"]
    assert model["schemaVersion"] == 1
    assert model["nodes"][3] == {
        "id": "answered",
        "kind": "expr",
        "expr": "MIN(inbound_calls, agent_capacity)",
    }
    assert model["outputs"][1] == {"series": "answered", "as": "answered.csv"}
    for word in ("metadata", "parameters", "expression", "source", "filename", "${"):
        assert word not in text
    parsed = load_model_file(tmp_path / "m.yaml")
    assert [o.as_ for o in parsed.outputs] == [
        "voice_inbound.csv",
        "answered.csv",
        "abandoned.csv",
        "callbacks.csv",
    ]


def test_new_from_a_templates_dir_with_parameters(cli: Cli, tmp_path: Path) -> None:
    result = cli(
        "new",
        "--templates-dir",
        str(UPSTREAM),
        "--template",
        "call-center",
        "--set",
        "channel=chat",
        "--set",
        "abandonRate=0.5",
        "--out",
        "m.yaml",
    )
    assert result.exit_code == 0, result.output
    expected = Flowtime(template_paths=[UPSTREAM]).render(
        "call-center", ParameterSources(sets={"channel": "chat", "abandonRate": 0.5})
    )
    assert (tmp_path / "m.yaml").read_text(encoding="utf-8") == expected.text
    assert "chat_inbound.csv" in expected.text
    fails(
        cli(
            "new",
            "--templates-dir",
            str(UPSTREAM),
            "--template",
            "call-center",
            "--set",
            "channel=fax",
            "--out",
            "m.yaml",
        ),
        "parameter 'channel' = 'fax' is not one of 'voice', 'chat' (template call-center 1.1.0)",
    )


def test_two_template_files_need_a_template(cli: Cli, tmp_path: Path) -> None:
    other = tmp_path / "other.yaml"
    other.write_text("metadata: {id: other, title: Other}\nnodes: []\n", encoding="utf-8")
    result = cli(
        "new", "--template-file", str(CALL_CENTER), "--template-file", str(other), "--out", "m.yaml"
    )
    assert result.exit_code == 2
    assert result.stderr.endswith(
        "Error: missing --template; see 'flowtime-sim templates' for the choices\n"
    )
    result = cli(
        "new",
        "--template-file",
        str(CALL_CENTER),
        "--template-file",
        str(other),
        "--template",
        "call-center",
        "--out",
        "m.yaml",
    )
    assert result.exit_code == 0, result.output


def test_a_bad_template_file(cli: Cli, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("nodes: []\n", encoding="utf-8")
    fails(
        cli("new", "--template-file", str(bad), "--out", "m.yaml"),
        f"template file {str(bad)!r} has no 'metadata' mapping; is it a FlowTime-Sim template?",
    )
