"""Running a model into a run artifact (SPEC §8): ids, the catalog, the CSV."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, BinaryIO, Literal

from flowtime_sim.canonical import canonical_hash
from flowtime_sim.ids import check_id, slugify
from flowtime_sim.registry.catalog import SCHEMA_VERSION, generator, utc_now

if TYPE_CHECKING:
    from flowtime_sim.model.types import Model
    from flowtime_sim.storage import FileWriter

MODES = ("expected", "sample")
Progress = Callable[[int, int], None]


@dataclass(frozen=True, slots=True)
class RunRequest:
    """What to run: a parsed model, where it came from, and how."""

    model: Model
    model_hash: str
    slug: str
    seed: int
    mode: str
    model_id: str | None = None
    model_version: int | None = None


def model_slug(model_id: str) -> str:
    """``checkout-baseline_1a2b3c4d`` → ``checkout-baseline``."""
    slug, sep, tail = model_id.rpartition("_")
    return slug if sep and len(tail) == 8 else model_id


def file_slug(stem: str) -> str:
    return slugify(stem)


def run_id_for(request: RunRequest, engine_version: str) -> tuple[str, str]:
    """``(run_id, inputs_hash)``: the same model, mode and engine (and, in sample mode, seed)
    give the same run. The seed changes nothing in expected mode, so it is no part of an
    expected-mode run's identity."""
    identity: dict[str, Any] = {"model_hash": request.model_hash, "mode": request.mode,
                                "engine_version": engine_version}
    if request.mode == "sample":
        identity["seed"] = request.seed
    inputs = canonical_hash(identity)
    return check_id(f"{request.slug}-run_{inputs.removeprefix('sha256:')[:8]}",
                    what="run id"), inputs


def execute(request: RunRequest, *, owner: str, visibility: str,
            progress: Progress | None = None) -> tuple[dict[str, Any], dict[str, FileWriter]]:
    """Evaluate the model; return the run's catalog (its ``files`` left empty for the
    registry to fill in as it stores them) and its files as writers, so that the CSV is written
    straight to storage rather than held in memory. Nothing is stored here."""
    from flowtime_sim.engine import ENGINE_VERSION, evaluate, write_binned_csv
    from flowtime_sim.limits import check_cells

    check_cells(request.model)
    run_id, inputs = run_id_for(request, ENGINE_VERSION)
    mode: Literal["expected", "sample"] = "sample" if request.mode == "sample" else "expected"
    series = evaluate(request.model, mode=mode, seed=request.seed, progress=progress)

    def write_csv(out: BinaryIO) -> None:
        write_binned_csv(request.model, series, out)

    grid = request.model.grid
    grid_doc: dict[str, Any] = {"bins": grid.bins, "binSize": grid.bin_size,
                                "binUnit": grid.bin_unit}
    if grid.start is not None:
        grid_doc["start"] = grid.start.strftime("%Y-%m-%dT%H:%M:%SZ")
    catalog: dict[str, Any] = {
        "kind": "run", "id": run_id, "model_id": request.model_id,
        "model_version": request.model_version, "model_hash": request.model_hash,
        "created_utc": utc_now(), "schema_version": SCHEMA_VERSION, "seed": request.seed,
        "mode": request.mode, "engine_version": ENGINE_VERSION, "grid": grid_doc,
        "series": [o.series for o in request.model.outputs], "inputs_hash": inputs,
        "files": {},  # the registry records each file's hash as it stores the file
        "owner": owner, "visibility": visibility, "source": "engine",
        "generator": generator(),
    }
    if request.model.warnings:
        catalog["warnings"] = list(request.model.warnings)
    return catalog, {"binned_v0.csv": write_csv}
