"""Runs are bounded (``FLOWTIME_SIM_MAX_CELLS``), their CSV is written straight to storage,
an expected-mode run's identity has no seed, and renormalised PMFs are recorded."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from flowtime_sim.limits import LimitError
from flowtime_sim.service.problems import status_of

PMF = """\
schemaVersion: 1
grid: {bins: 2, binSize: 1, binUnit: hours}
nodes:
  - {id: size, kind: pmf, pmf: {values: [1, 2], probabilities: [0.2, 0.6]}}
"""


def wide(nodes: int, bins: int) -> str:
    lines = [f'  - {{id: n{i}, kind: expr, expr: "1"}}' for i in range(nodes)]
    return (
        f"schemaVersion: 1\ngrid: {{bins: {bins}, binSize: 1, binUnit: minutes}}\n"
        "nodes:\n" + "\n".join(lines) + "\n"
    )


def test_a_model_over_the_default_cell_limit_is_refused_before_it_runs(ft, root: Path) -> None:
    with pytest.raises(LimitError) as info:
        ft.run_text(wide(600, 100_000), name="wide")
    assert str(info.value) == (
        "the model has 600 nodes × 100,000 bins = 60,000,000 cells, more than the limit of "
        "50,000,000 cells (FLOWTIME_SIM_MAX_CELLS); run fewer bins or nodes, or raise the limit"
    )
    assert info.value.field == "model"
    assert status_of(info.value) == 422  # the service answers it as unprocessable
    assert not (root / "runs").exists()


def test_the_cell_limit_is_a_setting(ft, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLOWTIME_SIM_MAX_CELLS", "6")
    with pytest.raises(
        LimitError,
        match=r"3 nodes × 3 bins = 9 cells, more than the limit of "
        r"6 cells \(FLOWTIME_SIM_MAX_CELLS\)",
    ):
        ft.run_text(wide(3, 3), name="wide")
    assert ft.run_text(wide(2, 3), name="wide").artifact.id.startswith("wide-run_")


def test_the_csv_is_written_into_staging_before_the_catalog_is_made(ft, root: Path) -> None:
    from flowtime_sim.storage import publish_streamed

    storage = ft.registry().storage
    seen: dict[str, bytes] = {}

    def write(out) -> None:  # type: ignore[no-untyped-def]
        for i in range(3):
            out.write(b"row %d\n" % i)

    def finish(hashes):  # type: ignore[no-untyped-def]
        staged = list((root / ".staging").glob("*/data.csv"))
        seen["staged"] = staged[0].read_bytes()
        seen["hash"] = hashes["data.csv"].encode()
        return {"catalog.json": b"{}"}

    assert publish_streamed(storage, "runs/r1", {"data.csv": write}, finish)
    from flowtime_sim.canonical import file_hash

    assert seen == {
        "staged": b"row 0\nrow 1\nrow 2\n",
        "hash": file_hash(b"row 0\nrow 1\nrow 2\n").encode(),
    }
    assert storage.read("runs/r1/data.csv") == b"row 0\nrow 1\nrow 2\n"
    assert not publish_streamed(storage, "runs/r1", {"data.csv": write}, finish)
    assert list((root / ".staging").iterdir()) == []


def test_a_backend_without_streaming_is_given_the_bytes(ft) -> None:
    from flowtime_sim.storage import publish_streamed

    real = ft.registry().storage

    class Plain:  # only the contract's publish, as a third-party backend may be
        def __init__(self) -> None:
            self.published: dict[str, dict[str, bytes]] = {}

        def exists(self, key: str) -> bool:
            return key in self.published or real.exists(key)

        def publish(self, key: str, files: dict[str, bytes]) -> bool:
            self.published[key] = dict(files)
            return True

    plain = Plain()
    hashes: dict[str, str] = {}

    def finish(h):  # type: ignore[no-untyped-def]
        hashes.update(h)
        return {"catalog.json": b"{}"}

    assert publish_streamed(
        plain,
        "runs/r2",
        {"data.csv": lambda out: out.write(b"x\n")},  # type: ignore[arg-type]
        finish,
    )
    from flowtime_sim.canonical import file_hash

    assert plain.published == {"runs/r2": {"data.csv": b"x\n", "catalog.json": b"{}"}}
    assert hashes == {"data.csv": file_hash(b"x\n")}
    assert not publish_streamed(plain, "runs/r2", {}, finish)  # type: ignore[arg-type]


def test_a_renormalised_pmf_is_recorded_in_the_run_catalog(ft, root: Path) -> None:
    run = ft.run_text(PMF, name="pmf").artifact
    catalog = json.loads((root / "runs" / run.id / "catalog.json").read_text())
    assert catalog["warnings"] == [
        "node 'size': pmf probabilities sum to 0.8, not 1; they were rescaled to sum to 1"
    ]
    clean = ft.run_text(PMF.replace("0.6", "0.8"), name="pmf").artifact
    assert "warnings" not in clean.catalog


def test_the_seed_is_no_part_of_an_expected_run(ft) -> None:
    first = ft.run_text(PMF, name="pmf", seed=42)
    again = ft.run_text(PMF, name="pmf")
    assert again.unchanged and again.artifact.id == first.artifact.id
    assert first.artifact.catalog["seed"] == 0
    sampled = ft.run_text(PMF, name="pmf", seed=42, mode="sample").artifact
    assert sampled.id != first.artifact.id and sampled.catalog["seed"] == 42
