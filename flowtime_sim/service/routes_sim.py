"""``/sim/...``: create, derive and run models; read model versions and templates."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

from fastapi import APIRouter, Path, Query, Request, Response

from flowtime_sim.ids import ArtifactRef
from flowtime_sim.service.access import checked_ref
from flowtime_sim.service.context import context_of
from flowtime_sim.service.params import FILE_MEDIA, CallerDep, FileName, ModelId, Version
from flowtime_sim.service.problems import ServiceProblem, error_responses
from flowtime_sim.service.schemas import (
    ArtifactView,
    CreatedModel,
    CreatedRun,
    DeriveModel,
    NewModel,
    PackView,
    RunModel,
    TemplateList,
    TemplateView,
    VersionList,
)
from flowtime_sim.service.views import (
    artifact_view,
    created_model,
    created_response,
    created_run,
    file_response,
    json_response,
    version_summary,
)

if TYPE_CHECKING:
    from flowtime_sim.core import Flowtime
    from flowtime_sim.types import Template

router = APIRouter(prefix="/sim", responses=error_responses(401, 422))


@router.post(
    "/new",
    status_code=201,
    response_model=CreatedModel,
    responses={
        200: {
            "model": CreatedModel,
            "description": "Unchanged: this template "
            "version and these parameters are already stored.",
        },
        **error_responses(400, 404, 409, 413),
    },
)
def new_model(body: NewModel, request: Request, caller: CallerDep) -> Response:
    """Render a template into a model version (idempotent: 200 when it already exists)."""
    created = (
        context_of(request)
        .access(caller)
        .create_model(
            body.template,
            body.parameters,
            name=body.name,
            tags=body.tags,
            version=body.version,
            visibility=body.visibility,
        )
    )
    return created_response(created_model(created))


@router.post(
    "/derive",
    status_code=201,
    response_model=CreatedModel,
    responses={
        200: {"model": CreatedModel, "description": "Unchanged."},
        **error_responses(400, 404, 409, 413),
    },
)
def derive_model(body: DeriveModel, request: Request, caller: CallerDep) -> Response:
    """A new model from a stored version, with some parameters changed."""
    source = checked_ref(body.source, field="from", what="model id")
    created = (
        context_of(request)
        .access(caller)
        .derive(
            source,
            name=body.name,
            parameters=body.parameters,
            tags=body.tags,
            visibility=body.visibility,
        )
    )
    return created_response(created_model(created))


@router.post(
    "/run",
    status_code=201,
    response_model=CreatedRun,
    responses={
        200: {"model": CreatedRun, "description": "Unchanged: this run is already stored."},
        **error_responses(400, 404, 409, 413),
    },
)
def run_model(body: RunModel, request: Request, caller: CallerDep) -> Response:
    """Run a stored model (``model_id``) or a model given as YAML text (``model``)."""
    if (body.model_id is None) == (body.model is None):
        raise ServiceProblem(
            422,
            "give exactly one of model_id (a stored model) and model (a model as YAML text)",
            field="model_id",
        )
    act = context_of(request).access(caller)
    if body.model is not None:
        _only_with_model_id(body)
        limit = context_of(request).max_model_chars
        if len(body.model) > limit:
            raise ServiceProblem(
                422,
                f"the model text is {len(body.model)} characters long, "
                f"more than the limit of {limit}",
                field="model",
            )
        created = act.run_text(
            body.model,
            name=body.name or "model",
            seed=body.seed,
            mode=body.mode,
            visibility=body.visibility,
        )
    else:
        for name in ("name", "visibility"):
            if getattr(body, name) is not None:
                raise ServiceProblem(
                    422,
                    f"{name} applies only to a model given as YAML text; "
                    "a stored model's runs share its visibility",
                    field=name,
                )
        assert body.model_id is not None
        ref = checked_ref(body.model_id, field="model_id", what="model id")
        if body.version is not None:
            if ref.version not in (None, body.version):
                raise ServiceProblem(
                    422,
                    f"model_id {body.model_id!r} names version "
                    f"{ref.version} but version is {body.version}; give "
                    "one of them",
                    field="version",
                )
            ref = ArtifactRef(ref.id, body.version)
        created = act.run_model(ref, seed=body.seed, mode=body.mode)
    return created_response(created_run(created))


def _only_with_model_id(body: RunModel) -> None:
    if body.version is not None:
        raise ServiceProblem(
            422,
            "version applies only to model_id; a model given as YAML text has no versions",
            field="version",
        )


@router.get("/models/{model_id}", response_model=ArtifactView, responses=error_responses(404))
async def get_model(model_id: ModelId, request: Request, caller: CallerDep) -> Response:
    """The newest version's catalog, with links to its files."""
    ref = checked_ref(model_id, field="model_id", what="model id", allow_version=False)
    art = await context_of(request).read(caller, lambda act: act.model(ref))
    return json_response(artifact_view(art))


@router.get(
    "/models/{model_id}/versions", response_model=VersionList, responses=error_responses(404)
)
async def list_versions(model_id: ModelId, request: Request, caller: CallerDep) -> Response:
    """Every version of a model, oldest first."""
    ref = checked_ref(model_id, field="model_id", what="model id", allow_version=False)
    found = await context_of(request).read(caller, lambda act: act.versions(ref.id))
    return json_response(VersionList(model_id=ref.id, versions=[version_summary(v) for v in found]))


@router.get(
    "/models/{model_id}/v{version}", response_model=ArtifactView, responses=error_responses(404)
)
async def get_version(
    model_id: ModelId, version: Version, request: Request, caller: CallerDep
) -> Response:
    """One version's catalog, with links to its files."""
    ref = checked_ref(model_id, field="model_id", what="model id", allow_version=False)
    art = await context_of(request).read(
        caller, lambda act: act.model(ArtifactRef(ref.id, version))
    )
    return json_response(artifact_view(art))


@router.get(
    "/models/{model_id}/v{version}/files/{name}",
    response_class=Response,
    responses={
        200: {"content": FILE_MEDIA, "description": "The file."},
        304: {"description": "Not modified."},
        **error_responses(404),
    },
)
async def get_version_file(
    model_id: ModelId, version: Version, name: FileName, request: Request, caller: CallerDep
) -> Response:
    """A file of a version: ``model.yaml``, ``preview.svg`` or ``catalog.json``."""
    ref = checked_ref(model_id, field="model_id", what="model id", allow_version=False)
    return await context_of(request).read(
        caller,
        lambda act: file_response(request, act, act.model(ArtifactRef(ref.id, version)), name),
    )


@router.get("/templates", response_model=TemplateList)
async def list_templates(request: Request, caller: CallerDep) -> Response:
    """Every installed template (the default version of each), with its parameter schema."""
    ft = context_of(request).flowtime()
    return json_response(
        TemplateList(templates=[_template_view(ft, t) for t in ft.templates.latest()])
    )


@router.get(
    "/templates/{template_ref}", response_model=TemplateView, responses=error_responses(400, 404)
)
async def get_template(
    template_ref: Annotated[str, Path(max_length=200)],
    request: Request,
    caller: CallerDep,
    version: Annotated[str | None, Query(max_length=64)] = None,
) -> Response:
    """One template (``id`` or ``pack:id``), its default or a given ``version``."""
    ft = context_of(request).flowtime()
    return json_response(_template_view(ft, ft.template(template_ref, version)))


def _template_view(ft: Flowtime, tpl: Template) -> TemplateView:
    m = tpl.manifest
    siblings = [t.version for t in ft.templates.by_id.get(tpl.id, []) if t.plugin == tpl.plugin]
    pack = tpl.pack.as_dict() if tpl.pack else {"name": tpl.plugin, "version": "0"}
    return TemplateView(
        id=tpl.id,
        ref=f"{tpl.plugin}:{tpl.id}",
        version=tpl.version,
        versions=siblings,
        title=m.title,
        description=m.description,
        tags=list(m.tags),
        capabilities=list(m.capabilities),
        pack=PackView(**pack),
        parameters=dict(m.parameters),
    )
