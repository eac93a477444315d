"""Request parameters the routes share: the caller, ids and file names in paths."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path

from flowtime_sim.service.context import current_caller
from flowtime_sim.service.identity import Caller
from flowtime_sim.service.schemas import FILE_PATTERN, ID_PATTERN, REF_PATTERN

CallerDep = Annotated[Caller, Depends(current_caller)]
ModelId = Annotated[
    str, Path(description="A model id.", max_length=200, json_schema_extra={"pattern": ID_PATTERN})
]
ArtifactId = Annotated[
    str,
    Path(
        max_length=200,
        description="A run id, or a model id with an optional `@vN`.",
        json_schema_extra={"pattern": REF_PATTERN},
    ),
]
Version = Annotated[int, Path(ge=1, le=999_999_999, description="The version number n of vN.")]
FileName = Annotated[
    str,
    Path(
        max_length=200,
        description="A file of the artifact, or `catalog.json`.",
        json_schema_extra={"pattern": FILE_PATTERN},
    ),
]
#: What a file route may answer with (documented in the OpenAPI document).
FILE_MEDIA: dict[str, dict[str, object]] = {
    "application/yaml": {},
    "application/json": {},
    "image/svg+xml": {},
    "text/csv": {},
}
