"""The e-commerce pack: its manifests, parameter schemas, and the models its templates render."""

from __future__ import annotations

import re
import tomllib
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

PACKAGE = "flowtime_pack_ecommerce"
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
TOL = 1e-6


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


BY_VERSION = {(manifest(folder)["id"], manifest(folder)["version"]): folder for folder in TEMPLATES}
STOREFRONT = BY_VERSION["storefront", "1.0.0"]
FULFILMENT, RETURNS = BY_VERSION["order-fulfilment", "1.0.0"], BY_VERSION["returns", "1.0.0"]
# 1.1.0: the same flows with real queues (SPEC §5a) instead of closed forms
FULFILMENT_QUEUES = BY_VERSION["order-fulfilment", "1.1.0"]
RETURNS_QUEUES = BY_VERSION["returns", "1.1.0"]
EXAMPLE_CASES = [
    pytest.param(folder, name, value, id=f"{folder.name}-{name}={value!r}"[:80])
    for folder in TEMPLATES
    for name, value in examples(folder)
]


# --- Through the host ---------------------------------------------------------------------
# Rendering, parsing and evaluating go through the host with only this pack installed, exactly
# as `flowtime-sim new` and `run` would (flowtime_sim.testing, the pack author kit).

HOST = pack_host("ecommerce", project_dir=Path(__file__).resolve().parents[1])


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


def test_the_pack_ships_storefront_fulfilment_and_returns() -> None:
    assert {(manifest(f)["id"], manifest(f)["version"]) for f in TEMPLATES} == {
        ("storefront", "1.0.0"),
        ("order-fulfilment", "1.0.0"),
        ("order-fulfilment", "1.1.0"),
        ("returns", "1.0.0"),
        ("returns", "1.1.0"),
    }


@pytest.mark.parametrize("folder", TEMPLATES, ids=lambda f: f.name)
def test_manifest_has_the_required_keys_and_a_body(folder: Path) -> None:
    data = manifest(folder)
    assert set(data) == REQUIRED_KEYS
    assert re.fullmatch(r"[a-z0-9][a-z0-9-]*", data["id"])
    assert re.fullmatch(r"\d+\.\d+\.\d+", data["version"])
    assert data["title"] and len(data["description"]) > 200
    assert "ecommerce" in data["tags"] and all(isinstance(t, str) for t in data["tags"])
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
    validator = jsonschema.Draft202012Validator(manifest(folder)["parameters"])
    validator.validate(defaults(folder))
    for name, value in examples(folder):
        assert not list(validator.iter_errors(defaults(folder) | {name: value})), (name, value)


@pytest.mark.parametrize(
    ("folder", "name", "value"),
    [
        (STOREFRONT, "add_to_cart_rate", 1.2),
        (STOREFRONT, "bin_minutes", 45),
        (STOREFRONT, "basket_probabilities", [0, 0, 0, 0, 0]),
        (STOREFRONT, "day_factors", [1, 1, 1]),
        (FULFILMENT, "carrier_pickup_hour", 24),
        (FULFILMENT, "pack_lead_hours", 1.5),
        (FULFILMENT, "transit_day_probabilities", [0.5, -0.1, 0.6]),
        (RETURNS, "return_rate", -0.1),
        (RETURNS, "start", "2025-01-06"),
        (RETURNS, "refund_outcome_probabilities", [1, 0]),
        (RETURNS, "bin_minutes", 60),
    ],
    ids=lambda v: v.name if isinstance(v, Path) else None,
)
def test_schema_refuses_bad_values(folder: Path, name: str, value: Any) -> None:
    validator = jsonschema.Draft202012Validator(manifest(folder)["parameters"])
    assert list(validator.iter_errors(defaults(folder) | {name: value}))


# --- Rendered models ----------------------------------------------------------------------


@pytest.mark.parametrize(("folder", "name", "value"), EXAMPLE_CASES)
def test_every_example_renders_a_valid_model(folder: Path, name: str, value: Any) -> None:
    model = parse(folder, **{name: value})
    params = defaults(folder) | {name: value}
    assert model.grid.bins == params["bins"]
    assert model.grid.bin_minutes == params.get("bin_minutes", 1440)
    assert (model.grid.start is None) == (params["start"] is None)
    assert not model.warnings


@pytest.mark.parametrize("folder", TEMPLATES, ids=lambda f: f.name)
def test_default_models_stay_small(folder: Path) -> None:
    model = parse(folder)
    assert 24 <= model.grid.bins <= 168
    assert len(model.nodes) <= 25
    assert {n.kind for n in model.nodes} == {"const", "pmf", "expr"}


def lindley(arrivals: np.ndarray, capacity: np.ndarray, initial: float = 0.0) -> np.ndarray:
    """The reference queue: backlog[t] = max(0, backlog[t-1] + arrivals[t] - capacity[t]),
    backlog[-1] = initial."""
    backlog, out = initial, []
    for a, c in zip(arrivals, capacity, strict=True):
        backlog = max(0.0, backlog + a - c)
        out.append(backlog)
    return np.array(out)


def check_storefront(s: dict[str, np.ndarray], initial: float = 0.0) -> None:
    for name in (
        "sessions",
        "turned_away",
        "product_views",
        "carts",
        "orders",
        "items_sold",
        "revenue",
        "recovered_orders",
    ):
        assert s[name].min() >= -TOL, name
    np.testing.assert_allclose(s["served_sessions"] + s["turned_away"], s["sessions"])
    assert np.all(s["carts"] <= s["served_sessions"] + TOL)
    assert np.all(s["direct_orders"] <= s["carts"] + TOL)
    assert np.all(np.cumsum(s["orders"]) <= np.cumsum(s["carts"]) + TOL)
    assert np.all(s["items_sold"] >= s["orders"] - TOL)


def check_fulfilment(s: dict[str, np.ndarray], initial: float = 0.0) -> None:
    for name in (
        "orders",
        "pick_capacity",
        "picked",
        "pick_backlog",
        "pick_lines",
        "shipped",
        "awaiting_carrier",
        "delivered",
    ):
        assert s[name].min() >= -TOL, name
    np.testing.assert_allclose(
        s["pick_backlog"], lindley(s["orders"], s["pick_capacity"], initial), atol=1e-6
    )
    assert np.all(s["picked"] <= s["pick_capacity"] + TOL)
    # Every order is picked or waiting; every packed parcel shipped or waiting for the carrier.
    np.testing.assert_allclose(
        initial + np.cumsum(s["orders"]), np.cumsum(s["picked"]) + s["pick_backlog"], atol=1e-6
    )
    np.testing.assert_allclose(
        np.cumsum(s["packed"]), np.cumsum(s["shipped"]) + s["awaiting_carrier"], atol=1e-6
    )
    assert np.all(np.cumsum(s["delivered"]) <= np.cumsum(s["shipped"]) + TOL)


def check_returns(s: dict[str, np.ndarray], initial: float = 0.0) -> None:
    for name in (
        "delivered",
        "returns",
        "inspection_backlog",
        "inspected",
        "refunds_paid",
        "restocked",
        "written_off",
    ):
        assert s[name].min() >= -TOL, name
    np.testing.assert_allclose(
        s["inspection_backlog"],
        lindley(s["returns"], s["inspection_capacity"], initial),
        atol=1e-6,
    )
    np.testing.assert_allclose(
        initial + np.cumsum(s["returns"]),
        np.cumsum(s["inspected"]) + s["inspection_backlog"],
        atol=1e-6,
    )
    assert np.all(
        np.cumsum(s["restocked"]) + np.cumsum(s["written_off"]) <= np.cumsum(s["inspected"]) + TOL
    )


CHECKS = {
    "storefront": check_storefront,
    "order-fulfilment": check_fulfilment,
    "returns": check_returns,
}


@pytest.mark.parametrize(("folder", "name", "value"), EXAMPLE_CASES)
def test_every_example_conserves_its_flows(folder: Path, name: str, value: Any) -> None:
    initial = value if name == "initial_backlog" else 0.0
    CHECKS[manifest(folder)["id"]](run(folder, **{name: value}), initial)


# --- storefront


def test_storefront_sessions_follow_the_daily_total_and_the_day_factors() -> None:
    s = run(STOREFRONT)
    days = s["sessions"].reshape(7, 24).sum(axis=1)
    np.testing.assert_allclose(
        days, [20000 * f for f in (1.0, 0.95, 0.95, 1.0, 1.05, 1.15, 1.25)], atol=0.1
    )


def test_storefront_turns_sessions_away_and_loses_carts_only_under_load() -> None:
    quiet = run(STOREFRONT, sessions_per_day=5000)
    assert quiet["turned_away"].max() == 0
    np.testing.assert_allclose(quiet["carts"], quiet["served_sessions"] * 0.09)
    busy = run(STOREFRONT, sessions_per_day=40000)
    assert busy["turned_away"].sum() > 0
    assert busy["served_sessions"].max() == pytest.approx(1900)
    assert np.all(busy["carts"] >= busy["served_sessions"] * 0.09 * 0.5 - TOL)
    assert busy["carts"].sum() < busy["served_sessions"].sum() * 0.09


def test_storefront_reminders_recover_carts_a_day_later() -> None:
    s = run(STOREFRONT)
    assert s["recovered_orders"][:24].max() == 0
    np.testing.assert_allclose(
        s["recovered_orders"][24:], (s["carts"] - s["direct_orders"])[:-24] * 0.06
    )


def test_storefront_revenue_is_items_at_the_average_price() -> None:
    s = run(STOREFRONT, basket_probabilities=[0, 1, 0, 0, 0], average_item_price=10.0)
    np.testing.assert_allclose(s["items_sold"], 2 * s["orders"])
    np.testing.assert_allclose(s["revenue"], 20 * s["orders"])


# --- order-fulfilment


def test_fulfilment_has_no_capacity_on_sunday_and_carries_the_backlog_to_monday() -> None:
    s = run(FULFILMENT, bins=192)
    sunday, monday = slice(144, 168), slice(168, 192)
    assert s["pick_capacity"][sunday].max() == 0 and s["picked"][sunday].max() == 0
    assert s["pick_backlog"][167] == pytest.approx(
        s["orders"][sunday].sum() + s["pick_backlog"][143]
    )
    assert s["picked"][monday][6:10].min() == pytest.approx(250)  # the shift works flat out


def test_fulfilment_agency_pickers_cover_the_excess_only_during_a_shift() -> None:
    s = run(FULFILMENT, orders_per_day=8000, flex_capacity_per_hour=100)
    shift = s["pick_capacity"] > 0
    extra = s["pick_capacity"] - np.where(shift, 250 * np.repeat([1, 1, 1, 1, 1, 0.6, 0], 24), 0)
    assert extra.max() == pytest.approx(100)
    assert np.all(extra >= -TOL) and np.all(extra[~shift] == 0)


def test_fulfilment_ships_once_a_day_at_the_collection_hour() -> None:
    s = run(FULFILMENT)
    hours = np.nonzero(s["shipped"])[0]
    assert set(hours % 24) == {18}
    np.testing.assert_allclose(s["packed"][2:], s["picked"][:-2])  # two hours of packing


def test_fulfilment_delivers_after_the_transit_days() -> None:
    s = run(FULFILMENT, transit_day_probabilities=[2, 0, 2])
    shipped = s["shipped"]
    expected = np.zeros_like(shipped)
    expected[24:] += 0.5 * shipped[:-24]
    expected[72:] += 0.5 * shipped[:-72]
    np.testing.assert_allclose(s["delivered"], expected)


def test_fulfilment_pick_lines_follow_the_lines_distribution() -> None:
    s = run(FULFILMENT, lines_probabilities=[0, 0, 0, 1])
    np.testing.assert_allclose(s["pick_lines"], 4 * s["picked"])


@pytest.mark.parametrize("bins", [1, 2, 8, 9, 64, 65, 600])
@pytest.mark.parametrize("version", ["1.0.0", "1.1.0"])
def test_backlogs_are_exact_for_any_horizon(bins: int, version: str) -> None:
    fulfilment = BY_VERSION["order-fulfilment", version]
    returns = BY_VERSION["returns", version]
    check_fulfilment(run(fulfilment, bins=bins, shift_start_hour=0, shift_hours=1))
    check_returns(run(returns, bins=bins, sale_start_day=0, sale_days=2, sale_factor=4.0))


# --- returns


def test_returns_start_in_steady_state_and_peak_after_the_sale() -> None:
    s = run(RETURNS)
    np.testing.assert_allclose(s["returns"][:24], 2500 * 0.22, rtol=1e-5)
    np.testing.assert_allclose(s["returns"][-20:], 2500 * 0.22, rtol=1e-4)
    assert 24 < int(np.argmax(s["returns"])) < 40  # the sale runs on days 21-27
    assert s["inspection_backlog"][:24].max() == 0 and s["inspection_backlog"].max() > 1000


def test_returns_without_a_sale_are_flat_and_need_no_backlog() -> None:
    s = run(RETURNS, sale_days=0)
    np.testing.assert_allclose(s["returns"], 2500 * 0.22, rtol=1e-5)
    assert s["inspection_backlog"].max() == 0


def test_returns_arrive_exactly_after_a_fixed_delay_when_the_mean_is_the_minimum() -> None:
    s = run(
        RETURNS,
        min_return_delay_days=5,
        mean_return_delay_days=5,
        sale_days=1,
        sale_start_day=30,
        sale_factor=3.0,
    )
    wave = s["returns"] - 2500 * 0.22
    assert np.nonzero(np.abs(wave) > 1e-6)[0].tolist() == [35]
    assert wave[35] == pytest.approx(2 * 2500 * 0.22)


def test_returns_refunds_restock_and_write_offs_split_the_inspected_returns() -> None:
    s = run(RETURNS, refund_outcome_probabilities=[0, 1, 0], average_order_value=100.0)
    np.testing.assert_allclose(s["refunds_paid"], 50 * s["inspected"])
    np.testing.assert_allclose(s["written_off"], 0.2 * s["inspected"])
    np.testing.assert_allclose(s["restocked"][2:], 0.8 * s["inspected"][:-2])


# --- 1.1.0: real queues


@pytest.mark.parametrize(
    ("old", "new"),
    [(FULFILMENT, FULFILMENT_QUEUES), (RETURNS, RETURNS_QUEUES)],
    ids=lambda f: f.name,
)
def test_1_1_0_queues_give_the_series_the_closed_forms_gave(old: Path, new: Path) -> None:
    before, after = run(old, bins=168), run(new, bins=168)
    shown = [o["series"] for o in yaml.safe_load(render(new))["outputs"]]
    assert shown == [o["series"] for o in yaml.safe_load(render(old))["outputs"]]
    for name in shown:
        np.testing.assert_allclose(after[name], before[name], atol=1e-6, err_msg=name)
    assert not any("excess" in name for name in after)  # no closed form left


def test_1_1_0_fulfilment_declares_its_queues_in_the_topology() -> None:
    model = parse(FULFILMENT_QUEUES)
    assert model.topology is not None
    picking, carrier = model.topology.nodes
    assert (picking.id, picking.kind, picking.semantics.queue_depth) == (
        "Picking",
        "serviceWithBuffer",
        "pick_backlog",
    )
    assert (carrier.id, carrier.kind, carrier.semantics.queue_depth) == (
        "Carrier",
        "queue",
        "awaiting_carrier",
    )
    assert carrier.dispatch is not None
    assert (carrier.dispatch.period, carrier.dispatch.phase) == (24, 18)
    assert model.plan is not None
    synthesized = dict(model.plan.synthesized)
    assert synthesized["pick_backlog"] == "topology node 'Picking'"
    assert synthesized["carrier_gated_outflow"] == "topology node 'Carrier'"


def test_1_1_0_returns_declares_its_inspection_queue() -> None:
    model = parse(RETURNS_QUEUES)
    assert model.topology is not None
    (inspection,) = model.topology.nodes
    assert (inspection.id, inspection.semantics.queue_depth) == ("Inspection", "inspection_backlog")


def test_1_1_0_backlog_grows_while_orders_exceed_capacity_and_drains_after() -> None:
    s = run(FULFILMENT_QUEUES, bins=192)
    backlog, excess = s["pick_backlog"], s["orders"] - s["pick_capacity"]
    assert backlog.min() >= 0
    sunday = slice(144, 168)  # no shift: the backlog only grows
    assert np.all(np.diff(backlog[sunday]) > 0) and np.all(excess[sunday] > 0)
    # whenever the pickers can do more than arrives, the backlog shrinks, never below 0
    draining = np.flatnonzero((excess[1:] < 0) & (backlog[:-1] > 0)) + 1
    assert draining.size > 20
    assert np.all(backlog[draining] < backlog[draining - 1])
    np.testing.assert_allclose(
        backlog[draining], np.maximum(0, backlog[draining - 1] + excess[draining]), atol=1e-9
    )
    assert backlog[168 + 20] < backlog[167] - 1000  # Monday's shift works it down


@pytest.mark.parametrize("folder", [FULFILMENT_QUEUES, RETURNS_QUEUES], ids=lambda f: f.name)
def test_1_1_0_initial_backlog_is_worked_off_first(folder: Path) -> None:
    backlog = "pick_backlog" if folder == FULFILMENT_QUEUES else "inspection_backlog"
    capacity, done = (
        ("pick_capacity", "picked")
        if folder == FULFILMENT_QUEUES
        else ("inspection_capacity", "inspected")
    )
    s = run(folder, initial_backlog=400)
    fresh = run(folder)
    assert s[backlog][0] > fresh[backlog][0] or s[done][0] > fresh[done][0]
    CHECKS[manifest(folder)["id"]](s, 400)
    assert np.all(s[done] <= s[capacity] + TOL)
    assert s[backlog][-1] == pytest.approx(fresh[backlog][-1])  # worked off in the end


@pytest.mark.parametrize("folder", [FULFILMENT_QUEUES, RETURNS_QUEUES], ids=lambda f: f.name)
def test_1_1_0_refuses_a_negative_initial_backlog(folder: Path) -> None:
    template = f"{manifest(folder)['id']} 1.1.0"
    with pytest.raises(ParameterError) as err:
        _rendered(folder, {"initial_backlog": -1})
    assert str(err.value) == (
        f"parameter 'initial_backlog' = -1 is below the minimum 0 (template {template})"
    )
