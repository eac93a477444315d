"""Template manifests on disk and the template index: versions, ids, ambiguity, messages."""

from __future__ import annotations

from pathlib import Path

import pytest

from flowtime_sim import hookimpl
from flowtime_sim.errors import NotFoundError, UserError
from flowtime_sim.manifests import load_manifest_file, templates_in_folder
from flowtime_sim.plugins import PluginHost, create_plugin_host
from flowtime_sim.templates import TemplateIndex
from flowtime_sim.types import PackInfo, Template, TemplateManifest, semver_key

BODY = "schemaVersion: 1\n"


def manifest(tid: str = "hello", version: str = "1.0.0", **extra: object) -> TemplateManifest:
    return TemplateManifest(id=tid, version=version, title=extra.pop("title", tid.title()), **extra)  # type: ignore[arg-type]


class Pack:
    """A plugin offering fixed templates (registered directly, no distribution)."""

    def __init__(self, *manifests: TemplateManifest) -> None:
        self.templates = [Template(m, read_body=lambda: BODY) for m in manifests]

    @hookimpl
    def flowtime_templates(self) -> list[Template]:
        return self.templates


def index_of(**packs: Pack) -> TemplateIndex:
    host = create_plugin_host(load_entry_points=False, plugins=list(packs.items()))
    return TemplateIndex.collect(host)


# -- manifests on disk ----------------------------------------------------------------------


def write_template(folder: Path, text: str, body: str | None = "model.yaml.j2") -> Path:
    folder.mkdir(parents=True)
    folder.joinpath("template.yaml").write_text(text, encoding="utf-8")
    if body:
        folder.joinpath(body).write_text(BODY, encoding="utf-8")
    return folder / "template.yaml"


def test_load_manifest_file(tmp_path: Path) -> None:
    path = write_template(
        tmp_path / "t",
        """\
id: queue
version: 1.2.0
title: A queue
description: |
  Two lines
  of text.
tags: [retail, 7]
capabilities: [counts]
body: queue.j2
parameters:
  type: object
  properties: {bins: {type: integer, default: 4}}
""",
        body="queue.j2",
    )
    tpl = load_manifest_file(path)
    assert tpl.manifest == TemplateManifest(
        id="queue",
        version="1.2.0",
        title="A queue",
        description="Two lines\nof text.",
        tags=("retail", "7"),
        capabilities=("counts",),
        parameters={"type": "object", "properties": {"bins": {"type": "integer", "default": 4}}},
    )
    assert tpl.manifest.parameter_names == ("bins",)
    assert (tpl.format, tpl.origin, tpl.pack, tpl.plugin) == (
        "jinja2",
        str(tmp_path / "t" / "queue.j2"),
        None,
        "",
    )
    assert tpl.read_body() == BODY


def test_manifest_defaults(tmp_path: Path) -> None:
    tpl = load_manifest_file(write_template(tmp_path / "t", "id: x\nversion: 0.1.0\ntitle: X\n"))
    assert tpl.manifest == TemplateManifest(id="x", version="0.1.0", title="X")
    assert tpl.manifest.parameters == {"type": "object"}
    assert tpl.manifest.parameter_names == ()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("- 1\n", "a template manifest must be a mapping"),
        (
            "id: [x\n",
            "template manifest is not valid YAML: while parsing a flow sequence, did not "
            "find expected ',' or ']' at line 2, column 1",
        ),
        (
            "id: x\nversion: 1.0.0\ntitle: X\nbodyy: m.j2\n",
            "unknown manifest key(s) bodyy; allowed: body, capabilities, description, id, "
            "parameters, tags, title, version",
        ),
        ("id: x\ntitle: X\n", "manifest lacks required key 'version'"),
        (
            "id: Bad_Id\nversion: 1.0.0\ntitle: X\n",
            "template id 'Bad_Id' must match ^[a-z0-9][a-z0-9-]{0,63}$ (lower-case letters, "
            "digits and '-')",
        ),
        (
            "id: x\nversion: 1.0\ntitle: X\n",
            "template 'x': version '1.0' is not a semantic version such as 1.2.0",
        ),
        ("id: x\nversion: 1.0.0\n", "template 'x': title must not be empty"),
        (
            "id: x\nversion: 1.0.0\ntitle: X\nparameters: {type: array}\n",
            "template 'x': parameters must be a JSON Schema with type: object",
        ),
        (
            "id: x\nversion: 1.0.0\ntitle: X\nbody: other.j2\n",
            "body file 'other.j2' not found beside the manifest",
        ),
    ],
)
def test_bad_manifests_name_the_file_and_the_problem(
    tmp_path: Path, text: str, message: str
) -> None:
    path = write_template(tmp_path / "t", text)
    with pytest.raises(ValueError) as err:
        load_manifest_file(path)
    assert str(err.value) == f"{path}: {message}"


def test_unreadable_manifest(tmp_path: Path) -> None:
    path = tmp_path / "missing" / "template.yaml"
    with pytest.raises(
        ValueError,
        match=r"missing/template\.yaml: cannot read template "
        r"manifest: \[Errno 2\] No such file or directory",
    ):
        load_manifest_file(path)


def test_templates_in_folder_reads_every_sub_folder(tmp_path: Path) -> None:
    write_template(tmp_path / "b", "id: b\nversion: 1.0.0\ntitle: B\n")
    write_template(tmp_path / "a-2", "id: a\nversion: 2.0.0\ntitle: A\n")
    write_template(tmp_path / "a-1", "id: a\nversion: 1.0.0\ntitle: A\n")
    (tmp_path / "not-a-template").mkdir()
    found = [(t.id, t.version) for t in templates_in_folder(tmp_path)]
    assert found == [("a", "1.0.0"), ("a", "2.0.0"), ("b", "1.0.0")]


# -- typed objects --------------------------------------------------------------------------


def test_semver_order() -> None:
    versions = ["0.9.0", "1.0.0-alpha", "1.0.0-rc.1", "1.0.0", "1.2.0", "1.10.0", "2.0.0"]
    assert sorted(reversed(versions), key=semver_key) == versions
    assert semver_key("1.0.0+build.7") == semver_key("1.0.0")
    with pytest.raises(ValueError) as err:
        semver_key("1.0")
    assert str(err.value) == "not a semantic version: '1.0'"


# -- the index ------------------------------------------------------------------------------


@pytest.fixture
def index() -> TemplateIndex:
    return index_of(
        retail=Pack(
            manifest("checkout", "1.0.0"),
            manifest("checkout", "1.10.0"),
            manifest("checkout", "1.2.0"),
            manifest("checkout", "2.0.0-rc.1"),
            manifest("returns", "0.3.0"),
        ),
        logistics=Pack(manifest("warehouse", "1.0.0"), manifest("returns", "1.0.0")),
    )


def test_the_newest_release_is_the_default(index: TemplateIndex) -> None:
    tpl = index.get("checkout")
    assert (tpl.id, tpl.version, tpl.plugin) == ("checkout", "1.10.0", "retail")
    assert tpl.pack == PackInfo("retail", "0")  # no distribution: the plugin name stands in
    assert [t.version for t in index.by_id["checkout"]] == [
        "1.10.0",
        "1.2.0",
        "1.0.0",
        "2.0.0-rc.1",
    ]


def test_a_pre_release_is_the_default_only_without_a_release() -> None:
    index = index_of(p=Pack(manifest("beta", "0.2.0-rc.1"), manifest("beta", "0.2.0-rc.2")))
    assert index.get("beta").version == "0.2.0-rc.2"


@pytest.mark.parametrize("version", ["1.0.0", "1.2.0", "2.0.0-rc.1"])
def test_a_chosen_version(index: TemplateIndex, version: str) -> None:
    assert index.get("checkout", version).version == version
    assert index.get("retail:checkout", version).version == version


def test_unknown_version_lists_the_available_ones(index: TemplateIndex) -> None:
    with pytest.raises(NotFoundError) as err:
        index.get("checkout", "1.1.0")
    assert str(err.value) == (
        "template 'checkout' has no version '1.1.0'; available: 1.10.0, 1.2.0, 1.0.0, 2.0.0-rc.1"
    )
    assert err.value.field == "version"


@pytest.mark.parametrize("ref", ["chekout", "logistics:checkout", "nobody:warehouse", ":x"])
def test_unknown_template_lists_the_installed_ones(index: TemplateIndex, ref: str) -> None:
    with pytest.raises(NotFoundError) as err:
        index.get(ref)
    assert str(err.value) == (
        f"unknown template {ref!r}; available: checkout, returns, "
        "warehouse (see 'flowtime-sim templates')"
    )
    assert err.value.field == "template"
    assert isinstance(err.value, NotFoundError)


def test_unknown_template_when_none_are_installed() -> None:
    with pytest.raises(
        NotFoundError,
        match=r"^unknown template 'x'; available: none installed "
        r"\(see 'flowtime-sim templates'\)$",
    ):
        index_of().get("x")


def test_an_id_from_two_packs_is_ambiguous(index: TemplateIndex) -> None:
    assert index.providers("returns") == ["logistics", "retail"]
    assert index.providers("warehouse") == ["logistics"]
    assert index.providers("nothing") == []
    with pytest.raises(UserError) as err:
        index.get("returns", "1.0.0")
    assert str(err.value) == (
        "template id 'returns' is provided by several packs (logistics, "
        "retail); choose one of: logistics:returns, retail:returns"
    )
    assert index.get("retail:returns").version == "0.3.0"
    assert index.get("logistics:returns").version == "1.0.0"
    with pytest.raises(NotFoundError) as missing:
        index.get("retail:returns", "1.0.0")
    assert str(missing.value) == (
        "template 'retail:returns' has no version '1.0.0'; available: 0.3.0"
    )


def test_latest_lists_one_default_version_per_template_and_pack(index: TemplateIndex) -> None:
    assert [(t.id, t.version, t.plugin) for t in index.latest()] == [
        ("checkout", "1.10.0", "retail"),
        ("returns", "1.0.0", "logistics"),
        ("returns", "0.3.0", "retail"),
        ("warehouse", "1.0.0", "logistics"),
    ]
    assert index.problems == []


def test_a_version_offered_twice_by_one_pack_is_reported() -> None:
    first, second = manifest("x", title="First"), manifest("x", title="Second")
    index = index_of(p=Pack(first, second))
    assert [t.manifest.title for t in index.by_id["x"]] == ["First"]
    assert index.problems == ["template x 1.0.0 is offered twice by p; the first one is used"]


def test_a_template_keeps_the_pack_it_names() -> None:
    own = Template(manifest("x"), read_body=lambda: BODY, pack=PackInfo("dist-x", "3.1"))

    class P:
        @hookimpl
        def flowtime_templates(self) -> list[Template]:
            return [own]

    host: PluginHost = create_plugin_host(load_entry_points=False, plugins=[("p", P())])
    tpl = TemplateIndex.collect(host).get("p:x")
    assert (tpl.pack, tpl.plugin) == (PackInfo("dist-x", "3.1"), "p")
