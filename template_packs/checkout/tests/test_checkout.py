"""The checkout pack: its manifests, parameter schemas, and the models its templates render."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Any

import jsonschema
import numpy as np
import pytest
import yaml
from flowtime_sim.errors import ParameterError
from flowtime_sim.testing import check_pack, pack_host, render_template, run_template
from packaging.specifiers import SpecifierSet

PACKAGE = "flowtime_pack_checkout"
PACK_DIR = Path(str(files(PACKAGE)))
TEMPLATES = sorted(p for p in (PACK_DIR / "templates").iterdir() if p.is_dir())
REQUIRED_KEYS = {
    "id",
    "version",
    "title",
    "description",
    "tags",
    "capabilities",
    "body",
    "parameters",
}
RETRY_PARAMETERS = {"decline_rate", "retry_share", "retry_delay_minutes"}
QUEUE_PARAMETERS = {"initial_backlog", "queue_limit"}


@cache  # read-only after loading
def manifest(folder: Path) -> dict[str, Any]:
    data = yaml.safe_load((folder / "template.yaml").read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def defaults(folder: Path) -> dict[str, Any]:
    props = manifest(folder)["parameters"]["properties"]
    return {name: prop["default"] for name, prop in props.items()}


def examples(folder: Path) -> list[tuple[str, Any]]:
    props = manifest(folder)["parameters"]["properties"]
    return [(name, ex) for name, prop in props.items() for ex in prop["examples"]]


BY_VERSION = {manifest(folder)["version"]: folder for folder in TEMPLATES}
EXAMPLE_CASES = [
    pytest.param(folder, name, value, id=f"{folder.name}-{name}={value!r}"[:80])
    for folder in TEMPLATES
    for name, value in examples(folder)
]


# --- Through the host ---------------------------------------------------------------------
# Rendering, parsing and evaluating go through the host with only this pack installed, exactly
# as `flowtime-sim new` and `run` would (flowtime_sim.testing, the pack author kit).

HOST = pack_host("checkout", project_dir=Path(__file__).resolve().parents[1])


def _rendered(folder: Path, overrides: dict[str, Any]) -> Any:
    ref = f"{manifest(folder)['id']}"
    return render_template(HOST, ref, overrides, version=manifest(folder)["version"])


def render(folder: Path, **overrides: Any) -> str:
    return str(_rendered(folder, overrides).text)


def parse(folder: Path, **overrides: Any) -> Any:
    return _rendered(folder, overrides).model


def run(folder: Path, **overrides: Any) -> dict[str, np.ndarray]:
    series = run_template(
        HOST, manifest(folder)["id"], overrides, version=manifest(folder)["version"]
    )
    return {name: np.asarray(values, dtype=float) for name, values in series.items()}


def test_the_pack_passes_the_flowtime_checks() -> None:
    """Every template with its defaults and each schema example: rendered, validated, stored
    as an artifact, run, previewed, and probed with hostile strings (check_pack)."""
    report = check_pack(host=HOST)
    assert report.ok, report.summary()
    assert report.templates == sorted(
        f"{manifest(f)['id']} {manifest(f)['version']}" for f in TEMPLATES
    )


# --- Pack and manifests -------------------------------------------------------------------


def test_pack_manifest_declares_a_supported_api_range_and_the_templates_folder() -> None:
    data = tomllib.loads((PACK_DIR / "flowtime_pack.toml").read_text(encoding="utf-8"))
    assert SpecifierSet(data["plugin_api"]).contains("1")
    assert not SpecifierSet(data["plugin_api"]).contains("2")
    assert (PACK_DIR / data["templates"]).is_dir()


def test_the_pack_ships_checkout_1_0_0_1_1_0_and_1_2_0() -> None:
    assert {(manifest(f)["id"], manifest(f)["version"]) for f in TEMPLATES} == {
        ("checkout", "1.0.0"),
        ("checkout", "1.1.0"),
        ("checkout", "1.2.0"),
    }


def test_the_newest_version_is_the_default() -> None:
    assert render_template(HOST, "checkout").template.version == "1.2.0"


def test_1_1_0_keeps_every_1_0_0_parameter_and_adds_only_the_retry_stream() -> None:
    old = manifest(BY_VERSION["1.0.0"])["parameters"]["properties"]
    new = manifest(BY_VERSION["1.1.0"])["parameters"]["properties"]
    assert set(new) - set(old) == RETRY_PARAMETERS
    assert {name: new[name] for name in old} == old


def test_1_2_0_keeps_every_1_1_0_parameter_and_adds_the_queue_parameters() -> None:
    old = manifest(BY_VERSION["1.1.0"])["parameters"]["properties"]
    new = manifest(BY_VERSION["1.2.0"])["parameters"]["properties"]
    assert set(new) - set(old) == QUEUE_PARAMETERS
    # Only the meaning of patience changed: a mean waiting time instead of a hard cut-off.
    assert {name: new[name] for name in old if name != "patience_minutes"} == {
        name: old[name] for name in old if name != "patience_minutes"
    }
    assert {k: v for k, v in new["patience_minutes"].items() if k != "description"} == {
        k: v for k, v in old["patience_minutes"].items() if k != "description"
    }


@pytest.mark.parametrize("folder", TEMPLATES, ids=lambda f: f.name)
def test_manifest_has_the_required_keys_and_a_body(folder: Path) -> None:
    data = manifest(folder)
    assert set(data) == REQUIRED_KEYS
    assert re.fullmatch(r"[a-z0-9][a-z0-9-]*", data["id"])
    assert re.fullmatch(r"\d+\.\d+\.\d+", data["version"])
    assert data["title"] and len(data["description"]) > 200
    assert data["tags"] and all(isinstance(t, str) for t in data["tags"])
    assert data["capabilities"] == ["counts", "flows"]
    assert (folder / data["body"]).is_file()


@pytest.mark.parametrize("folder", TEMPLATES, ids=lambda f: f.name)
def test_parameters_are_a_closed_schema_documenting_every_parameter(folder: Path) -> None:
    schema = manifest(folder)["parameters"]
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["type"] == "object" and schema["additionalProperties"] is False
    for name, prop in schema["properties"].items():
        assert {"default", "title", "description", "examples"} <= set(prop), name
        assert prop["examples"], name


@pytest.mark.parametrize("folder", TEMPLATES, ids=lambda f: f.name)
def test_every_default_and_example_is_valid(folder: Path) -> None:
    schema = manifest(folder)["parameters"]
    validator = jsonschema.Draft202012Validator(schema)
    validator.validate(defaults(folder))
    for name, value in examples(folder):
        assert not list(validator.iter_errors(defaults(folder) | {name: value})), (name, value)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("peak_factor", -0.5),
        ("bin_minutes", 7),
        ("bins", 0),
        ("base_capacity", 0),
        ("patience_minutes", 2.5),
        ("daily_profile", [1.0] * 23),
        ("daily_profile", [0.0] * 24),
        ("attempt_probabilities", [0, 0, 0]),
        ("start", "tomorrow morning"),
        ("decline_rate", 1.5),
        ("no_such_parameter", 1),
    ],
)
def test_schema_refuses_bad_values(name: str, value: Any) -> None:
    folder = BY_VERSION["1.1.0"]
    validator = jsonschema.Draft202012Validator(manifest(folder)["parameters"])
    assert list(validator.iter_errors(defaults(folder) | {name: value}))


# --- Rendered models ----------------------------------------------------------------------


@pytest.mark.parametrize(("folder", "name", "value"), EXAMPLE_CASES)
def test_every_example_renders_a_valid_model(folder: Path, name: str, value: Any) -> None:
    model = parse(folder, **{name: value})
    params = defaults(folder) | {name: value}
    assert model.grid.bins == params["bins"]
    assert model.grid.bin_minutes == params["bin_minutes"]
    assert (model.grid.start is None) == (params["start"] is None)
    assert not model.warnings


def test_an_unanchored_grid_renders_without_start() -> None:
    text = render(BY_VERSION["1.1.0"], start=None)
    assert yaml.safe_load(text)["grid"] == {"bins": 96, "binSize": 15, "binUnit": "minutes"}


def waiting(s: Mapping[str, np.ndarray]) -> np.ndarray:
    """The waiting line: ``backlog`` up to 1.1.0, the queue series ``checkout_queue`` in 1.2.0."""
    return s["backlog"] if "backlog" in s else s["checkout_queue"]


def check_queue(s: Mapping[str, np.ndarray], initial_backlog: float = 0.0) -> None:
    """What any checkout run must satisfy, whatever its parameters."""
    tol = 1e-6
    queue = waiting(s)
    turned_away = s.get("checkout_overflow", np.zeros_like(queue))
    for name in ("arrivals", "served", "abandoned", "wait_minutes", "payment_attempts"):
        assert s[name].min() >= -tol, name
    assert queue.min() >= -tol and turned_away.min() >= -tol
    assert np.all(s["served"] <= s["capacity"] + tol)
    # Nobody is served before arriving, and every shopper is served, waiting or gone.
    assert np.all(np.cumsum(s["served"]) <= np.cumsum(s["arrivals"]) + initial_backlog + tol)
    np.testing.assert_allclose(
        initial_backlog + np.cumsum(s["arrivals"]),
        np.cumsum(s["served"]) + np.cumsum(s["abandoned"]) + np.cumsum(turned_away) + queue,
        atol=1e-6,
    )
    assert np.all(s["payment_attempts"] >= s["served"] - tol)


@pytest.mark.parametrize(("folder", "name", "value"), EXAMPLE_CASES)
def test_every_example_conserves_shoppers(folder: Path, name: str, value: Any) -> None:
    initial = value if name == "initial_backlog" else 0.0
    check_queue(run(folder, **{name: value}), initial_backlog=initial)


@pytest.mark.parametrize("folder", TEMPLATES, ids=lambda f: f.name)
def test_the_default_evening_peak_builds_a_queue_that_clears(folder: Path) -> None:
    s = run(folder)
    check_queue(s)
    peak = slice(18 * 4, 21 * 4)  # 18:00-21:00 in 15-minute bins
    queue = waiting(s)
    assert queue[peak].max() > 0 and s["abandoned"][peak].sum() > 0
    assert queue[: 18 * 4].max() == 0 and queue[-4:].max() == 0
    assert 0 < s["wait_minutes"].max() <= 30  # the shoppers' patience


def test_without_peak_and_with_ample_capacity_everyone_is_served_at_once() -> None:
    s = run(BY_VERSION["1.1.0"], peak_factor=1.0, base_capacity=10_000)
    np.testing.assert_allclose(s["arrivals"].sum(), 3000, atol=0.1)  # arrivals_per_day
    np.testing.assert_allclose(s["served"], s["arrivals"])
    assert s["backlog"].max() == 0 and s["abandoned"].max() == 0


def test_without_patience_the_excess_over_capacity_abandons_in_its_own_bin() -> None:
    s = run(BY_VERSION["1.1.0"], patience_minutes=0)
    np.testing.assert_allclose(s["served"], np.minimum(s["arrivals"], s["capacity"]))
    np.testing.assert_allclose(s["abandoned"], np.maximum(s["arrivals"] - s["capacity"], 0))
    assert s["backlog"].max() == 0


def test_more_patience_means_fewer_abandon_and_longer_waits() -> None:
    short, long = (run(BY_VERSION["1.1.0"], patience_minutes=p) for p in (15, 60))
    assert long["abandoned"].sum() < short["abandoned"].sum()
    assert long["wait_minutes"].max() > short["wait_minutes"].max()


def test_payment_attempts_follow_the_attempts_per_order_distribution() -> None:
    s = run(BY_VERSION["1.0.0"], attempt_probabilities=[0.5, 0.0, 0.5])
    np.testing.assert_allclose(s["payment_attempts"], 2 * s["served"])


def test_1_1_0_adds_declines_and_delayed_retries_to_the_same_queue() -> None:
    old, new = run(BY_VERSION["1.0.0"]), run(BY_VERSION["1.1.0"])
    for name in ("arrivals", "served", "backlog", "abandoned"):
        np.testing.assert_allclose(new[name], old[name])
    np.testing.assert_allclose(new["declined"], 0.06 * new["served"])
    retry_bins = 30 // 15
    np.testing.assert_allclose(new["retries"][retry_bins:], 0.5 * new["declined"][:-retry_bins])
    np.testing.assert_allclose(new["payment_attempts"], old["payment_attempts"] + new["retries"])
    np.testing.assert_allclose(new["orders"], (new["served"] + new["retries"]) * 0.94)
    assert new["orders"].sum() < new["served"].sum()
    assert "orders" not in old


def test_without_declines_every_served_shopper_becomes_an_order() -> None:
    s = run(BY_VERSION["1.1.0"], decline_rate=0)
    np.testing.assert_allclose(s["orders"], s["served"])
    assert s["retries"].max() == 0


# --- 1.2.0: a real queue ------------------------------------------------------------------

QUEUE = BY_VERSION["1.2.0"]


def test_1_2_0_declares_the_checkout_queue_in_its_topology() -> None:
    model = parse(QUEUE)
    assert model.topology is not None
    (node,) = model.topology.nodes
    assert (node.id, node.kind) == ("Checkout", "serviceWithBuffer")
    assert node.semantics.arrivals == "arrivals" and node.semantics.errors == "abandoned"
    assert model.plan is not None
    assert ("checkout_queue", "topology node 'Checkout'") in model.plan.synthesized
    assert any(stage.sequential for stage in model.plan.stages)  # carried from bin to bin
    assert "backlog" not in {n.id for n in model.nodes}


def test_1_2_0_queue_grows_while_arrivals_exceed_capacity_and_drains_after_the_peak() -> None:
    s = run(QUEUE, patience_minutes=240)
    queue, excess = s["checkout_queue"], s["arrivals"] - s["capacity"]
    over = np.flatnonzero(excess > 0)
    assert over.size and np.all(np.diff(queue[over[0] : over[-1] + 1]) > 0)
    after = over[-1] + 1
    assert np.all(np.diff(queue[after:]) <= 1e-9)  # drains once arrivals fall below capacity
    assert queue[after:].min() == 0
    np.testing.assert_allclose(s["served"][over], s["capacity"][over])


def test_1_2_0_queue_is_the_previous_queue_plus_arrivals_minus_served_and_abandoned() -> None:
    s = run(QUEUE)
    queue = s["checkout_queue"]
    before = np.concatenate(([0.0], queue[:-1]))
    np.testing.assert_allclose(
        queue, np.maximum(0, before + s["arrivals"] - s["served"] - s["abandoned"]), atol=1e-9
    )
    # a third (15 / (15 + 30)) of those left waiting give up in each bin
    np.testing.assert_allclose(s["abandoned"], queue / 2, rtol=1e-5)  # share rounded to 6 places


def test_1_2_0_initial_backlog_is_served_first_and_cleared() -> None:
    s = run(QUEUE, initial_backlog=250, patience_minutes=240)
    check_queue(s, initial_backlog=250)
    assert s["served"][0] == s["capacity"][0] and s["checkout_queue"][0] > 0
    assert s["checkout_queue"][: 18 * 4].min() == 0  # cleared well before the evening peak


def test_1_2_0_queue_limit_turns_the_excess_away() -> None:
    s = run(QUEUE, queue_limit=10)
    check_queue(s)
    assert s["checkout_queue"].max() == 10
    assert s["checkout_overflow"].sum() > 0
    unlimited = run(QUEUE)
    assert "checkout_overflow" not in unlimited
    assert s["abandoned"].sum() <= unlimited["abandoned"].sum()


def test_1_2_0_more_patience_means_fewer_abandon_and_longer_waits() -> None:
    short, long = (run(QUEUE, patience_minutes=p) for p in (15, 90))
    assert long["abandoned"].sum() < short["abandoned"].sum()
    assert long["wait_minutes"].max() > short["wait_minutes"].max()
    none = run(QUEUE, patience_minutes=0)
    np.testing.assert_allclose(none["served"], np.minimum(none["arrivals"], none["capacity"]))
    assert none["checkout_queue"].max() == 0


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            {"initial_backlog": -5},
            "parameter 'initial_backlog' = -5 is below the minimum 0 (template checkout 1.2.0)",
        ),
        (
            {"queue_limit": -1},
            "parameter 'queue_limit' = -1 is below the minimum 0 (template checkout 1.2.0)",
        ),
    ],
)
def test_1_2_0_refuses_queue_parameters_out_of_bounds(
    overrides: dict[str, Any], message: str
) -> None:
    with pytest.raises(ParameterError) as err:
        render_template(HOST, "checkout", overrides, version="1.2.0")
    assert str(err.value) == message
