"""What goes into a model's and a run's ``catalog.json``, built from typed inputs (SPEC §6–§8).

The façade builds a draft here; the registry only numbers, validates and publishes it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from flowtime_sim.canonical import canonical_hash, canonical_json, file_hash
from flowtime_sim.ids import check_id, slugify
from flowtime_sim.registry.catalog import SCHEMA_VERSION, generator, utc_now
from flowtime_sim.types import PackInfo, Preview, Template

if TYPE_CHECKING:
    from flowtime_sim.model.types import Model
    from flowtime_sim.rendering import RenderedModel
    from flowtime_sim.runs import RunRequest


@dataclass(frozen=True, slots=True)
class ModelDraft:
    """A model version ready to publish: every catalog field but ``version`` and
    ``created_utc``, which the registry sets when it publishes, and the version's files."""

    model_id: str
    identity: str
    inputs_hash: str
    catalog: Mapping[str, Any]
    files: Mapping[str, bytes] = field(default_factory=dict)
    #: what the request asked for; ``None`` lets the registry carry the model's own forward
    visibility: str | None = None


def changed_parameters(
    parameters: Mapping[str, Any], defaults: Mapping[str, Any]
) -> dict[str, Any]:
    """The parameters whose resolved value differs from the template version's default."""
    missing = object()
    return {
        k: v
        for k, v in parameters.items()
        if (d := defaults.get(k, missing)) is missing or canonical_json(d) != canonical_json(v)
    }


def model_identity(template: Template, parameters: Mapping[str, Any]) -> str:
    """Hash of what makes a model this model (SPEC §6): the template id, the plugin that
    provides it, and the parameters that differ from that template version's defaults. The
    template version is deliberately left out: a newer version of the template makes the next
    version of the same model."""
    changed = changed_parameters(parameters, template.manifest.defaults())
    return identity_hash(template.id, template.plugin, changed)


def identity_hash(template_id: str, plugin: str, changed: Mapping[str, Any]) -> str:
    """``canonical_hash({template_id, pack, parameters})`` of the changed parameters."""
    return canonical_hash({"template_id": template_id, "pack": plugin, "parameters": changed})


def model_id_for(name: str, identity: str) -> str:
    """``{slug}_{h8}``: the display name's slug and the identity's first 8 hex digits."""
    return check_id(f"{slugify(name)}_{identity.removeprefix('sha256:')[:8]}", what="model id")


def inputs_hash(template_id: str, template_version: str, parameters: Mapping[str, Any]) -> str:
    return canonical_hash(
        {"template_id": template_id, "template_version": template_version, "parameters": parameters}
    )


def pack_of(template: Template) -> dict[str, str]:
    """``{name, version, plugin}``: the distribution and the entry-point name."""
    pack = template.pack or PackInfo(template.plugin, "0")
    return {"name": pack.name, "version": pack.version, "plugin": template.plugin}


def topology_of(model: Model) -> dict[str, list[dict[str, str]]]:
    return {
        "nodes": [{"id": n.id, "kind": n.kind} for n in model.nodes],
        "edges": [{"from": a, "to": b} for a, b in model.edges],
    }


def model_draft(
    rendered: RenderedModel,
    *,
    name: str | None,
    tags: Iterable[str],
    visibility: str | None,
    owner: str,
    preview: Preview | None,
    derived_from: str | None = None,
) -> ModelDraft:
    tpl = rendered.template
    params = dict(rendered.parameters.values)
    display = name or tpl.id
    identity = model_identity(tpl, params)
    wanted = inputs_hash(tpl.id, tpl.version, params)
    files: dict[str, bytes] = {"model.yaml": rendered.text.encode("utf-8")}
    if preview is not None:
        files[preview.filename] = preview.content
    model_id = model_id_for(display, identity)
    catalog: dict[str, Any] = {
        "kind": "model",
        "id": model_id,
        "version": 0,
        "name": display,
        "created_utc": "",
        "schema_version": SCHEMA_VERSION,
        "template_id": tpl.id,
        "template_version": tpl.version,
        "pack": pack_of(tpl),
        "parameters": params,
        "topology": topology_of(rendered.model),
        "capabilities": list(tpl.manifest.capabilities),
        "tags": list(dict.fromkeys([*tpl.manifest.tags, *tags])),
        "source": "sim",
        "inputs_hash": wanted,
        "model_hash": canonical_hash(rendered.document),
        "identity": identity,
        "files": {k: file_hash(v) for k, v in sorted(files.items())},
    }
    if derived_from:
        catalog["derived_from"] = derived_from
    catalog.update(owner=owner, visibility=visibility or "private", generator=generator())
    return ModelDraft(model_id, identity, wanted, catalog, files, visibility)


def run_catalog(
    request: RunRequest,
    *,
    run_id: str,
    inputs: str,
    engine_version: str,
    owner: str,
    visibility: str,
) -> dict[str, Any]:
    """A run's catalog; ``files`` is left empty for the registry to fill in with each file's
    hash as it stores the file."""
    grid = request.model.grid
    grid_doc: dict[str, Any] = {
        "bins": grid.bins,
        "binSize": grid.bin_size,
        "binUnit": grid.bin_unit,
    }
    if grid.start is not None:
        grid_doc["start"] = grid.start.strftime("%Y-%m-%dT%H:%M:%SZ")
    catalog: dict[str, Any] = {
        "kind": "run",
        "id": run_id,
        "model_id": request.model_id,
        "model_version": request.model_version,
        "model_hash": request.model_hash,
        "created_utc": utc_now(),
        "schema_version": SCHEMA_VERSION,
        "seed": request.seed,
        "mode": request.mode,
        "engine_version": engine_version,
        "grid": grid_doc,
        "series": [o.series for o in request.model.outputs],
        "inputs_hash": inputs,
        "files": {},
        "owner": owner,
        "visibility": visibility,
        "source": "engine",
        "generator": generator(),
    }
    if request.model.warnings:
        catalog["warnings"] = list(request.model.warnings)
    return catalog
