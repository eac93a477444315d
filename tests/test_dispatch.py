"""Every hook goes through one dispatcher: pluggy's calling rules, attribution, isolation."""

from __future__ import annotations

import ast
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import flowtime_sim
from flowtime_sim import hookimpl
from flowtime_sim.core import Flowtime
from flowtime_sim.errors import NotFoundError, PluginError
from flowtime_sim.plugins import PluginHost, create_plugin_host
from flowtime_sim.templates import TemplateIndex
from flowtime_sim.types import StorageBackend, Template, TemplateManifest

PACKAGE = Path(flowtime_sim.__file__).resolve().parent


def _template(tid: str = "wrapped") -> Template:
    body = (
        "schemaVersion: 1\ngrid: {bins: 2, binSize: 1, binUnit: hours}\n"
        "nodes:\n  - {id: a, kind: const, values: [1, 2]}\n"
    )
    return Template(TemplateManifest(id=tid, version="1.0.0", title=tid), lambda: body)


@pytest.fixture
def ft(tmp_path: Path) -> Iterator[Flowtime]:
    flowtime = Flowtime(host=create_plugin_host(), root=str(tmp_path / "root"), owner="me")
    yield flowtime
    flowtime.close()


def test_an_implementation_taking_fewer_arguments_than_the_spec_is_called(ft: Flowtime) -> None:
    calls: list[str] = []

    class Counter:
        @hookimpl
        def flowtime_artifact_created(self) -> None:  # no 'artifact': valid in pluggy
            calls.append("called")

    ft.host.register(Counter(), "counter")
    ft.create_model("checkout")
    assert calls == ["called"]


def test_a_wrapper_discovery_implementation_sees_and_changes_the_results() -> None:
    class Wrapper:
        @hookimpl(wrapper=True)
        def flowtime_templates(self) -> Iterator[None]:
            results = yield
            return [*results, [_template()]]

    host = create_plugin_host(load_entry_points=False, plugins=[("wrapping", Wrapper())])
    index = TemplateIndex.collect(host)
    (tpl,) = index.by_id["wrapped"]
    assert tpl.plugin == "wrapping"  # made by the wrapper: attributed to it
    assert "jinja2" not in index.by_id and index.problems == []


def test_results_name_the_plugin_that_returned_them() -> None:
    class Offer:
        @hookimpl
        def flowtime_templates(self) -> list[Template]:
            return [_template("offered")]

    host = create_plugin_host(load_entry_points=False, plugins=[("offering", Offer())])
    collected = host.collect("flowtime_templates")
    assert [(r.plugin, [t.id for t in r.value]) for r in collected.results] == [  # type: ignore[attr-defined]
        ("offering", ["offered"])
    ]
    first = host.first("flowtime_render_preview", model=_rendered(host).model, title=None)
    assert first is not None and first.plugin == "builtin-preview"


def _rendered(host: PluginHost) -> Any:
    from flowtime_sim.rendering import render, resolve_parameters
    from flowtime_sim.types import ParameterSources

    tpl = _template()
    return render(host, tpl, resolve_parameters(host, tpl, ParameterSources()))


class Raising:
    """One hook implementation that raises, per hook of the contract."""

    def __init__(self, hook: str) -> None:
        setattr(self, hook, hookimpl(tryfirst=True)(self._raisers()[hook]))

    @staticmethod
    def _raisers() -> dict[str, Any]:
        def boom(*_: object) -> None:
            raise RuntimeError("it fell over")

        return {
            "flowtime_templates": lambda: boom(),
            "flowtime_resolve_parameters": lambda template, sources: boom(),
            "flowtime_render_template": lambda template, parameters: boom(),
            "flowtime_render_preview": lambda model, title: boom(),
            "flowtime_storage_backends": lambda: boom(),
            "flowtime_artifact_created": lambda artifact: boom(),
        }


MESSAGE = "plugin 'bad': {hook} failed: RuntimeError: it fell over"


def test_a_raising_discovery_hook_costs_only_its_templates(ft: Flowtime) -> None:
    ft.host.register(Raising("flowtime_templates"), "bad")
    assert ft.templates.problems == [MESSAGE.format(hook="flowtime_templates")]
    assert "checkout" in ft.templates.by_id  # the other packs keep working


@pytest.mark.parametrize("hook", ["flowtime_resolve_parameters", "flowtime_render_template"])
def test_a_raising_render_hook_is_an_error_naming_the_pack_and_hook(
    ft: Flowtime, hook: str
) -> None:
    ft.host.register(Raising(hook), "bad")
    with pytest.raises(PluginError) as err:
        ft.create_model("checkout")
    assert str(err.value) == MESSAGE.format(hook=hook)
    assert (err.value.pack, err.value.hook) == ("bad", hook)


def test_a_raising_preview_hook_stores_the_model_without_a_preview(ft: Flowtime) -> None:
    ft.host.register(Raising("flowtime_render_preview"), "bad")
    created = ft.create_model("checkout")
    assert created.warnings == (
        MESSAGE.format(hook="flowtime_render_preview") + "; the model is stored without a preview",
    )
    assert sorted(created.artifact.catalog["files"]) == ["model.yaml"]
    assert ft.run_model(created.artifact.id).artifact.catalog["kind"] == "run"


def test_a_raising_storage_hook_costs_only_its_schemes(tmp_path: Path) -> None:
    host = create_plugin_host(load_entry_points=False)
    host.register(Raising("flowtime_storage_backends"), "bad")
    ft = Flowtime(host=host, root=str(tmp_path / "root"))
    assert ft.registry().storage.url == str(tmp_path / "root")  # file:// still opens
    with pytest.raises(NotFoundError) as err:
        ft.registry("s3://bucket/prefix")
    assert str(err.value) == (
        "no storage backend for s3:// roots (install flowtime-sim-s3 for s3:// roots); "
        "available schemes: file; " + MESSAGE.format(hook="flowtime_storage_backends")
    )
    ft.close()


def test_a_storage_hook_returning_something_else_costs_only_its_schemes(tmp_path: Path) -> None:
    class Odd:
        @hookimpl
        def flowtime_storage_backends(self) -> list[object]:
            return [{"scheme": "odd"}]

    host = create_plugin_host(load_entry_points=False, plugins=[("odd", Odd())])
    ft = Flowtime(host=host, root=str(tmp_path / "root"))
    assert ft.registry().storage.url  # file:// still opens
    with pytest.raises(
        NotFoundError,
        match="plugin 'odd': flowtime_storage_backends returned a dict, not a StorageBackend",
    ):
        ft.registry("odd://x")
    ft.close()


def test_a_storage_backend_that_fails_to_open_is_named(tmp_path: Path) -> None:
    def explode(url: str, options: object) -> Any:
        raise OSError("no route to the bucket")

    class Flaky:
        @hookimpl
        def flowtime_storage_backends(self) -> list[StorageBackend]:
            return [StorageBackend("flaky", explode)]

    host = create_plugin_host(load_entry_points=False, plugins=[("flaky", Flaky())])
    ft = Flowtime(host=host, root="flaky://x")
    with pytest.raises(PluginError) as err:
        ft.registry()
    assert (
        str(err.value) == "plugin 'flaky': opening flaky://x failed: OSError: no route to "
        "the bucket"
    )
    ft.close()


# -- one pack identity ------------------------------------------------------------------------


def _shared_pack(level_word: str) -> dict[str, str]:
    manifest = (
        "id: shared\nversion: 1.0.0\ntitle: Shared\nparameters:\n  type: object\n"
        "  properties: {level: {type: number, default: 5}}\n"
    )
    body = (
        "schemaVersion: 1\ngrid: {bins: 2, binSize: 1, binUnit: hours}\nnodes:\n"
        f"  - {{id: {level_word}, kind: const, values: [{{{{ level }}}}, {{{{ level }}}}]}}\n"
    )
    return {
        "flowtime_pack.toml": 'plugin_api = ">=1,<2"\n',
        "templates/shared/template.yaml": manifest,
        "templates/shared/model.yaml.j2": body,
    }


@pytest.fixture
def two_packs(fake_dist, tmp_path: Path) -> Iterator[Flowtime]:
    for name, node in (("alpha", "from_alpha"), ("beta", "from_beta")):
        files = {
            f"{name}/__init__.py": "",
            **{f"{name}/{k}": v for k, v in _shared_pack(node).items()},
        }
        fake_dist(name, files)
    flowtime = Flowtime(host=create_plugin_host(), root=str(tmp_path / "root"), owner="me")
    yield flowtime
    flowtime.close()


def test_the_same_request_to_two_packs_makes_two_models(two_packs: Flowtime) -> None:
    alpha = two_packs.create_model("alpha:shared", name="same")
    beta = two_packs.create_model("beta:shared", name="same")
    assert not beta.unchanged and beta.artifact.id != alpha.artifact.id
    assert beta.artifact.catalog["pack"] == {
        "name": "flowtime-pack-beta",
        "version": "1.0",
        "plugin": "beta",
    }


def test_derive_renders_with_the_pack_the_model_was_made_with(two_packs: Flowtime) -> None:
    from flowtime_sim.types import ParameterSources

    beta = two_packs.create_model("beta:shared", ParameterSources(sets={"level": 7}))
    derived = two_packs.derive(beta.artifact.id, name="derived", sets={"level": 9})
    text = two_packs.read_file(derived.artifact, "model.yaml").decode()
    assert "from_beta" in text and "from_alpha" not in text
    assert derived.artifact.catalog["pack"]["plugin"] == "beta"


def test_a_newer_template_version_is_the_next_version_of_the_same_model(cli) -> None:
    def made(*extra: str) -> dict[str, Any]:
        result = cli("new", "-t", "checkout", "-n", "evo", "--json", *extra)
        assert result.exit_code == 0, result.stderr
        return dict(json.loads(result.stdout))

    first = made("--version", "1.0.0")
    second = made()
    assert second["model_id"] == first["model_id"]
    assert (first["version"], second["version"]) == (1, 2)


# -- the import graph -------------------------------------------------------------------------


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(p): p for p in PACKAGE.rglob("*.py")}


def _imports(path: Path, *, top_level_only: bool) -> set[str]:
    """Modules of the package that ``path`` imports (``TYPE_CHECKING`` blocks included unless
    ``top_level_only``: then only what runs when the module is imported)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()

    def visit(node: ast.AST, runs_at_import: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                if not top_level_only:
                    visit(child, runs_at_import)
                continue
            inside_def = isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda)
            if inside_def and top_level_only:
                continue
            if isinstance(child, ast.ImportFrom) and child.module and child.level == 0:
                names = [f"{child.module}.{a.name}" for a in child.names]
                submodules = [n for n in names if n in MODULES]
                # "from package import submodule" needs the submodule, not the package's names
                found.update(
                    submodules if len(submodules) == len(names) else [child.module, *submodules]
                )
            elif isinstance(child, ast.Import):
                found.update(a.name for a in child.names)
            visit(child, runs_at_import and not inside_def)

    visit(tree, True)
    return {m for m in found if m == "flowtime_sim" or m.startswith("flowtime_sim.")}


def test_the_registry_imports_no_plugin_machinery() -> None:
    forbidden = (
        "flowtime_sim.plugins",
        "flowtime_sim.rendering",
        "flowtime_sim.hookspecs",
        "flowtime_sim.dispatch",
    )
    for name, path in MODULES.items():
        if name.startswith("flowtime_sim.registry"):
            bad = [m for m in _imports(path, top_level_only=False) if m.startswith(forbidden)]
            assert bad == [], f"{name} imports {bad}"


def test_no_import_cycle_in_the_package() -> None:
    graph = {
        name: {m for m in _imports(path, top_level_only=True) if m in MODULES}
        for name, path in MODULES.items()
    }
    state: dict[str, int] = {}

    def cycle_from(node: str, trail: list[str]) -> list[str] | None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if nxt == node:
                continue
            if state.get(nxt) == 1:
                return [*trail[trail.index(nxt) :], nxt] if nxt in trail else [node, nxt]
            if nxt not in state and (found := cycle_from(nxt, [*trail, nxt])):
                return found
        state[node] = 2
        return None

    for module in sorted(graph):
        if module not in state:
            assert cycle_from(module, [module]) is None
