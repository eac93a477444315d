"""Running a model into a run artifact (SPEC §8): ids, the catalog, the CSV."""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from flowtime_sim.canonical import canonical_hash, file_hash
from flowtime_sim.ids import check_id, slugify
from flowtime_sim.registry.catalog import SCHEMA_VERSION, generator, utc_now

if TYPE_CHECKING:
    from flowtime_sim.model.types import Model

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
    """``(run_id, inputs_hash)``: the same model, seed, mode and engine give the same run."""
    inputs = canonical_hash({"model_hash": request.model_hash, "seed": request.seed,
                             "mode": request.mode, "engine_version": engine_version})
    return check_id(f"{request.slug}-run_{inputs.removeprefix('sha256:')[:8]}",
                    what="run id"), inputs


def execute(request: RunRequest, *, owner: str, visibility: str,
            progress: Progress | None = None) -> tuple[dict[str, Any], dict[str, bytes]]:
    """Evaluate and render the run's files and catalog (nothing is stored here)."""
    from flowtime_sim.engine import ENGINE_VERSION, evaluate, write_binned_csv

    run_id, inputs = run_id_for(request, ENGINE_VERSION)
    mode: Literal["expected", "sample"] = "sample" if request.mode == "sample" else "expected"
    series = evaluate(request.model, mode=mode, seed=request.seed, progress=progress)
    buffer = io.BytesIO()
    write_binned_csv(request.model, series, buffer)
    files = {"binned_v0.csv": buffer.getvalue()}
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
        "files": {name: file_hash(data) for name, data in files.items()},
        "owner": owner, "visibility": visibility, "source": "engine",
        "generator": generator(),
    }
    return catalog, files
