"""The JSON the service accepts and returns (Pydantic models; they are the OpenAPI schema).

Request bodies refuse unknown fields, ``owner`` among them: the owner is always the
authenticated identity.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from flowtime_sim.yaml_dialect import YamlLimitError, check_limits

#: The id grammar (SPEC §6) as JSON Schema patterns, for the OpenAPI document. Requests are
#: checked by :func:`flowtime_sim.ids.parse_ref` itself, whose messages say what is wrong.
ID_PATTERN = "^[a-z0-9][a-z0-9._-]{0,127}$"
REF_PATTERN = "^[a-z0-9][a-z0-9._-]{0,127}(@v[1-9][0-9]{0,8})?$"
FILE_PATTERN = "^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$"

Visibility = Literal["private", "team", "public"]
Mode = Literal["expected", "sample"]
Tag = Annotated[str, StringConstraints(min_length=1, max_length=64)]
Name = Annotated[str, StringConstraints(min_length=1, max_length=200)]


def _bounded(value: dict[str, Any]) -> dict[str, Any]:
    """Parameters in a body keep the limits of a parameters file (nesting, integer digits)."""
    try:
        check_limits(value)
    except YamlLimitError as exc:
        raise ValueError(str(exc)) from None
    return value


Parameters = Annotated[
    dict[str, Any],
    AfterValidator(_bounded),
    Field(description="Parameter values; the template's JSON Schema defaults fill in the rest."),
]
# 64-bit seeds, signed or not, as the engine's PCG32 takes them.
Seed = Annotated[int, Field(ge=-(2**63), lt=2**64)]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class NewModel(_Body):
    """``POST /sim/new``: render a template into a model version."""

    template: Annotated[str, StringConstraints(min_length=1, max_length=200)] = Field(
        description="Template id, or `pack:id` when several packs offer one id.",
        examples=["checkout"],
    )
    name: Name | None = Field(None, description="Display name; also the slug of the model id.")
    parameters: Parameters = Field(default_factory=dict)
    tags: list[Tag] = Field(default_factory=list, max_length=50)
    version: Annotated[str, StringConstraints(min_length=1, max_length=64)] | None = Field(
        None, description="Template version (default: the newest release)."
    )
    visibility: Visibility | None = Field(None, description="Default: private.")


class DeriveModel(_Body):
    """``POST /sim/derive``: a new model from a stored version with parameters changed."""

    model_config = ConfigDict(extra="forbid", populate_by_name=False)

    source: Annotated[str, StringConstraints(min_length=1, max_length=140)] = Field(
        alias="from",
        description="`ID` or `ID@vN` of the model to start from.",
        json_schema_extra={"pattern": REF_PATTERN},
    )
    name: Name
    parameters: Parameters
    tags: list[Tag] = Field(default_factory=list, max_length=50)
    visibility: Visibility | None = Field(None, description="Default: the source's.")


class RunModel(_Body):
    """``POST /sim/run``: give exactly one of ``model_id`` (a stored model) and ``model``
    (model YAML text)."""

    model_id: Annotated[str, StringConstraints(min_length=1, max_length=140)] | None = Field(
        None,
        description="`ID` or `ID@vN` of a stored model.",
        json_schema_extra={"pattern": REF_PATTERN},
    )
    version: Annotated[int, Field(ge=1, le=999_999_999)] | None = Field(
        None, description="Version of `model_id` (default: the newest)."
    )
    model: str | None = Field(None, description="A model as YAML text (SPEC §5).")
    name: Name | None = Field(
        None, description="With `model`: the slug of the run id (default: `model`)."
    )
    visibility: Visibility | None = Field(
        None,
        description="With `model`: default private; a stored model's runs share its visibility.",
    )
    seed: Seed | None = Field(None, description="Default: the model's `rng.seed`, else 0.")
    mode: Mode = "expected"


class CreatedModel(BaseModel):
    model_id: str
    version: int
    artifact_path: str = Field(description="Where the version folder is stored.")
    catalog_url: str = Field(description="The version's catalog and file links.")
    inputs_hash: str
    status: Literal["created", "unchanged"]
    warnings: list[str] = Field(
        default_factory=list,
        description="What went wrong without "
        "stopping the request, e.g. a preview renderer that failed.",
    )


class CreatedRun(BaseModel):
    run_id: str
    model_id: str | None
    artifact_path: str
    catalog_url: str
    status: Literal["created", "unchanged"]
    warnings: list[str] = Field(
        default_factory=list,
        description="What went wrong without "
        "stopping the request, e.g. a listener plugin that failed.",
    )


class ArtifactView(BaseModel):
    """A stored model version or run: its ``catalog.json`` and links to its files."""

    kind: Literal["model", "run"]
    id: str
    version: int | None = Field(description="The model version; null for runs.")
    catalog: dict[str, Any]
    files: dict[str, str] = Field(description="File name to URL, `catalog.json` included.")
    links: dict[str, str]


class VersionSummary(BaseModel):
    version: int
    template_version: str
    created_utc: str
    inputs_hash: str
    derived_from: str | None
    owner: str
    visibility: Visibility
    url: str


class VersionList(BaseModel):
    model_id: str
    versions: list[VersionSummary]


class ArtifactList(BaseModel):
    """One page of the registry, newest first; pass ``next_cursor`` back for the next."""

    artifacts: list[dict[str, Any]] = Field(description="Catalogs, as stored.")
    total: int = Field(description="How many artifacts match, on all pages.")
    next_cursor: str | None


class PackView(BaseModel):
    name: str
    version: str


class TemplateView(BaseModel):
    id: str
    ref: str = Field(description="`pack:id`, unambiguous when several packs offer `id`.")
    version: str
    versions: list[str] = Field(description="Every installed version, the default first.")
    title: str
    description: str
    tags: list[str]
    capabilities: list[str]
    pack: PackView
    parameters: dict[str, Any] = Field(description="The parameters' JSON Schema.")


class TemplateList(BaseModel):
    templates: list[TemplateView]


class Health(BaseModel):
    status: Literal["ok"]
    version: str
