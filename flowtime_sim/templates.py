"""Template manifests on disk, and the index of every template the installed plugins provide."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

import yaml

from flowtime_sim.errors import FlowtimeError, NotFoundError, PluginError, UserError
from flowtime_sim.types import PackInfo, Template, TemplateManifest, semver_key
from flowtime_sim.yamlsafe import yaml_problem

if TYPE_CHECKING:
    from flowtime_sim.plugins import PluginHost

MANIFEST_NAME = "template.yaml"
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_manifest_file(path: Path) -> Template:
    """Read one ``template.yaml`` (and name the body file it points to) as a :class:`Template`."""
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader)
    except OSError as exc:
        raise ValueError(f"{path}: cannot read template manifest: {exc}") from None
    except yaml.YAMLError as exc:
        raise ValueError(f"{path}: template manifest is not valid YAML: {yaml_problem(exc)}"
                         ) from None
    if not isinstance(data, Mapping):
        raise ValueError(f"{path}: a template manifest must be a mapping")
    known = {"id", "version", "title", "description", "tags", "capabilities", "parameters",
             "body"}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ValueError(f"{path}: unknown manifest key(s) {', '.join(unknown)}; "
                         f"allowed: {', '.join(sorted(known))}")
    try:
        manifest = TemplateManifest(
            id=str(data["id"]),
            version=str(data["version"]),
            title=str(data.get("title", "")),
            description=str(data.get("description", "")).strip(),
            tags=tuple(str(t) for t in data.get("tags") or ()),
            capabilities=tuple(str(c) for c in data.get("capabilities") or ()),
            parameters=data.get("parameters") or {"type": "object"},
        )
    except KeyError as exc:
        raise ValueError(f"{path}: manifest lacks required key {exc.args[0]!r}") from None
    except ValueError as exc:
        raise ValueError(f"{path}: {exc}") from None
    body = path.parent / str(data.get("body", "model.yaml.j2"))
    if not body.is_file():
        raise ValueError(f"{path}: body file {body.name!r} not found beside the manifest")
    return Template(manifest=manifest, read_body=lambda: body.read_text(encoding="utf-8"),
                    format="jinja2", origin=str(body))


def templates_in_folder(folder: Path) -> list[Template]:
    """Every template version under ``folder``: one sub-folder holding a manifest each."""
    return [load_manifest_file(p) for p in sorted(folder.glob(f"*/{MANIFEST_NAME}"))]


def templates_from_package(package: str, folder: str = "templates") -> list[Template]:
    """The templates shipped as package data of ``package`` (for packs written in Python)."""
    from importlib.resources import files

    return templates_in_folder(Path(str(files(package).joinpath(folder))))


@dataclass
class TemplateIndex:
    """All templates by id. Lookups accept ``id`` or ``pack:id``, and an optional version.

    Each id's versions are ordered as the default is chosen: the newest release first, then
    pre-releases (used by default only when a template has no release yet).
    """

    by_id: dict[str, list[Template]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    @classmethod
    def collect(cls, host: PluginHost) -> TemplateIndex:
        index = cls()
        # flowtime_template_packs is the deprecated name of flowtime_templates: still collected.
        impls = [(hook, impl) for hook in ("flowtime_templates", "flowtime_template_packs")
                 for impl in getattr(host.hook, hook).get_hookimpls()]
        for hook, impl in impls:
            dist = host.dists.get(impl.plugin_name)
            try:
                offered = _offered(impl.function())
            except Exception as exc:  # a broken pack loses its templates, nothing more
                written_for_users = isinstance(exc, _NotTemplates | FlowtimeError)
                reason = str(exc) if written_for_users else f"{type(exc).__name__}: {exc}"
                problem = f"plugin {impl.plugin_name!r}: {hook} failed: {reason}"
                if host.strict:
                    raise PluginError(problem, pack=impl.plugin_name, hook=hook) from exc
                index.problems.append(problem)
                continue
            for tpl in offered:
                index._add(_with_pack(tpl, impl.plugin_name, dist))
        for versions in index.by_id.values():
            versions.sort(key=_default_order, reverse=True)
        return index

    def _add(self, tpl: Template) -> None:
        versions = self.by_id.setdefault(tpl.id, [])
        for other in versions:
            if other.version == tpl.version and _pack_key(other) == _pack_key(tpl):
                self.problems.append(f"template {tpl.id} {tpl.version} is offered twice by "
                                     f"{_pack_key(tpl)}; the first one is used")
                return
        versions.append(tpl)

    def providers(self, template_id: str) -> list[str]:
        return sorted({_pack_key(t) for t in self.by_id.get(template_id, [])})

    def latest(self) -> list[Template]:
        """The default version of each template per providing pack, ordered by id then pack."""
        out: dict[tuple[str, str], Template] = {}
        for tid, versions in sorted(self.by_id.items()):
            for tpl in versions:
                out.setdefault((tid, _pack_key(tpl)), tpl)
        return list(out.values())

    def get(self, ref: str, version: str | None = None) -> Template:
        """Find a template by ``id`` or ``pack:id``; refuse ambiguous bare ids."""
        pack, _, tid = ref.rpartition(":")
        candidates = self.by_id.get(tid, [])
        if pack:
            candidates = [t for t in candidates if _pack_key(t) == pack]
        if not candidates:
            known = ", ".join(sorted(self.by_id)) or "none installed"
            raise NotFoundError(f"unknown template {ref!r}; available: {known} "
                                "(see 'flowtime-sim templates')", field="template")
        providers = sorted({_pack_key(t) for t in candidates})
        if len(providers) > 1:
            choices = ", ".join(f"{p}:{tid}" for p in providers)
            raise UserError(f"template id {tid!r} is provided by several packs "
                            f"({', '.join(providers)}); choose one of: {choices}",
                            field="template")
        if version is None:
            return candidates[0]
        for tpl in candidates:
            if tpl.version == version:
                return tpl
        have = ", ".join(t.version for t in candidates)
        raise NotFoundError(f"template {ref!r} has no version {version!r}; available: {have}",
                            field="version")


class _NotTemplates(TypeError):
    """A discovery hook returned something other than Template objects."""


def _offered(result: object) -> list[Template]:
    """The templates a discovery hook returned, refusing dicts and other stand-ins."""
    if isinstance(result, Mapping | str | bytes) or not isinstance(result, Iterable):
        raise _NotTemplates(f"returned a {type(result).__name__}, not a list of Template objects")
    offered = list(result)
    for item in offered:
        if not isinstance(item, Template):
            raise _NotTemplates(f"returned a {type(item).__name__} among its templates, "
                                "not a Template")
    return offered


def _default_order(tpl: Template) -> tuple[bool, tuple[int, int, int, int, str]]:
    """Releases before pre-releases, each newest first: the default is the newest release."""
    key = semver_key(tpl.version)
    return ("-" not in tpl.version.partition("+")[0], key)


def _pack_key(tpl: Template) -> str:
    return tpl.plugin


def _with_pack(tpl: Template, plugin_name: str, dist: PackInfo | None) -> Template:
    pack = tpl.pack or dist or PackInfo(plugin_name, "0")
    return replace(tpl, pack=pack, plugin=plugin_name)
