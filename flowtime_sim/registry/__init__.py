"""Persistent, versioned artifacts: models and runs in a storage root (SPEC §6–§8)."""

from flowtime_sim.registry.catalog import Created, ModelArtifact, RunArtifact
from flowtime_sim.registry.index import Page, Query
from flowtime_sim.registry.store import Registry, model_id_for

__all__ = ["Created", "ModelArtifact", "Page", "Query", "Registry", "RunArtifact",
           "model_id_for"]
