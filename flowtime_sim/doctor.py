"""``doctor``: load every plugin, call every hook of every plugin once, render every template.

Each plugin's own implementation is called alone (through pluggy, guarded like any call), so a
failure names the plugin and hook even when another plugin would have answered first.
``flowtime_artifact_created`` is the one hook not called: it would announce an artifact that
does not exist to whatever the listener tells.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from flowtime_sim.clashes import installed_clashes
from flowtime_sim.errors import FlowtimeError, PluginError
from flowtime_sim.schema_check import template_schema_problems
from flowtime_sim.types import ParameterSources, ResolvedParameters, Template

if TYPE_CHECKING:
    from flowtime_sim.core import Flowtime
    from flowtime_sim.model.types import Model
    from flowtime_sim.rendering import RenderedModel

#: Hooks doctor never calls, and why.
NOT_CALLED = {"flowtime_artifact_created": "it would announce an artifact that does not exist"}


@dataclass
class Diagnosis:
    problems: list[str] = field(default_factory=list)
    #: Not wrong, but confusing for users: names several packs share (see :mod:`clashes`).
    warnings: list[str] = field(default_factory=list)
    templates_checked: int = 0
    hooks_called: int = 0


def diagnose(ft: Flowtime) -> Diagnosis:
    """Every problem of the installation, each naming the plugin (and hook or template)."""
    host = ft.host
    report = Diagnosis()
    report.problems += [f"plugin {r.name!r} {r.status}: {r.detail}" for r in host.failures()]
    report.problems += ft.templates.problems
    rendered: list[RenderedModel] = []
    usable: list[Template] = []  # hooks are called with a template whose schema is valid
    for versions in ft.templates.by_id.values():
        for tpl in versions:  # every version: a mistake in an old one matters as much
            invalid = template_schema_problems(tpl)
            if invalid:  # rendering would only repeat the first of them
                report.problems += [
                    f"template {tpl.plugin}:{tpl.id} {tpl.version}: {p}" for p in invalid
                ]
                continue
            usable.append(tpl)
            try:
                rendered.append(ft.render(f"{tpl.plugin}:{tpl.id}", version=tpl.version))
                report.templates_checked += 1
            except FlowtimeError as exc:
                report.problems.append(f"template {tpl.plugin}:{tpl.id} {tpl.version}: {exc}")
    first = usable[0] if usable else None
    model = rendered[0].model if rendered else None
    for hook in host.hook_names():
        if hook in NOT_CALLED:
            continue
        for plugin in host.plugins_implementing(hook):
            for kwargs in _arguments(hook, first, model):
                report.hooks_called += 1
                outcome = host.pm.only(plugin, hook, **kwargs)
                if isinstance(outcome, PluginError):
                    report.problems.append(str(outcome))
                    break
    report.problems = list(dict.fromkeys(report.problems))  # discovery fails twice alike
    report.warnings = installed_clashes(ft.templates)
    return report


def _arguments(
    hook: str, template: Template | None, model: Model | None
) -> list[dict[str, object]]:
    """What a hook is called with: nothing, the first template with its defaults, or the
    first model that rendered."""
    if hook in {
        "flowtime_templates",
        "flowtime_template_packs",
        "flowtime_storage_backends",
        "flowtime_index_backends",
    }:
        return [{}]
    if hook == "flowtime_render_preview":
        return [] if model is None else [{"model": model, "title": "doctor"}]
    if template is None:
        return []
    if hook == "flowtime_resolve_parameters":
        return [{"template": template, "sources": ParameterSources()}]
    if hook == "flowtime_render_template":
        defaults = ResolvedParameters(template.id, template.version, template.manifest.defaults())
        return [{"template": template, "parameters": defaults}]
    return []
