"""``catalog.json`` for model versions and runs: building, validating, reading (SPEC §7, §8)."""

from __future__ import annotations

import getpass
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from typing import Any

from flowtime_sim.errors import FlowtimeError

SCHEMA_VERSION = "treehouse.binned.v0"
VISIBILITIES = ("private", "team", "public")


def utc_now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def default_owner() -> str:
    """``FLOWTIME_OWNER``, else the operating-system user."""
    owner = os.environ.get("FLOWTIME_OWNER", "").strip()
    if owner:
        return owner
    try:
        return getpass.getuser() or "unknown"
    except (KeyError, OSError):
        return "unknown"


def generator() -> str:
    from flowtime_sim import __version__

    return f"flowtime-sim/{__version__}"


def dump_catalog(catalog: Mapping[str, Any]) -> bytes:
    """Stable, compact bytes: keys in the order built, no padding, UTF-8, final newline.

    Catalogs are read by programs and by ``flowtime-sim show``; compact JSON keeps a typical
    model catalog under 2 KB, which matters when a listing or an S3 sync reads thousands.
    """
    return (json.dumps(catalog, separators=(",", ":"), ensure_ascii=False) + "\n").encode()


@cache
def catalog_schema() -> dict[str, Any]:
    from importlib.resources import files

    data: dict[str, Any] = json.loads(
        files("flowtime_sim").joinpath("schemas/catalog.schema.json").read_text("utf-8")
    )
    return data


@cache
def _validator() -> Any:
    # jsonschema-rs: a compiled validator, ~200x faster than the pure-Python one, and every
    # creation validates a catalog. Tests check catalogs with jsonschema independently.
    import jsonschema_rs

    return jsonschema_rs.validator_for(catalog_schema())


def validate_catalog(catalog: Mapping[str, Any]) -> None:
    """Raise when a catalog the host is about to write does not match its schema (a bug)."""
    validator = _validator()
    if validator.is_valid(catalog):
        return
    error = next(iter(validator.iter_errors(catalog)))
    where = "/".join(str(p) for p in error.instance_path) or "(top level)"
    raise FlowtimeError(f"refusing to write an invalid catalog: {where}: {error.message}")


@dataclass(frozen=True, slots=True)
class ModelArtifact:
    """One stored model version: its catalog and where it lives."""

    catalog: Mapping[str, Any]
    key: str  # "models/{id}/v{n}"

    @property
    def id(self) -> str:
        return str(self.catalog["id"])

    @property
    def version(self) -> int:
        return int(self.catalog["version"])

    @property
    def ref(self) -> str:
        return f"{self.id}@v{self.version}"


@dataclass(frozen=True, slots=True)
class RunArtifact:
    catalog: Mapping[str, Any]
    key: str  # "runs/{id}"

    @property
    def id(self) -> str:
        return str(self.catalog["id"])


@dataclass(frozen=True, slots=True)
class Created:
    """The outcome of ``new``/``derive``/``run``: the artifact, and whether it already existed."""

    artifact: ModelArtifact | RunArtifact
    unchanged: bool
    root: str
    warnings: tuple[str, ...] = ()  # what went wrong without stopping it (e.g. no preview)
