"""URLs of stored artifacts, and the responses built from them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal
from urllib.parse import quote

from fastapi import Request, Response
from pydantic import BaseModel

from flowtime_sim.service.schemas import ArtifactView, CreatedModel, CreatedRun, VersionSummary

if TYPE_CHECKING:
    from flowtime_sim.registry import Created, ModelArtifact, RunArtifact
    from flowtime_sim.service.access import Access

#: The media types files are served as. Anything else (a preview plugin may name its file as
#: it likes) is a download, never a page that would run on this origin.
MEDIA_TYPES = {
    ".yaml": "application/yaml",
    ".yml": "application/yaml",
    ".json": "application/json",
    ".svg": "image/svg+xml",
    ".csv": "text/csv; charset=utf-8",
    ".png": "image/png",
}
DOWNLOAD = "application/octet-stream"
#: Stored files are data or images, never documents: no scripts, no plugins, no navigation.
FILE_POLICY = "default-src 'none'; sandbox"
SVG_POLICY = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; sandbox"


def media_type(name: str) -> str:
    suffix = name[name.rfind(".") :].lower() if "." in name else ""
    return MEDIA_TYPES.get(suffix, DOWNLOAD)


def model_url(model_id: str, version: int | None = None) -> str:
    return f"/sim/models/{model_id}" + (f"/v{version}" if version is not None else "")


def run_url(run_id: str) -> str:
    return f"/v1/artifacts/{run_id}"


def catalog_url(art: ModelArtifact | RunArtifact) -> str:
    if art.catalog["kind"] == "model":
        return model_url(art.id, int(art.catalog["version"]))
    return run_url(art.id)


def file_url(art: ModelArtifact | RunArtifact, name: str) -> str:
    return f"{catalog_url(art)}/files/{quote(name, safe='')}"


def page_url(catalog: dict[str, object]) -> str:
    """Where the artifacts page shows this artifact."""
    if catalog["kind"] == "model":
        return f"/models/{catalog['id']}?version={catalog['version']}"
    if catalog["kind"] == "sweep":
        return f"/sweeps/{catalog['id']}"
    return f"/runs/{catalog['id']}"


def artifact_view(art: ModelArtifact | RunArtifact) -> ArtifactView:
    cat = dict(art.catalog)
    names = sorted([*cat.get("files", {}), "catalog.json"])
    kind: Literal["model", "run"] = "model" if cat["kind"] == "model" else "run"
    links = {"self": catalog_url(art), "page": page_url(cat)}
    if kind == "model":
        links["versions"] = f"/sim/models/{art.id}/versions"
        links["runs"] = f"/v1/artifacts?kind=run&model={art.id}"
    elif cat.get("model_id"):
        links["model"] = model_url(str(cat["model_id"]), cat.get("model_version"))
    return ArtifactView(
        kind=kind,
        id=art.id,
        version=int(cat["version"]) if kind == "model" else None,
        catalog=cat,
        files={n: file_url(art, n) for n in names},
        links=links,
    )


def version_summary(art: ModelArtifact) -> VersionSummary:
    cat = art.catalog
    return VersionSummary(
        version=art.version,
        template_version=str(cat["template_version"]),
        created_utc=str(cat["created_utc"]),
        inputs_hash=str(cat["inputs_hash"]),
        derived_from=cat.get("derived_from"),
        owner=str(cat.get("owner", "")),
        visibility=cat.get("visibility", "private"),
        url=model_url(art.id, art.version),
    )


def artifact_path(created: Created) -> str:
    return f"{created.root.rstrip('/')}/{created.artifact.key}"


def created_model(created: Created) -> CreatedModel:
    art = created.artifact
    return CreatedModel(
        model_id=art.id,
        version=int(art.catalog["version"]),
        artifact_path=artifact_path(created),
        catalog_url=catalog_url(art),
        inputs_hash=str(art.catalog["inputs_hash"]),
        status="unchanged" if created.unchanged else "created",
        warnings=list(created.warnings),
    )


def created_run(created: Created) -> CreatedRun:
    art = created.artifact
    return CreatedRun(
        run_id=art.id,
        model_id=art.catalog.get("model_id"),
        artifact_path=artifact_path(created),
        catalog_url=catalog_url(art),
        status="unchanged" if created.unchanged else "created",
        warnings=list(created.warnings),
    )


def json_response(
    view: BaseModel, status: int = 200, headers: dict[str, str] | None = None
) -> Response:
    """``view`` as JSON. Routes return this rather than the model so that FastAPI does not
    validate and serialise it again (in one more thread hop) on the way out."""
    return Response(
        view.model_dump_json(), status_code=status, headers=headers, media_type="application/json"
    )


def created_response(view: CreatedModel | CreatedRun) -> Response:
    """201 with a ``Location`` for something new, 200 for something already stored."""
    if view.status == "created":
        return json_response(view, 201, {"Location": view.catalog_url})
    return json_response(view)


def file_response(
    request: Request, access: Access, art: ModelArtifact | RunArtifact, name: str
) -> Response:
    """A stored file with its media type; its recorded hash is the ETag (files never change)."""
    data = access.read_file(art, name)
    digest = art.catalog.get("files", {}).get(name)
    kind = media_type(name)
    headers = {"Content-Security-Policy": SVG_POLICY if kind == "image/svg+xml" else FILE_POLICY}
    if kind == DOWNLOAD:
        headers["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(name)}"
    if digest:
        headers["ETag"] = f'"{digest}"'
        if request.headers.get("if-none-match") == headers["ETag"]:
            return Response(status_code=304, headers=headers)
    return Response(data, media_type=kind, headers=headers)
