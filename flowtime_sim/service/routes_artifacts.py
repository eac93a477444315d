"""``/v1/artifacts``: the registry listing, one artifact, its files; and ``/healthz``."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response

from flowtime_sim import __version__
from flowtime_sim.service.access import checked_ref
from flowtime_sim.service.context import context_of
from flowtime_sim.service.params import FILE_MEDIA, ArtifactId, CallerDep, FileName
from flowtime_sim.service.problems import error_responses
from flowtime_sim.service.schemas import ArtifactList, ArtifactView, Health, Tag
from flowtime_sim.service.views import artifact_view, file_response, json_response

router = APIRouter(responses=error_responses(401, 422))


@router.get("/v1/artifacts", response_model=ArtifactList, responses=error_responses(400))
def list_artifacts(
    request: Request,
    caller: CallerDep,
    kind: Literal["model", "run", "sweep"] | None = None,
    template: Annotated[str | None, Query(max_length=200, description="Template id.")] = None,
    tag: Annotated[
        list[Tag], Query(max_length=20, description="Repeatable: every tag must match.")
    ] = [],  # noqa: B006
    q: Annotated[
        str | None,
        Query(max_length=200, description="Text in the id, name, template, model or tags."),
    ] = None,
    owner: Annotated[str | None, Query(max_length=128)] = None,
    model: Annotated[
        str | None, Query(max_length=200, description="Only the runs of this model id.")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
    cursor: Annotated[
        str | None, Query(max_length=1000, description="`next_cursor` of the previous page.")
    ] = None,
) -> Response:
    """Models (their newest versions) and runs, newest first, one page at a time.

    Paging is by keyset: inserts while paging neither skip nor repeat an artifact.
    """
    from flowtime_sim.registry import Query as RegistryQuery

    page = (
        context_of(request)
        .access(caller)
        .listing(
            RegistryQuery(
                kind=kind,
                template=template or None,
                tags=tuple(tag),
                owner=owner or None,
                text=q or None,
                model_id=model or None,
                limit=limit,
                cursor=cursor or None,
            )
        )
    )
    return json_response(
        ArtifactList(artifacts=page.items, total=page.total, next_cursor=page.next_cursor)
    )


@router.get(
    "/v1/artifacts/{artifact_id}", response_model=ArtifactView, responses=error_responses(404)
)
async def get_artifact(artifact_id: ArtifactId, request: Request, caller: CallerDep) -> Response:
    """A run, or a model version (the newest unless the id ends in ``@vN``)."""
    ref = checked_ref(artifact_id, field="artifact_id", what="artifact id")
    art = await context_of(request).read(caller, lambda act: act.artifact(ref, field="artifact_id"))
    return json_response(artifact_view(art))


@router.get(
    "/v1/artifacts/{artifact_id}/files/{name}",
    response_class=Response,
    responses={
        200: {"content": FILE_MEDIA, "description": "The file."},
        304: {"description": "Not modified."},
        **error_responses(404),
    },
)
async def get_artifact_file(
    artifact_id: ArtifactId, name: FileName, request: Request, caller: CallerDep
) -> Response:
    """A file of a run (``binned_v0.csv``, ``catalog.json``) or of a model version."""
    ref = checked_ref(artifact_id, field="artifact_id", what="artifact id")
    return await context_of(request).read(
        caller,
        lambda act: file_response(request, act, act.artifact(ref, field="artifact_id"), name),
    )


health_router = APIRouter()


@health_router.get("/healthz", response_model=Health)
async def healthz() -> Health:
    """Liveness: answers without authentication."""
    return Health(status="ok", version=__version__)
