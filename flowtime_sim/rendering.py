"""From a template and user input to a validated model."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from flowtime_sim.errors import FlowtimeError, ModelError, PluginError, TemplateError
from flowtime_sim.types import ParameterSources, Preview, ResolvedParameters, Template

if TYPE_CHECKING:
    from flowtime_sim.model.types import Model
    from flowtime_sim.plugins import PluginHost


@dataclass(frozen=True, slots=True)
class RenderedModel:
    """A template rendered with resolved parameters: the YAML text and the validated model."""

    template: Template
    parameters: ResolvedParameters
    text: str
    model: Model
    document: Any  # the YAML document of ``text``, loaded once (for model_hash)


def resolve_parameters(host: PluginHost, template: Template,
                       sources: ParameterSources) -> ResolvedParameters:
    result = _call(host, "flowtime_resolve_parameters", template=template, sources=sources)
    if not isinstance(result, ResolvedParameters):
        raise PluginError(f"no plugin resolved the parameters of template {template.id} "
                          f"(got {type(result).__name__})", pack=template.plugin,
                          hook="flowtime_resolve_parameters")
    return result


def render(host: PluginHost, template: Template, parameters: ResolvedParameters) -> RenderedModel:
    """Render and validate. A model that fails validation is the template's fault: the error
    names the template, its version and the rendered line or node."""
    from flowtime_sim.model import load_model_document, parse_model

    text = _call(host, "flowtime_render_template", template=template, parameters=parameters)
    if not isinstance(text, str):
        raise PluginError(f"no renderer for template format {template.format!r} "
                          f"(template {template.id})", pack=template.plugin,
                          hook="flowtime_render_template")
    origin = f"template {template.id} {template.version}"
    try:
        document = load_model_document(text, origin=origin)
        model = parse_model(document, origin=origin)
    except ModelError as exc:
        raise TemplateError(f"template {template.id} {template.version} rendered an invalid "
                            f"model: {exc}") from None
    return RenderedModel(template, parameters, text, model, document)


def render_preview(host: PluginHost, model: Model, title: str | None) -> Preview | None:
    """The first preview any plugin renders (the built-in SVG renderer runs last)."""
    result = _call(host, "flowtime_render_preview", model=model, title=title)
    if result is not None and not isinstance(result, Preview):
        raise PluginError(f"flowtime_render_preview returned {type(result).__name__}, not a "
                          "Preview", pack="?", hook="flowtime_render_preview")
    return result


def _call(host: PluginHost, hook: str, **kwargs: object) -> object:
    """Call a firstresult hook; a plugin's unexpected exception becomes a PluginError."""
    try:
        return getattr(host.hook, hook)(**kwargs)
    except FlowtimeError:
        raise
    except Exception as exc:
        raise PluginError(f"hook {hook} failed: {type(exc).__name__}: {exc}",
                          pack="?", hook=hook) from exc
