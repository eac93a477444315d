"""Running a model into a run artifact (SPEC §8): ids, the catalog, the CSV."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, BinaryIO, Literal

from flowtime_sim.canonical import canonical_hash
from flowtime_sim.ids import check_id, slugify

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
    identity: dict[str, Any] = {
        "model_hash": request.model_hash,
        "mode": request.mode,
        "engine_version": engine_version,
    }
    if request.mode == "sample":
        identity["seed"] = request.seed
    inputs = canonical_hash(identity)
    return check_id(
        f"{request.slug}-run_{inputs.removeprefix('sha256:')[:8]}", what="run id"
    ), inputs


def execute(
    request: RunRequest,
    *,
    run_id: str,
    inputs: str,
    owner: str,
    visibility: str,
    progress: Progress | None = None,
) -> tuple[dict[str, Any], dict[str, FileWriter]]:
    """Evaluate the model; return the run's catalog (its ``files`` left empty for the
    registry to fill in as it stores them) and its files as writers, so that the CSV is written
    straight to storage rather than held in memory. Nothing is stored here."""
    from flowtime_sim.catalogs import run_catalog
    from flowtime_sim.engine import ENGINE_VERSION, evaluate, write_binned_csv
    from flowtime_sim.limits import check_cells

    check_cells(request.model)
    mode: Literal["expected", "sample"] = "sample" if request.mode == "sample" else "expected"
    series = evaluate(request.model, mode=mode, seed=request.seed, progress=progress)

    def write_csv(out: BinaryIO) -> None:
        write_binned_csv(request.model, series, out)

    catalog = run_catalog(
        request,
        run_id=run_id,
        inputs=inputs,
        engine_version=ENGINE_VERSION,
        owner=owner,
        visibility=visibility,
    )
    return catalog, {"binned_v0.csv": write_csv}
