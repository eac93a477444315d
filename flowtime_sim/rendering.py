"""From a template and user input to a validated model."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from flowtime_sim.errors import ModelError, PluginError
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


def resolve_parameters(
    host: PluginHost, template: Template, sources: ParameterSources
) -> ResolvedParameters:
    hook = "flowtime_resolve_parameters"
    result = host.first(hook, template=template, sources=sources)
    if result is None:
        raise PluginError(
            f"no plugin resolved the parameters of template {template.id}",
            pack=template.plugin,
            hook=hook,
        )
    if not isinstance(result.value, ResolvedParameters):
        raise PluginError(
            f"plugin {result.plugin!r}: {hook} returned a "
            f"{type(result.value).__name__}, not ResolvedParameters",
            pack=result.plugin,
            hook=hook,
        )
    return result.value


def render(host: PluginHost, template: Template, parameters: ResolvedParameters) -> RenderedModel:
    """Render and validate. A model that fails validation is the template's fault: the error
    (:class:`~flowtime_sim.errors.InvalidModelError`) names the template, its version, the
    model line and the template line that wrote it."""
    from flowtime_sim.model import load_model_document, parse_model

    hook = "flowtime_render_template"
    result = host.first(hook, template=template, parameters=parameters)
    if result is None:
        raise PluginError(
            f"no renderer for template format {template.format!r} (template {template.id})",
            pack=template.plugin,
            hook=hook,
        )
    text = result.value
    if not isinstance(text, str):
        raise PluginError(
            f"plugin {result.plugin!r}: {hook} returned a "
            f"{type(text).__name__}, not the model text",
            pack=result.plugin,
            hook=hook,
        )
    from flowtime_sim.kept_models import keep

    kept = keep(template, text)
    origin = f"template {template.id} {template.version}"
    try:
        document = load_model_document(text, origin=origin)
        model = parse_model(document, origin=origin)
    except ModelError as exc:
        from flowtime_sim.render_errors import invalid_model

        raise invalid_model(template, parameters, text, exc, kept) from None
    return RenderedModel(template, parameters, text, model, document)


def render_preview(host: PluginHost, model: Model, title: str | None) -> Preview | None:
    """The first preview any plugin renders (the built-in SVG renderer runs last); ``None``
    when no plugin renders one. A failing renderer raises a PluginError naming it."""
    hook = "flowtime_render_preview"
    result = host.first(hook, model=model, title=title)
    if result is None:
        return None
    if not isinstance(result.value, Preview):
        raise PluginError(
            f"plugin {result.plugin!r}: {hook} returned a "
            f"{type(result.value).__name__}, not a Preview",
            pack=result.plugin,
            hook=hook,
        )
    return result.value
