"""Running a model into a run artifact (SPEC §8): ids, the catalog, the CSV."""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from flowtime_sim.canonical import canonical_hash
from flowtime_sim.ids import check_id, slugify

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


def execute(request: RunRequest, *, run_id: str, inputs: str, owner: str, visibility: str,
            progress: Progress | None = None) -> tuple[dict[str, Any], dict[str, bytes]]:
    """Evaluate and render the run's files and catalog (nothing is stored here)."""
    from flowtime_sim.catalogs import run_catalog
    from flowtime_sim.engine import ENGINE_VERSION, evaluate, write_binned_csv

    mode: Literal["expected", "sample"] = "sample" if request.mode == "sample" else "expected"
    series = evaluate(request.model, mode=mode, seed=request.seed, progress=progress)
    buffer = io.BytesIO()
    write_binned_csv(request.model, series, buffer)
    files = {"binned_v0.csv": buffer.getvalue()}
    catalog = run_catalog(request, run_id=run_id, inputs=inputs, engine_version=ENGINE_VERSION,
                          files=files, owner=owner, visibility=visibility)
    return catalog, files
