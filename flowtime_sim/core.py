"""The façade the CLI and the HTTP service share: one object, every operation."""

from __future__ import annotations

import builtins
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flowtime_sim.errors import NotFoundError, UserError
from flowtime_sim.ids import parse_ref
from flowtime_sim.types import ParameterSources, Template

if TYPE_CHECKING:
    from flowtime_sim.model.types import Model
    from flowtime_sim.plugins import PluginHost
    from flowtime_sim.registry import Created, ModelArtifact, Page, Query, Registry, RunArtifact
    from flowtime_sim.rendering import RenderedModel
    from flowtime_sim.runs import Progress, RunRequest
    from flowtime_sim.templates import TemplateIndex
    from flowtime_sim.types import Preview


#: Called with a model id before a model is stored; raises to refuse storing under that id.
Admit = Callable[[str], None]


class Flowtime:
    """Operations over the installed plugins (and, for artifacts, one root).

    ``template_paths`` adds FlowTime-Sim templates in the upstream format (files or folders).
    """

    def __init__(
        self,
        *,
        host: PluginHost | None = None,
        root: str | None = None,
        template_paths: Iterable[Path] = (),
        owner: str | None = None,
        storage_options: Mapping[str, str] | None = None,
        index: str | None = None,
    ) -> None:
        self._host = host
        self.root = root
        self.index = index  # --index / FLOWTIME_SIM_INDEX; None: the embedded default
        self.owner = owner
        self.storage_options = dict(storage_options or {})
        self.template_paths = list(template_paths)
        self._registries: dict[str, Registry] = {}

    @cached_property
    def host(self) -> PluginHost:
        from flowtime_sim.plugins import create_plugin_host, get_plugin_host

        if not self.template_paths:
            return self._host or get_plugin_host()
        host = self._host or create_plugin_host()
        host.add_template_paths(self.template_paths)
        return host

    @cached_property
    def templates(self) -> TemplateIndex:
        from flowtime_sim.templates import TemplateIndex

        return TemplateIndex.collect(self.host)

    def template(self, ref: str, version: str | None = None) -> Template:
        return self.templates.get(ref, version)

    def render(
        self, ref: str, sources: ParameterSources | None = None, *, version: str | None = None
    ) -> RenderedModel:
        """Resolve parameters for template ``ref`` and render a validated model."""
        from flowtime_sim.rendering import render, resolve_parameters

        template = self.template(ref, version)
        parameters = resolve_parameters(self.host, template, sources or ParameterSources())
        return render(self.host, template, parameters)

    # -- artifacts ------------------------------------------------------------------------

    def registry(self, root: str | None = None) -> Registry:
        """The registry of ``root`` (default: this façade's root, then the environment)."""
        from flowtime_sim.indexes import open_index
        from flowtime_sim.registry import Registry
        from flowtime_sim.registry.contracts import resolve_index
        from flowtime_sim.storage import open_storage, resolve_root

        url = resolve_root(root if root is not None else self.root)
        if url not in self._registries:
            storage = open_storage(self.host, url, self.storage_options)
            index_url = resolve_index(self.index)
            if index_url is None:  # the embedded index beside the root, opened on first use
                self._registries[url] = Registry(storage)
            else:
                self._registries[url] = _team_registry(
                    storage, open_index(self.host, index_url, storage)
                )
        return self._registries[url]

    def close(self) -> None:
        for registry in self._registries.values():
            registry.close()
        self._registries.clear()

    def _owner(self, owner: str | None = None) -> str:
        from flowtime_sim.registry.catalog import default_owner

        return owner or self.owner or default_owner()

    def create_model(
        self,
        template_ref: str,
        sources: ParameterSources | None = None,
        *,
        name: str | None = None,
        tags: Iterable[str] = (),
        version: str | None = None,
        visibility: str | None = None,
        root: str | None = None,
        owner: str | None = None,
        admit: Admit | None = None,
    ) -> Created:
        """Render ``template_ref`` and store it as a model version (idempotent).

        ``owner`` overrides the façade's owner (the service passes the caller's identity).
        ``admit`` is called with the model id before anything is stored and raises to refuse
        it (the service refuses ids whose stored versions the caller may not see).
        """
        rendered = self.render(template_ref, sources, version=version)
        # no visibility: the registry carries the model's own forward (private for a new one)
        return self._store_model(
            rendered,
            name=name,
            tags=_check_tags(tags),
            visibility=None if visibility is None else _visibility(visibility),
            root=root,
            owner=owner,
            admit=admit,
        )

    def derive(
        self,
        source_ref: str,
        *,
        name: str | None = None,
        sets: Mapping[str, object] | None = None,
        tags: Iterable[str] = (),
        visibility: str | None = None,
        root: str | None = None,
        owner: str | None = None,
        admit: Admit | None = None,
        params: Mapping[str, object] | None = None,
        version: str | None = None,
    ) -> Created:
        """A new model from an existing version with some parameters changed: ``params``
        (a parameters file's values) over the source's, ``sets`` over both. It is rendered by
        the same pack's template; ``version`` picks another version of it (moving a model to a
        newer one). ``admit`` works as in :meth:`create_model`."""
        from flowtime_sim.rendering import render, resolve_parameters

        source = self.registry(root).model(parse_ref(source_ref, what="model id"))
        cat = source.catalog
        sources = ParameterSources(
            file={**cat["parameters"], **(params or {})}, sets=dict(sets or {})
        )
        template = self._installed(cat, version)
        rendered = render(self.host, template, resolve_parameters(self.host, template, sources))
        return self._store_model(
            rendered,
            name=name or str(cat["name"]),
            tags=_check_tags([*cat.get("tags", []), *tags]),
            visibility=_visibility(visibility or str(cat.get("visibility", "private"))),
            root=root,
            owner=owner,
            admit=admit,
            derived_from=source.ref,
        )

    def _store_model(
        self,
        rendered: RenderedModel,
        *,
        name: str | None,
        tags: list[str],
        visibility: str | None,
        root: str | None,
        owner: str | None,
        admit: Admit | None,
        derived_from: str | None = None,
    ) -> Created:
        """Preview, catalog, publish, announce. A failing preview renderer costs only the
        preview: the version is stored without one, with a warning naming the plugin."""
        from flowtime_sim.catalogs import model_draft
        from flowtime_sim.errors import PluginError
        from flowtime_sim.rendering import render_preview

        display = name or rendered.template.id
        warnings: list[str] = []
        try:
            preview = render_preview(self.host, rendered.model, display)
        except PluginError as exc:
            preview = None
            warnings.append(f"{exc}; the model is stored without a preview")
        draft = model_draft(
            rendered,
            name=display,
            tags=tags,
            visibility=visibility,
            owner=self._owner(owner),
            preview=preview,
            derived_from=derived_from,
        )
        if admit is not None:
            admit(draft.model_id)
        created = self.registry(root).create_model(draft)
        warnings += self._announce(created)
        return replace(created, warnings=tuple(warnings)) if warnings else created

    def _announce(self, created: Created) -> builtins.list[str]:
        """Tell the plugins about a new version; a failing listener cannot undo it."""
        if created.unchanged:
            return []
        collected = self.host.collect("flowtime_artifact_created", artifact=created.artifact)
        return [f"{failure}; the artifact is published" for failure in collected.failures]

    def template_of(self, catalog: Mapping[str, Any]) -> Template:
        """The installed template a stored model was made from (sweeps, the page's form)."""
        return self._installed(catalog)

    def _installed(self, catalog: Mapping[str, Any], version: str | None = None) -> Template:
        """The template a model was made from: the same plugin and id, and the same version
        unless ``version`` asks for another."""
        tid, tversion = str(catalog["template_id"]), str(catalog["template_version"])
        pack = catalog.get("pack")
        plugin = pack.get("plugin") if isinstance(pack, Mapping) else None
        offered = [t for t in self.templates.by_id.get(tid, []) if plugin in (None, t.plugin)]
        for tpl in offered:
            if tpl.version == (version or tversion):
                return tpl
        have = ", ".join(t.version for t in offered) or "none"
        where = f"{plugin}:{tid}" if plugin else tid
        if version is not None:
            raise NotFoundError(
                f"template {where} has no version {version} (installed versions: {have})",
                field="version",
            )
        hint = "install the pack that provides it"
        if plugin == "templates-dir" or (
            isinstance(pack, Mapping) and pack.get("name") == "templates-dir"
        ):
            hint = (
                "it is a FlowTime-Sim template file: pass its folder or file with "
                "--templates-dir or --template-file"
            )
        raise UserError(
            f"template {where} {tversion}, which {catalog['id']} was made from, "
            f"is not installed (installed versions: {have}); {hint}"
        )

    def model(self, ref: str, root: str | None = None) -> ModelArtifact:
        return self.registry(root).model(parse_ref(ref, what="model id"))

    def artifact(self, ref: str, root: str | None = None) -> ModelArtifact | RunArtifact:
        return self.registry(root).artifact(parse_ref(ref))

    def read_file(
        self, artifact: ModelArtifact | RunArtifact, name: str, root: str | None = None
    ) -> bytes:
        """One file of a stored artifact (``catalog.json`` or a name in its ``files``)."""
        return self.registry(root).read_file(artifact, name)

    def versions(self, model_id: str, root: str | None = None) -> list[ModelArtifact]:
        return self.registry(root).versions(model_id)

    def list(self, query: Query, root: str | None = None) -> Page:
        return self.registry(root).list(query)

    def preview(self, model: Model, title: str | None = None) -> Preview:
        """The preview of ``model`` from whichever plugin renders it (the built-in SVG last)."""
        from flowtime_sim.errors import PluginError
        from flowtime_sim.rendering import render_preview

        result = render_preview(self.host, model, title)
        if result is None:
            raise PluginError(
                "no plugin rendered a preview (is builtin-preview disabled?)",
                pack="builtin-preview",
                hook="flowtime_render_preview",
            )
        return result

    def delete(
        self, ref: str, *, force: bool = False, root: str | None = None, owner: str | None = None
    ) -> builtins.list[str]:
        """Soft-delete a run, a model version, or every version of a model."""
        return self.registry(root).delete(parse_ref(ref), force=force, by=self._owner(owner))

    # -- runs -----------------------------------------------------------------------------

    def run_model(
        self,
        ref: str,
        *,
        seed: int | None = None,
        mode: str = "expected",
        root: str | None = None,
        progress: Progress | None = None,
        owner: str | None = None,
    ) -> Created:
        """Run a stored model version (newest by default) into a run artifact."""
        art, request = self.run_request(ref, seed=seed, mode=mode, root=root)
        return self._store_run(
            request, str(art.catalog.get("visibility", "private")), root, progress, owner
        )

    def run_request(
        self, ref: str, *, seed: int | None = None, mode: str = "expected", root: str | None = None
    ) -> tuple[ModelArtifact, RunRequest]:
        """The stored model version ``ref`` and what running it asks for, without running it:
        its run id is :func:`flowtime_sim.runs.run_id_for` of the request."""
        from flowtime_sim.model import parse_model
        from flowtime_sim.runs import RunRequest, model_slug

        registry = self.registry(root)
        art = registry.model(parse_ref(ref, what="model id"))
        text = registry.read_file(art, "model.yaml").decode("utf-8")
        model = parse_model(text, origin=f"model {art.ref}")
        request = RunRequest(
            model=model,
            model_hash=str(art.catalog["model_hash"]),
            slug=model_slug(art.id),
            seed=_seed(seed, model, mode),
            mode=_mode(mode),
            model_id=art.id,
            model_version=art.version,
        )
        return art, request

    def run_text(
        self,
        text: str,
        *,
        name: str,
        seed: int | None = None,
        mode: str = "expected",
        root: str | None = None,
        progress: Progress | None = None,
        visibility: str | None = None,
        owner: str | None = None,
    ) -> Created:
        """Run a model given as YAML text (``run --file``; ``POST /sim/run`` with ``model``)."""
        from flowtime_sim.canonical import canonical_hash
        from flowtime_sim.model import load_model_document, parse_model
        from flowtime_sim.runs import RunRequest, file_slug

        document = load_model_document(text, origin=name)  # parsed once, hashed once
        model = parse_model(document, origin=name)
        request = RunRequest(
            model=model,
            model_hash=canonical_hash(document),
            slug=file_slug(name),
            seed=_seed(seed, model, mode),
            mode=_mode(mode),
        )
        return self._store_run(request, _visibility(visibility), root, progress, owner)

    def _store_run(
        self,
        request: RunRequest,
        visibility: str,
        root: str | None,
        progress: Progress | None,
        owner: str | None,
    ) -> Created:
        from flowtime_sim.engine import ENGINE_VERSION
        from flowtime_sim.registry import Created
        from flowtime_sim.runs import execute, run_id_for

        registry = self.registry(root)
        run_id, inputs = run_id_for(request, ENGINE_VERSION)
        try:
            return Created(registry.run(run_id), unchanged=True, root=registry.storage.url)
        except NotFoundError:
            pass
        catalog, files = execute(
            request,
            run_id=run_id,
            inputs=inputs,
            owner=self._owner(owner),
            visibility=visibility,
            progress=progress,
        )
        created = registry.publish_run(catalog, files)
        warnings = self._announce(created)
        return replace(created, warnings=tuple(warnings)) if warnings else created


def _team_registry(storage: Any, index: Any) -> Registry:
    """The registry of ``storage`` with an index a plugin opened: a cache of the storage, or
    the authority on versions and visibility (reserve → upload → visible)."""
    from flowtime_sim.registry import Registry
    from flowtime_sim.registry.publication import TeamRegistry

    if getattr(index, "authoritative", False):
        return TeamRegistry(storage, index)
    return Registry(storage, open_index=lambda: index)


def _seed(seed: int | None, model: Model, mode: str) -> int:
    """``--seed``, else the model's ``rng.seed``, else 0: a run is always reproducible. In
    expected mode the seed changes nothing, and a given one is ignored (SPEC §8)."""
    if seed is None or mode != "sample":
        seed = model.rng.seed if model.rng is not None else 0
    if not -(2**63) <= seed < 2**64:
        raise UserError(f"seed {seed} does not fit in 64 bits", field="seed")
    return seed


def _mode(mode: str) -> str:
    from flowtime_sim.runs import MODES

    if mode not in MODES:
        raise UserError(f"mode {mode!r} must be 'expected' or 'sample'", field="mode")
    return mode


def _visibility(value: str | None) -> str:
    from flowtime_sim.registry.catalog import VISIBILITIES

    value = value or "private"
    if value not in VISIBILITIES:
        raise UserError(
            f"visibility {value!r} must be one of {', '.join(VISIBILITIES)}", field="visibility"
        )
    return value


def _check_tags(tags: Iterable[str]) -> list[str]:
    out = []
    for tag in tags:
        if not isinstance(tag, str) or not tag.strip() or len(tag) > 64:
            raise UserError(f"tag {tag!r} must be 1 to 64 characters", field="tags")
        out.append(tag.strip())
    return out
