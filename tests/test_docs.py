"""The documentation: every hook documented and tested, generated pages, the schema copy, and a
strict MkDocs build."""

from __future__ import annotations

import importlib.util
import inspect
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml

import flowtime_sim
from flowtime_sim.deprecations import DEPRECATIONS

REPO = Path(__file__).resolve().parents[1]
DOCS = REPO / "docs"
TESTS = REPO / "tests"


def docs_hooks() -> ModuleType:
    """``docs/hooks.py``, the MkDocs hook module that generates the reference pages."""
    spec = importlib.util.spec_from_file_location("flowtime_docs_hooks", DOCS / "hooks.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


HOOKS = docs_hooks()
SPECS: list[Callable[..., Any]] = HOOKS.hookspec_functions()
SPEC_IDS = [fn.__name__ for fn in SPECS]


def test_every_hook_in_the_contract_is_found() -> None:
    from flowtime_sim import hookspecs

    declared = sorted(n for n in vars(hookspecs) if n.startswith("flowtime_"))
    assert sorted(SPEC_IDS) == declared
    assert {
        "flowtime_templates",
        "flowtime_resolve_parameters",
        "flowtime_render_preview",
        "flowtime_storage_backends",
    } <= set(declared)


@pytest.mark.parametrize("spec", SPECS, ids=SPEC_IDS)
def test_every_hook_has_a_typed_signature(spec: Callable[..., Any]) -> None:
    sig = inspect.signature(spec)
    untyped = [p.name for p in sig.parameters.values() if p.annotation is inspect.Parameter.empty]
    assert untyped == [], f"{spec.__name__}: parameters without a type: {untyped}"
    assert sig.return_annotation is not inspect.Signature.empty, (
        f"{spec.__name__} has no return type"
    )


@pytest.mark.parametrize("spec", SPECS, ids=SPEC_IDS)
def test_every_hook_has_a_docstring_with_an_example_implementation(
    spec: Callable[..., Any],
) -> None:
    doc = inspect.getdoc(spec) or ""
    summary = doc.split("\n\n")[0]
    assert summary.strip(), f"{spec.__name__} has no docstring"
    example = doc.partition("::")[2]
    assert example, f"{spec.__name__}: the docstring has no example (a paragraph ending in ::)"
    assert "@hookimpl" in example and f"def {spec.__name__}(" in example, (
        f"{spec.__name__}: the example does not implement the hook"
    )
    if HOOKS.hookspec_options(spec).get("firstresult"):
        assert "Stops at the first non-None result" in doc, (
            f"{spec.__name__} is firstresult but its docstring does not say so"
        )


def _test_sources() -> dict[Path, str]:
    return {
        p: p.read_text(encoding="utf-8")
        for p in TESTS.rglob("test_*.py")
        if p.resolve() != Path(__file__).resolve()
    }


@pytest.mark.parametrize("spec", SPECS, ids=SPEC_IDS)
def test_every_hook_has_a_test(spec: Callable[..., Any]) -> None:
    found = [p for p, text in _test_sources().items() if re.search(rf"\b{spec.__name__}\b", text)]
    assert found, f"no test under tests/ mentions {spec.__name__}"


def test_the_schema_copy_in_the_docs_is_the_shipped_schema() -> None:
    shipped = (Path(flowtime_sim.__file__).parent / "schemas" / "catalog.schema.json").read_bytes()
    assert (DOCS / "catalog.schema.json").read_bytes() == shipped


# -- generated pages -------------------------------------------------------------------------


def test_the_hook_reference_shows_every_hook_with_its_signature_and_example() -> None:
    page = HOOKS.expand((DOCS / "reference" / "hooks.md").read_text(encoding="utf-8"))
    assert "<!-- flowtime:" not in page
    for spec in SPECS:
        assert f"## `{spec.__name__}`" in page
        assert HOOKS.signature(spec) in page
        assert f"def {spec.__name__}(" in page.split(f"## `{spec.__name__}`")[1]
    assert (
        "def flowtime_resolve_parameters(template: Template, sources: ParameterSources) "
        "-> ResolvedParameters | None"
    ) in page
    # deprecated hooks last
    headings = re.findall(r"^## `(flowtime_\w+)`", page, re.MULTILINE)
    assert headings[-1] == "flowtime_template_packs"
    assert "### `TemplateManifest`" in page and "| `parameters` |" in page
    assert "SPEC" not in page


def test_the_committed_hook_reference_is_what_the_generator_writes() -> None:
    committed = (DOCS / "reference" / "hooks.md").read_text(encoding="utf-8")
    assert "<!-- flowtime:" not in committed  # readable in the repository as it is
    assert committed == HOOKS.hook_reference_page(), (
        "docs/reference/hooks.md is out of date: run 'python docs/hooks.py'"
    )


def test_every_error_is_importable_from_the_package() -> None:
    from flowtime_sim import errors

    defined = sorted(
        name
        for name, value in vars(errors).items()
        if isinstance(value, type)
        and issubclass(value, Exception)
        and value.__module__ == errors.__name__
    )
    assert "ParameterError" in defined and "InvalidModelError" in defined
    for name in defined:
        assert name in flowtime_sim.__all__, name
        assert getattr(flowtime_sim, name) is getattr(errors, name)


def test_rst_becomes_markdown() -> None:
    doc = """Summary with ``code`` and :class:`~flowtime_sim.types.Template`.

    Paragraph (SPEC §4) ending in an example::

        @hookimpl
        def flowtime_x():
            return 1

    After.
    """
    assert HOOKS.rst_to_markdown(doc) == (
        "Summary with `code` and `Template`.\n\nParagraph ending in an example:\n\n"
        "```python\n@hookimpl\ndef flowtime_x():\n    return 1\n```\n\nAfter.\n"
    )


def test_the_compatibility_page_names_the_version_the_deprecations_and_the_refusal() -> None:
    page = HOOKS.expand((DOCS / "pack-authors" / "compatibility.md").read_text(encoding="utf-8"))
    assert f"This host implements plugin API **{flowtime_sim.PLUGIN_API_VERSION}**" in page
    for deprecation in DEPRECATIONS:
        assert deprecation.message() in page
        assert (
            f"| `{deprecation.replacement}` | {deprecation.since} | {deprecation.removal} |" in page
        )


def test_the_documented_refusal_is_the_hosts_message(fake_dist) -> None:
    """The message the compatibility page quotes is the one the host gives."""
    from flowtime_sim.plugins import create_plugin_host

    fake_dist("future_api_static", version="0.1.0")
    (record,) = [r for r in create_plugin_host().records if r.name == "future_api_static"]
    documented = re.search(
        r"^pack 'coffee-shop' .*$",
        (DOCS / "pack-authors" / "compatibility.md").read_text("utf-8"),
        re.MULTILINE,
    )
    assert documented is not None
    assert (
        record.detail.replace(
            "'future_api_static' (flowtime-pack-future-api-static",
            "'coffee-shop' (flowtime-pack-coffee-shop",
        )
        == documented.group()
    )


def test_an_unknown_marker_is_an_error() -> None:
    with pytest.raises(ValueError, match="unknown generated section 'nope'"):
        HOOKS.expand("<!-- flowtime:nope -->")


def test_every_page_is_in_the_navigation() -> None:
    config = yaml.load((REPO / "mkdocs.yml").read_text(encoding="utf-8"), Loader=yaml.SafeLoader)

    def pages(node: Any) -> list[str]:
        if isinstance(node, str):
            return [node]
        if isinstance(node, dict):
            return [p for v in node.values() for p in pages(v)]
        return [p for v in node for p in pages(v)]

    listed = sorted(pages(config["nav"]))
    on_disk = sorted(str(p.relative_to(DOCS)) for p in DOCS.rglob("*.md"))
    assert listed == on_disk


def test_decisions_are_collected() -> None:
    text = (DOCS / "decisions.md").read_text(encoding="utf-8")
    for topic in (
        "entry-point name",
        "flowtime_pack.toml",
        "8 hex digits",
        "newest first",
        "Soft delete",
        "The run seed",
        "Converted on load",
    ):
        assert topic in text, topic
    assert "decisions.md" in (DOCS / "index.md").read_text(encoding="utf-8")


@pytest.mark.slow
def test_the_site_builds_strictly(tmp_path: Path) -> None:
    for module in ("mkdocs", "material", "mkdocs_click"):
        pytest.importorskip(module, reason="needs the docs extra: pip install -e '.[docs]'")
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env={"NO_MKDOCS_2_WARNING": "1", "PATH": "/usr/bin:/bin"},
    )
    assert done.returncode == 0, done.stdout + done.stderr
    cli = (tmp_path / "reference" / "cli" / "index.html").read_text(encoding="utf-8")
    assert "flowtime-sim pack new" in cli and "--templates-dir" in cli
    hooks = (tmp_path / "reference" / "hooks" / "index.html").read_text(encoding="utf-8")
    assert "flowtime_storage_backends" in hooks
    assert (tmp_path / "catalog.schema.json").is_file()
