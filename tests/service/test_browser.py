"""The artifacts page in a real headless Chromium, against a real server.

Artifacts are made with the ``flowtime-sim`` command line against the root the server uses;
the page must list them, filter them, and start a run. Each step is screenshotted; with
``FLOWTIME_SIM_UPDATE_DOCS=1`` the screenshots replace ``docs/images/page-*.png``, the images
the README and the docs show.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from flowtime_sim.core import Flowtime
from flowtime_sim.service import create_app
from tests.service.conftest import LOCAL_USER, live_server

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DOCS_IMAGES = Path(__file__).resolve().parents[2] / "docs" / "images"

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing; CI must run the browser tests")
        pytest.skip(f"{CHROMIUM} is missing: install Debian's chromium to run the browser tests")
    playwright_api = pytest.importorskip("playwright.sync_api")
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def cli(*args: str) -> dict[str, Any]:
    """Run ``flowtime-sim ARGS --json`` against the test's root (``FLOWTIME_ARTIFACTS_ROOT``)."""
    exe = Path(sys.executable).with_name("flowtime-sim")
    env = {**os.environ, "FLOWTIME_OWNER": LOCAL_USER}  # the server's one local user
    done = subprocess.run(
        [str(exe), *args, "--json"], capture_output=True, text=True, env=env, check=True
    )
    result: dict[str, Any] = json.loads(done.stdout)
    return result


@pytest.fixture
def site(ft: Flowtime) -> Iterator[str]:
    with live_server(create_app(ft, tokens_file="")) as url:
        yield url


@pytest.fixture
def page_errors() -> list[str]:
    """Script errors and console errors (failed loads included) the page logged."""
    return []


@pytest.fixture
def page(chromium: Any, site: str, page_errors: list[str]) -> Iterator[Any]:
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    tab = context.new_page()
    tab.on("pageerror", lambda exc: page_errors.append(str(exc)))
    tab.on("console", lambda m: page_errors.append(m.text) if m.type == "error" else None)
    yield tab
    context.close()
    assert page_errors == [], f"the page logged errors: {page_errors}"


@pytest.fixture(scope="module")
def images(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if os.environ.get("FLOWTIME_SIM_UPDATE_DOCS") == "1":
        return DOCS_IMAGES
    return tmp_path_factory.mktemp("screenshots")


def shot(tab: Any, images: Path, name: str) -> None:
    images.mkdir(parents=True, exist_ok=True)
    target = images / f"page-{name}.png"
    tab.screenshot(path=str(target), full_page=True)
    assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_page_lists_filters_and_runs(page: Any, site: str, images: Path) -> None:
    baseline = cli(
        "new",
        "-t",
        "checkout",
        "--name",
        "Checkout baseline",
        "--tag",
        "baseline",
        "--visibility",
        "public",
    )
    rush = cli(
        "new",
        "-t",
        "checkout",
        "--name",
        "Black Friday rush",
        "--set",
        "peak_factor=3.5",
        "--tag",
        "promo",
    )
    funnel = cli("new", "-t", "storefront", "--name", "Storefront funnel", "--tag", "web")
    returns = cli("new", "-t", "returns", "--name", "Returns after the sale", "--tag", "promo")
    cli("new", "-t", "order-fulfilment", "--name", "Warehouse east", "--visibility", "team")
    run = cli("run", "--model", baseline["model_id"])
    cli("run", "--model", returns["model_id"])

    page.goto(site + "/")
    cards = page.locator("li.card")
    assert cards.count() == 7
    assert page.locator("#count").inner_text() == "7 artifacts, newest first."
    for made in (baseline, rush, funnel):
        card = page.locator(f'li.card[data-id="{made["model_id"]}"]')
        assert card.locator("svg.flowtime-preview").count() == 1  # the inline preview
    rush_card = page.locator(f'li.card[data-id="{rush["model_id"]}"]')
    assert rush_card.locator(".card-title").inner_text() == "Black Friday rush"
    assert "promo" in rush_card.locator(".tags").inner_text()
    assert rush_card.locator(".version").inner_text() == "v1"
    assert page.locator(f'li.card[data-id="{run["run_id"]}"] svg.spark').count() == 1
    shot(page, images, "index")

    page.select_option("select[name=kind]", "run")
    page.click("form.filters button[type=submit]")
    page.wait_for_url("**/?kind=run*")
    assert sorted(page.locator("li.card").evaluate_all("els => els.map(e => e.dataset.kind)")) == [
        "run",
        "run",
    ]
    page.goto(site + "/")
    page.fill("input[name=tag]", "promo")
    page.select_option("select[name=template]", "checkout")
    page.click("form.filters button[type=submit]")
    page.wait_for_url("**tag=promo*")
    ids = page.locator("li.card").evaluate_all("els => els.map(e => e.dataset.id)")
    assert ids == [rush["model_id"]]
    shot(page, images, "filtered")
    page.click("a.chip.removable")  # drop the tag filter, keep the template
    page.wait_for_load_state()
    assert page.locator("li.card").count() == 2

    page.click(f'li.card[data-id="{rush["model_id"]}"] .card-title a')
    page.wait_for_url(f"**/models/{rush['model_id']}*")
    assert page.locator("h1").inner_text() == "Black Friday rush"
    assert page.locator("table.params").inner_text().count("peak_factor") == 1
    assert page.locator("#runs").inner_text() == "No runs yet."
    page.select_option("form[data-run] select[name=mode]", "sample")
    page.fill("form[data-run] input[name=seed]", "42")
    page.click("form[data-run] button[type=submit]")
    page.wait_for_selector("#run-result .series-table")
    result = page.locator("#run-result")
    new_run = result.get_attribute("data-run-id")
    assert new_run and new_run.startswith("black-friday-rush-run_")
    assert result.locator(".run-status").inner_text() == "New run stored."
    assert "sample · seed 42" in result.locator(".series-head").inner_text()
    assert result.locator("table.series-table tbody tr").count() >= 5
    assert page.locator("#runs li a").all_inner_texts() == [new_run]
    shot(page, images, "model")

    page.goto(site + "/")
    assert page.locator(f'li.card[data-id="{new_run}"]').count() == 1
    page.goto(f"{site}/runs/{new_run}")
    assert page.locator("h1").inner_text() == new_run
    shot(page, images, "run")


def test_a_failed_run_is_explained_on_the_page(
    page: Any, site: str, page_errors: list[str]
) -> None:
    made = cli("new", "-t", "checkout", "--name", "Shop")
    page.goto(f"{site}/models/{made['model_id']}")
    page.fill("form[data-run] input[name=seed]", str(2**70))
    page.click("form[data-run] button[type=submit]")
    error = page.locator("#run-result .error")
    error.wait_for()
    assert error.inner_text() == (
        f"seed: Input should be less than 18446744073709551616 (got '{2**70}')"
    )
    assert page.locator("form[data-run] button[type=submit]").is_enabled()
    assert [e for e in page_errors if "422" not in e] == []
    page_errors.clear()
    page.fill("form[data-run] input[name=seed]", str(2**64 - 1))  # exact, unlike a JS number
    page.select_option("form[data-run] select[name=mode]", "sample")  # expected ignores seeds
    page.click("form[data-run] button[type=submit]")
    page.wait_for_selector("#run-result .series-table")
    assert f"seed {2**64 - 1}" in page.locator("#run-result .series-head").inner_text()
