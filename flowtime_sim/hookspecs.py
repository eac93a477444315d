"""The plugin contract: every hook flowtime-sim calls, and nothing else.

Hook names start with ``flowtime_``. Plugins implement them with
``@flowtime_sim.hookimpl``; the host registers its own defaults the same way.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from flowtime_sim.deprecations import TEMPLATE_PACKS_HOOK
from flowtime_sim.markers import hookspec

if TYPE_CHECKING:
    from flowtime_sim.model.types import Model
    from flowtime_sim.registry import ModelArtifact, RunArtifact
    from flowtime_sim.types import (
        IndexBackend,
        ParameterSources,
        Preview,
        ResolvedParameters,
        StorageBackend,
        Template,
    )


@hookspec
def flowtime_templates() -> Iterable[Template]:
    """Return the templates this plugin provides.

    Called once per plugin when the host builds its template index; every result is collected.
    Return :class:`~flowtime_sim.types.Template` objects, never dicts. The host fills in
    ``pack`` from the distribution that registered the plugin.

    Most packs need no Python for this: a ``flowtime_pack.toml`` beside the package's
    ``__init__.py`` lets the host read the manifests without importing the pack. Implement the
    hook when templates are generated::

        from flowtime_sim import Template, TemplateManifest, hookimpl

        @hookimpl
        def flowtime_templates():
            manifest = TemplateManifest(id="hello", version="1.0.0", title="Hello")
            return [Template(manifest=manifest, read_body=lambda: BODY)]
    """
    raise NotImplementedError  # pragma: no cover - specification only


@hookspec(warn_on_impl=TEMPLATE_PACKS_HOOK.warning())
def flowtime_template_packs() -> Iterable[Template]:
    """Deprecated name of :func:`flowtime_templates`; removed in plugin API 2.0.

    The host still collects its results exactly like ``flowtime_templates``, but registering a
    pack that implements it emits
    :class:`~flowtime_sim.deprecations.FlowtimeSimDeprecationWarning`. Rename the function::

        @hookimpl
        def flowtime_template_packs():  # before: warns
            return templates_from_package(__name__)

        @hookimpl
        def flowtime_templates():  # after
            return templates_from_package(__name__)
    """
    raise NotImplementedError  # pragma: no cover


@hookspec(firstresult=True)
def flowtime_resolve_parameters(
    template: Template, sources: ParameterSources
) -> ResolvedParameters | None:
    """Resolve and validate the parameters for ``template``.

    Stops at the first non-None result. The built-in implementation (``trylast``) applies
    schema defaults, then the ``--params`` file, then ``--set`` values, validates against the
    template's JSON Schema and raises :class:`~flowtime_sim.errors.ParameterError` listing every
    problem. Return ``None`` to leave a template to the default::

        @hookimpl(tryfirst=True)
        def flowtime_resolve_parameters(template, sources):
            if template.id != "checkout":
                return None
            values = {"peak_factor": 1.5, **sources.file, **sources.sets}
            return ResolvedParameters("checkout", template.version, values)
    """
    raise NotImplementedError  # pragma: no cover


@hookspec(firstresult=True)
def flowtime_render_template(template: Template, parameters: ResolvedParameters) -> str | None:
    """Render ``template`` with resolved ``parameters`` into model YAML text.

    Stops at the first non-None result. Each implementation handles the template formats it
    knows (``template.format``) and returns ``None`` for the others; the host ships renderers
    for ``"jinja2"`` and ``"flowtime-upstream"``::

        @hookimpl
        def flowtime_render_template(template, parameters):
            if template.format != "mustache":
                return None
            return chevron.render(template.read_body(), dict(parameters.values))
    """
    raise NotImplementedError  # pragma: no cover


@hookspec(firstresult=True)
def flowtime_render_preview(model: Model, title: str | None) -> Preview | None:
    """Render a preview of ``model``'s dependency graph.

    Stops at the first non-None result. The built-in SVG renderer is registered ``trylast``, so
    any pack implementing this hook replaces it::

        @hookimpl
        def flowtime_render_preview(model, title):
            svg = my_layout(model).to_svg()
            return Preview(content=svg.encode(), media_type="image/svg+xml")
    """
    raise NotImplementedError  # pragma: no cover


@hookspec
def flowtime_storage_backends() -> Iterable[StorageBackend]:
    """Return the storage backends this plugin provides, one per URL scheme.

    Every result is collected; the host picks the backend whose ``scheme`` matches the root
    (a plain path means ``file``). Two plugins offering one scheme is an error naming both::

        @hookimpl
        def flowtime_storage_backends():
            return [StorageBackend(scheme="s3", open=S3Storage.from_url)]
    """
    raise NotImplementedError  # pragma: no cover


@hookspec
def flowtime_index_backends() -> Iterable[IndexBackend]:
    """Return the listing indexes this plugin provides, each for one or more URL schemes.

    Every result is collected. ``--index URL`` (or ``FLOWTIME_SIM_INDEX``) picks the backend
    whose ``schemes`` include the URL's scheme; without one, the backend marked ``default``
    (the built-in SQLite index beside the root) is used. An index that is
    ``authoritative`` (PostgreSQL) allocates versions and decides visibility itself, so every
    machine sharing it sees every write at once::

        @hookimpl
        def flowtime_index_backends():
            return [IndexBackend(schemes=("postgresql", "postgres"), open=open_postgres_index)]
    """
    raise NotImplementedError  # pragma: no cover


@hookspec
def flowtime_artifact_created(artifact: ModelArtifact | RunArtifact) -> None:
    """Called after a new model or run version became visible (not for "unchanged").

    ``artifact`` is a :class:`~flowtime_sim.registry.ModelArtifact` or
    :class:`~flowtime_sim.registry.RunArtifact`. Exceptions are reported as warnings and never
    undo the publication::

        @hookimpl
        def flowtime_artifact_created(artifact):
            notify_team(f"{artifact.id} v{artifact.version} is ready")
    """
    raise NotImplementedError  # pragma: no cover
