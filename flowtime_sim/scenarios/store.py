"""Sweep artifacts in a root: ``sweeps/{sweep_id}/catalog.json``, published atomically.

A sweep folder goes through the same no-clobber :meth:`~flowtime_sim.storage.Storage.publish`
and the same listing index as models and runs, so ``list --kind sweep`` and ``reindex`` know
it; its catalog validates against the catalog schema's ``sweep`` kind.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from flowtime_sim.errors import ConflictError, NotFoundError
from flowtime_sim.ids import check_id

if TYPE_CHECKING:
    from flowtime_sim.registry import Registry

SWEEPS = "sweeps"


@dataclass(frozen=True, slots=True)
class SweepArtifact:
    """One stored sweep: its catalog and where it lives."""

    catalog: Mapping[str, Any]
    key: str  # "sweeps/{id}"

    @property
    def id(self) -> str:
        return str(self.catalog["id"])

    @property
    def scenarios(self) -> list[Mapping[str, Any]]:
        return list(self.catalog["scenarios"])

    @property
    def run_ids(self) -> list[str]:
        return [str(s["run_id"]) for s in self.catalog["scenarios"]]


def sweep_key(sweep_id: str) -> str:
    return f"{SWEEPS}/{check_id(sweep_id, what='sweep id')}"


def find_sweep(registry: Registry, sweep_id: str) -> SweepArtifact | None:
    """The stored sweep, or ``None`` (also when it was deleted)."""
    key = sweep_key(sweep_id)
    if registry._deleted(key):
        return None
    try:
        data = registry.storage.read(f"{key}/catalog.json")
    except KeyError:
        return None
    return SweepArtifact(json.loads(data), key)


def load_sweep(registry: Registry, sweep_id: str) -> SweepArtifact:
    found = find_sweep(registry, sweep_id)
    if found is None:
        raise NotFoundError(
            f"no sweep {sweep_id!r} in {registry.storage.url}; see "
            "'flowtime-sim list --kind sweep'",
            field="id",
        )
    return found


def refuse_deleted(registry: Registry, sweep_id: str) -> None:
    """A :class:`ConflictError` when the sweep was deleted: like a run's, its id stays taken
    (gc purges its files, the tombstone stays), so the same sweep cannot be made again."""
    if registry._deleted(sweep_key(sweep_id)):
        raise ConflictError(
            f"sweep {sweep_id} was deleted and keeps its id; its models and runs are still "
            "stored: compare or show them by their ids, or change the grid, --set or --seed "
            "for a new sweep"
        )


def publish_sweep(registry: Registry, catalog: dict[str, Any]) -> tuple[SweepArtifact, bool]:
    """Publish ``catalog`` as a sweep folder. ``(artifact, True)`` when this call made it
    visible, ``(the stored one, False)`` when a sweep with that id was already there."""
    from flowtime_sim.registry.catalog import dump_catalog, validate_catalog

    validate_catalog(catalog)
    key = sweep_key(str(catalog["id"]))
    # through the registry's publication: recorded in the ledger and indexed like any artifact
    if registry._publish(key, {"catalog.json": dump_catalog(catalog)}, catalog):
        return SweepArtifact(catalog, key), True
    return load_sweep(registry, str(catalog["id"])), False
