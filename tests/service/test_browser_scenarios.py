# ruff: noqa: F811 -- the browser fixtures are imported from test_browser.py
"""The scenario views in a real headless Chromium against a real server: a run's chart, the
compare view, a sweep, and the form that creates and derives models. Screenshots as in
test_browser.py (``FLOWTIME_SIM_UPDATE_DOCS=1`` writes ``docs/images/page-*.png``)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tests.service.test_browser import (  # noqa: F401 -- fixtures
    chromium,
    cli,
    images,
    page,
    page_errors,
    shot,
    site,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]
NUMBER = re.compile(r"^-?[0-9][0-9,]*(\.[0-9]+)?$")


def ready(tab: Any) -> Any:
    chart = tab.locator("[data-chart][data-ready='1']")
    chart.wait_for()
    return chart


def test_a_runs_chart_has_axes_hover_values_and_zoom(
    page: Any,
    site: str,
    images: Path,
) -> None:
    made = cli("new", "-t", "checkout", "--name", "Checkout baseline")
    run = cli("run", "--model", made["model_id"])
    page.goto(f"{site}/runs/{run['run_id']}")
    chart = ready(page)
    assert chart.locator(".u-axis").count() == 2  # time and value axes
    legend = chart.locator(".u-legend .u-series")
    assert legend.nth(0).locator(".u-label").inner_text() == "time (UTC)"
    assert legend.nth(1).locator(".u-label").inner_text() == run["run_id"]
    assert chart.get_attribute("data-series") == "arrivals"

    over = chart.locator(".u-over")
    box = over.bounding_box()
    page.mouse.move(box["x"] + box["width"] * 0.75, box["y"] + box["height"] / 2)
    time_value = legend.nth(0).locator(".u-value").inner_text()
    assert re.fullmatch(r"2025-01-06 \d\d:\d\d UTC", time_value)
    assert NUMBER.match(legend.nth(1).locator(".u-value").inner_text())
    shot(page, images, "run-chart")

    full = chart.evaluate("el => [el.uplot.scales.x.min, el.uplot.scales.x.max]")
    page.mouse.move(box["x"] + box["width"] * 0.25, box["y"] + box["height"] / 2)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.5, box["y"] + box["height"] / 2, steps=5)
    page.mouse.up()
    zoomed = chart.evaluate("el => [el.uplot.scales.x.min, el.uplot.scales.x.max]")
    assert full[0] < zoomed[0] < zoomed[1] < full[1]

    page.select_option("[data-chart] select[data-series]", "checkout_queue")
    assert chart.get_attribute("data-series") == "checkout_queue"
    assert chart.locator(".u-axis").count() == 2


def test_compare_overlays_three_runs_from_a_sweep_or_a_list(
    page: Any,
    site: str,
    images: Path,
) -> None:
    swept = cli(
        "sweep",
        "-t",
        "checkout",
        "--grid",
        "peak_factor=1,2,3",
        "--grid",
        "base_capacity=250,400",
        "--jobs",
        "1",
    )
    page.goto(f"{site}/sweeps/{swept['sweep_id']}")
    assert page.locator("#scenarios tbody tr").count() == 6
    assert page.locator("#matrix tbody tr").count() == 3
    assert page.locator("#scenarios th").nth(2).text_content() == "orders total"
    shot(page, images, "sweep")
    page.select_option("select[name=series]", "checkout_queue")
    page.wait_for_url("**series=checkout_queue*")
    assert page.locator("#scenarios th").nth(2).text_content() == "checkout_queue total"

    page.click("#compare-all")
    page.wait_for_url("**/compare?sweep=*")
    chart = ready(page)
    assert chart.get_attribute("data-lines") == "6"

    page.goto(f"{site}/compare")
    assert page.locator("#nothing").inner_text() == (
        "No runs picked yet. Tick some runs and press Compare."
    )
    for run_id in swept["runs"][:3]:
        page.check(f"#picker input[value='{run_id}']")
    page.click("#picker button[type=submit]")
    page.wait_for_url("**/compare?run=*")
    chart = ready(page)
    assert chart.get_attribute("data-lines") == "3"
    labels = chart.locator(".u-legend .u-series .u-label").all_inner_texts()
    assert labels[0] == "time (UTC)" and sorted(labels[1:]) == sorted(swept["runs"][:3])
    page.select_option("[data-chart] select[data-series]", "checkout_queue")
    box = chart.locator(".u-over").bounding_box()
    page.mouse.move(box["x"] + box["width"] * 0.8, box["y"] + box["height"] / 2)
    values = chart.locator(".u-legend .u-series .u-value").all_inner_texts()
    assert all(NUMBER.match(v) for v in values[1:]), values
    assert page.locator("#figures tr[data-series='checkout_queue']").count() == 3
    shot(page, images, "compare")


def test_the_form_creates_a_model_shows_bounds_and_derives(
    page: Any, site: str, images: Path, page_errors: list[str]
) -> None:
    page.goto(f"{site}/new")
    page.select_option("select[name=template]", "checkout:checkout")
    page.click(".template-picker button[type=submit]")
    page.wait_for_url("**/new?template=checkout*")
    field = page.locator(".field[data-field='peak_factor']")
    assert (
        field.locator(".hint").inner_text() == "Multiplier applied to arrivals in the peak hours."
    )
    assert field.locator(".rules").inner_text() == "a number, ≥ 0"
    assert field.locator("input").input_value() == "1.5"  # the schema's default

    page.fill("#f-name", "Form shop")
    page.fill("#f-peak_factor", "-2")
    page.fill("#f-peak_start_hour", "30")
    page.click("#model-form button[type=submit]")
    error = field.locator(".field-error")
    error.wait_for()
    assert error.inner_text() == (
        "parameter 'peak_factor' = -2 is below the minimum 0 (template checkout 1.2.0)"
    )
    hour = page.locator(".field[data-field='peak_start_hour'] .field-error")
    assert hour.inner_text() == (
        "parameter 'peak_start_hour' = 30 is above the maximum 23 (template checkout 1.2.0)"
    )
    assert "invalid" in (field.get_attribute("class") or "")
    shot(page, images, "new-model-errors")
    assert [e for e in page_errors if "422" not in e] == []  # the refused request is logged
    page_errors.clear()

    page.fill("#f-peak_factor", "2.5")
    page.fill("#f-peak_start_hour", "17")
    page.click("#model-form button[type=submit]")
    page.wait_for_url("**/models/form-shop_*")
    assert page.locator("h1").inner_text() == "Form shop"
    params = page.locator("table.params").inner_text()
    assert "peak_factor\t2.5" in params and "peak_start_hour\t17" in params

    page.click("#derive")
    page.wait_for_url("**/new?from=form-shop_*")
    assert page.locator("#f-peak_factor").input_value() == "2.5"
    page.fill("#f-name", "")
    page.click("#model-form button[type=submit]")
    name_error = page.locator("[data-error-for='name']")
    name_error.wait_for()
    assert name_error.inner_text() == "a derived model needs a name"
    page.fill("#f-name", "Form shop at three")
    page.fill("#f-peak_factor", "3")
    shot(page, images, "derive")
    page.click("#model-form button[type=submit]")
    page.wait_for_url("**/models/form-shop-at-three_*")
    assert page.locator("h1").inner_text() == "Form shop at three"
    assert page.locator(".derived a").inner_text().startswith("form-shop_")
    assert "peak_factor\t3" in page.locator("table.params").inner_text()
