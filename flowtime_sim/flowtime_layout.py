"""A run in FlowTime's own run layout, so that FlowTime's UI and tools read it (SPEC §8).

The layout of FlowTime's engine (flowtime-upstream.md §3)::

    <runId>/run.json                       run id, engine, hashes, grid, warnings, series
            manifest.json                  hashes of the model and of every series file
            series/index.json              every series: id, kind, path, class, points, hash
            series/<id>@<ID>@<class>.csv   ``bin_index,value`` per bin (class DEFAULT = total)
            spec.yaml                      the model, topology semantics pointing at the files
            model/model.yaml               the model, verbatim
            model/metadata.json            the template the model came from, when known

The series are the run's output series (``binned_v0.csv``); a name ``x@Class`` is class
``Class`` of series ``x``. Numbers are written as FlowTime's engine writes them: the shortest
decimal that reads back as the same double, never in exponent form, whole numbers without
``.0``. The run id is ``run_`` + the flowtime-sim run id.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from flowtime_sim.errors import UserError

if TYPE_CHECKING:
    from flowtime_sim.core import Flowtime
    from flowtime_sim.registry import RunArtifact

#: topology semantics keys whose series ``spec.yaml`` points at the written files
_SPEC_KEYS = frozenset(
    {
        "arrivals",
        "served",
        "errors",
        "queueDepth",
        "capacity",
        "attempts",
        "failures",
        "exhaustedFailures",
        "retryEcho",
        "retryBudgetRemaining",
        "externalDemand",
        "processingTimeMsSum",
        "servedCount",
        "latencyMinutes",
    }
)


def read_binned_csv(data: bytes) -> dict[str, list[float]]:
    """The series of a ``binned_v0.csv``, in file order."""
    series: dict[str, list[float]] = {}
    reader = csv.reader(io.StringIO(data.decode("utf-8")))
    next(reader, None)
    for row in reader:
        if row:
            series.setdefault(row[2], []).append(float(row[3]))
    return series


def number_text(value: float) -> str:
    """``10``, ``0.30000000000000004``, ``100000000000000000000``, ``0.0000001``, ``-0``."""
    if value != value:
        return "NaN"
    if value in (float("inf"), float("-inf")):
        return "inf" if value > 0 else "-inf"
    return np.format_float_positional(value, unique=True, trim="-")


def series_kind(measure: str) -> str:
    name = measure.lower()
    for words, kind in (
        (("queue", "depth", "wip"), "stock"),
        (("utilization", "efficiency", "ratio"), "ratio"),
        (("time", "latency", "kingman"), "time"),
    ):
        if any(w in name for w in words):
            return kind
    return "flow"


def _sha(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _json(value: Any) -> bytes:
    return (json.dumps(value, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def flowtime_run_files(
    *,
    run_id: str,
    model_text: str,
    model: Mapping[str, Any],
    series: Mapping[str, Sequence[float]],
    created_utc: str,
    engine_version: str,
    inputs_hash: str,
    seed: int | None,
    warnings: Sequence[str] = (),
) -> dict[str, bytes]:
    """Every file of the FlowTime run, by its path inside the run folder."""
    grid = model["grid"]
    bins = int(grid["bins"])
    grid_doc = {"bins": bins, "binSize": grid["binSize"], "binUnit": grid["binUnit"]}
    classes = [
        {
            "id": c["id"],
            "displayName": c.get("displayName", c["id"]),
            "description": c.get("description", ""),
        }
        for c in model.get("classes") or ()
        if isinstance(c, Mapping)
    ]
    coverage = "full" if classes else "none"
    model_hash = _sha(model_text.encode("utf-8"))
    files: dict[str, bytes] = {}
    entries: list[dict[str, Any]] = []
    defaults: dict[str, str] = {}
    for name, values in series.items():
        measure, _, klass = name.partition("@")
        klass = klass or "DEFAULT"
        series_id = f"{measure}@{measure.upper()}@{klass}"
        path = f"series/{series_id}.csv"
        body = "bin_index,value\n" + "".join(
            f"{t},{number_text(v)}\n" for t, v in enumerate(values)
        )
        files[path] = body.encode("utf-8")
        if klass == "DEFAULT":
            defaults[measure] = series_id
        entries.append(
            {
                "id": series_id,
                "kind": series_kind(measure),
                "path": path,
                "unit": "entities/bin",
                "componentId": measure.upper(),
                "class": klass,
                "classKind": "fallback" if klass == "DEFAULT" else "specific",
                "points": len(values),
                "hash": _sha(files[path]),
            }
        )
    files["series/index.json"] = _json(
        {
            "schemaVersion": 1,
            "grid": grid_doc,
            "series": entries,
            "classes": classes,
            "classesCoverage": coverage,
            "formats": {"aggregatesTable": {"path": "aggregates/node_time_bin.parquet"}},
        }
    )
    files["run.json"] = _json(
        {
            "schemaVersion": 1,
            "runId": run_id,
            "engineVersion": engine_version,
            "source": "engine",
            "inputHash": inputs_hash,
            "scenarioHash": model_hash,
            "modelHash": model_hash,
            "createdUtc": created_utc,
            "grid": {**grid_doc, "timezone": "UTC", "align": "left"},
            "classesCoverage": coverage,
            "warnings": [
                {"nodeId": "", "code": "warning", "message": w, "severity": "warning"}
                for w in warnings
            ],
            "series": [{"id": e["id"], "path": e["path"], "unit": e["unit"]} for e in entries],
            "classes": classes,
        }
    )
    provenance = model.get("provenance") if isinstance(model.get("provenance"), Mapping) else {}
    assert isinstance(provenance, Mapping)
    files["manifest.json"] = _json(
        {
            "schemaVersion": 1,
            "scenarioHash": model_hash,
            "modelHash": model_hash,
            "rng": {"kind": "pcg32", "seed": seed}
            if seed is not None
            else {"kind": "none", "seed": 0},
            "seriesHashes": {e["id"]: e["hash"] for e in entries},
            "eventCount": 0,
            "createdUtc": created_utc,
            "provenance": {
                "hasProvenance": bool(provenance),
                "templateId": provenance.get("templateId", "adhoc-model"),
                "inputHash": inputs_hash,
            },
            "classes": [{"id": c["id"], "displayName": c["displayName"]} for c in classes],
        }
    )
    files["model/model.yaml"] = model_text.encode("utf-8")
    files["model/metadata.json"] = _json(
        {
            "schemaVersion": 1,
            "templateId": provenance.get("templateId", "adhoc-model"),
            "templateTitle": provenance.get("templateTitle", "Ad Hoc Model"),
            "templateVersion": provenance.get("templateVersion", "0.0.0"),
            "mode": provenance.get("mode", "simulation"),
            "modelHash": model_hash,
            "source": None,
            "hasTelemetrySources": False,
            "telemetrySources": [],
            "nodeSources": {},
            "parameters": dict(provenance.get("parameters") or {}),
        }
    )
    files["spec.yaml"] = _spec(model_text, defaults).encode("utf-8")
    return files


def _spec(model_text: str, defaults: Mapping[str, str]) -> str:
    """The model with each topology semantics line naming a written series pointed at its
    file, as FlowTime's engine writes ``spec.yaml``."""
    lines = []
    for line in model_text.splitlines(keepends=True):
        body = line.strip()
        key, sep, value = body.partition(":")
        measure = value.strip().strip("'\"")
        if (
            sep
            and body
            and not body.startswith(("#", "-"))
            and key in _SPEC_KEYS
            and measure in defaults
        ):
            indent = line[: len(line) - len(line.lstrip())]
            ending = "\n" if line.endswith("\n") else ""
            line = f'{indent}{key}: "file:series/{defaults[measure]}.csv"{ending}'
        lines.append(line)
    return "".join(lines)


def write_run_folder(files: Mapping[str, bytes], folder: Path) -> Path:
    """Write the run into ``folder`` (which must not exist yet), all at once: the files go to
    a staging folder beside it that is then renamed."""
    if folder.exists():
        raise UserError(
            f"FlowTime run folder {str(folder)!r} already exists; remove it or "
            "choose another --flowtime-dir"
        )
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=folder.parent))
    try:
        (staging / "aggregates").mkdir()
        for name, data in files.items():
            target = (staging / name).resolve()
            if not target.is_relative_to(staging.resolve()):
                raise UserError(f"series name {name!r} would leave the run folder")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        os.replace(staging, folder)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return folder


def export_run(
    ft: Flowtime,
    run: RunArtifact | Any,
    flowtime_dir: Path,
    *,
    root: str | None = None,
    model_text: str | None = None,
) -> Path:
    """Write the stored ``run`` into ``flowtime_dir/run_<run id>/`` in FlowTime's layout.
    ``model_text`` is the model of a run made from a file; a stored model's is read."""
    from flowtime_sim.model import load_model_document

    catalog = run.catalog
    if model_text is None:
        ref = f"{catalog['model_id']}@v{catalog['model_version']}"
        model_text = ft.read_file(ft.model(ref, root=root), "model.yaml", root=root).decode()
    files = flowtime_run_files(
        run_id=f"run_{run.id}",
        model_text=model_text,
        model=load_model_document(model_text, origin=f"run {run.id}"),
        series=read_binned_csv(ft.read_file(run, "binned_v0.csv", root=root)),
        created_utc=str(catalog["created_utc"]),
        engine_version=f"flowtime-sim/{catalog['engine_version']}",
        inputs_hash=str(catalog["inputs_hash"]),
        seed=catalog["seed"] if catalog.get("mode") == "sample" else None,
        warnings=[str(w) for w in catalog.get("warnings") or ()],
    )
    return write_run_folder(files, flowtime_dir / f"run_{run.id}")
