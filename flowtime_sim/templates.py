"""The index of every template the installed plugins provide, by id, pack and version."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from flowtime_sim.errors import NotFoundError, PluginError, UserError
from flowtime_sim.skipped_templates import SkippedTemplate, collecting
from flowtime_sim.types import PackInfo, Template, semver_key

if TYPE_CHECKING:
    from flowtime_sim.plugins import PluginHost

#: The discovery hook, and its deprecated name whose results are still collected.
DISCOVERY_HOOKS = ("flowtime_templates", "flowtime_template_packs")


@dataclass
class TemplateIndex:
    """All templates by id. Lookups accept ``id`` or ``pack:id``, and an optional version.

    Each id's versions are ordered as the default is chosen: the newest release first, then
    pre-releases (used by default only when a template has no release yet).
    """

    by_id: dict[str, list[Template]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    #: Template versions left out because their manifests cannot be read.
    skipped: list[SkippedTemplate] = field(default_factory=list)

    @classmethod
    def collect(cls, host: PluginHost) -> TemplateIndex:
        index = cls()
        for hook in DISCOVERY_HOOKS:
            with collecting() as skipped:
                collected = host.collect(hook)
            for item in skipped:
                if host.strict:
                    raise PluginError(str(item), pack=item.plugin, hook=hook)
                index.skipped.append(item)
                index.problems.append(str(item))
            index.problems += [str(f) for f in collected.failures]
            for result in collected.results:
                try:
                    offered = _offered(result.value)
                except _NotTemplates as exc:  # a broken pack loses its templates, nothing more
                    problem = f"plugin {result.plugin!r}: {hook} failed: {exc}"
                    if host.strict:
                        raise PluginError(problem, pack=result.plugin, hook=hook) from None
                    index.problems.append(problem)
                    continue
                dist = host.dists.get(result.plugin)
                for tpl in offered:
                    index._add(_with_pack(tpl, result.plugin, dist))
        for versions in index.by_id.values():
            versions.sort(key=_default_order, reverse=True)
        return index

    def _add(self, tpl: Template) -> None:
        versions = self.by_id.setdefault(tpl.id, [])
        for other in versions:
            if other.version == tpl.version and _pack_key(other) == _pack_key(tpl):
                self.problems.append(
                    f"template {tpl.id} {tpl.version} is offered twice by "
                    f"{_pack_key(tpl)}; the first one is used"
                )
                return
        versions.append(tpl)

    def problems_of(self, plugin: str) -> list[str]:
        """The problems of ``plugin`` (its skipped templates, its failed discovery), each
        without the plugin's name in front."""
        prefix = f"plugin {plugin!r}: "
        return [p.removeprefix(prefix) for p in self.problems if p.startswith(prefix)]

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
            raise NotFoundError(
                f"unknown template {ref!r}; available: {known} (see 'flowtime-sim templates')",
                field="template",
            )
        providers = sorted({_pack_key(t) for t in candidates})
        if len(providers) > 1:
            choices = ", ".join(f"{p}:{tid}" for p in providers)
            raise UserError(
                f"template id {tid!r} is provided by several packs "
                f"({', '.join(providers)}); choose one of: {choices}",
                field="template",
            )
        if version is None:
            return candidates[0]
        for tpl in candidates:
            if tpl.version == version:
                return tpl
        have = ", ".join(t.version for t in candidates)
        raise NotFoundError(
            f"template {ref!r} has no version {version!r}; available: {have}", field="version"
        )


class _NotTemplates(TypeError):
    """A discovery hook returned something other than Template objects."""


def _offered(result: object) -> list[Template]:
    """The templates a discovery hook returned, refusing dicts and other stand-ins."""
    if isinstance(result, Mapping | str | bytes) or not isinstance(result, Iterable):
        raise _NotTemplates(f"returned a {type(result).__name__}, not a list of Template objects")
    offered = list(result)
    for item in offered:
        if not isinstance(item, Template):
            raise _NotTemplates(
                f"returned a {type(item).__name__} among its templates, not a Template"
            )
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
