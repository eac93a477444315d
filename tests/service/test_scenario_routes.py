"""``/sim/sweeps`` and ``/sim/compare``: sweeps over HTTP, comparisons, visibility, problems;
and the page's sweep, compare and form views as HTML."""

from __future__ import annotations

from typing import Any

from tests.service.conftest import Client, MakeModel, bearer, problem

SWEEP = {
    "template": "checkout",
    "grid": {"peak_factor": [1, 2, 3]},
    "set": {"bins": 24, "bin_minutes": 60},
}


def test_post_a_sweep_then_read_it(client: Client) -> None:
    made = client.post("/sim/sweeps", json=SWEEP)
    assert made.status_code == 201, made.text
    doc = made.json()
    assert doc["status"] == "created" and len(doc["models"]) == len(doc["runs"]) == 3
    assert (doc["models_created"], doc["runs_created"]) == (3, 3)
    assert made.headers["location"] == f"/sim/sweeps/{doc['sweep_id']}"
    again = client.post("/sim/sweeps", json=SWEEP)
    assert again.status_code == 200 and again.json()["status"] == "unchanged"

    view = client.get(doc["catalog_url"]).json()
    assert view["catalog"]["kind"] == "sweep" and view["catalog"]["set"] == SWEEP["set"]
    assert [r["status"] for r in view["runs"]] == ["stored"] * 3
    assert [r["parameters"] for r in view["runs"]] == [{"peak_factor": v} for v in (1, 2, 3)]
    assert view["links"]["compare"] == f"/sim/compare?runs={doc['sweep_id']}"
    listed = client.get("/v1/artifacts", params={"kind": "sweep"}).json()
    assert [a["id"] for a in listed["artifacts"]] == [doc["sweep_id"]]


def test_compare_runs_and_sweeps(client: Client) -> None:
    doc = client.post("/sim/sweeps", json=SWEEP).json()
    cmp = client.get("/sim/compare", params={"runs": doc["sweep_id"], "series": "arrivals"})
    assert cmp.status_code == 200, cmp.text
    body = cmp.json()
    assert [r["run_id"] for r in body["runs"]] == doc["runs"]
    (arrivals,) = body["series"]
    assert arrivals["differs"] == "18-20"  # the default peak: 3 hours from 18:00
    assert len(arrivals["values"][doc["runs"][0]]) == 24
    assert body["time_bins"][doc["runs"][0]][0] == "2025-01-06T00:00:00Z"
    two = client.get("/sim/compare", params={"runs": f"{doc['runs'][0]},{doc['runs'][2]}"})
    assert len(two.json()["runs"]) == 2


def test_sweep_and_compare_problems(client: Client) -> None:
    doc = problem(client.post("/sim/sweeps", json={**SWEEP, "from": "x_1"}), 422, "template")
    assert doc["detail"] == "give exactly one of template and from"
    big = {
        "template": "checkout",
        "grid": {"peak_factor": list(range(30)), "base_capacity": list(range(1, 21))},
    }
    doc = problem(client.post("/sim/sweeps", json=big), 422, "grid")
    assert doc["detail"] == (
        "the grid makes 600 scenarios, more than the 500 one request may "
        "run; use 'flowtime-sim sweep' for larger sweeps"
    )
    doc = problem(
        client.post("/sim/sweeps", json={"template": "checkout", "grid": {"peak_factor": [-1]}}),
        422,
        "parameters.peak_factor",
    )
    assert doc["errors"][0]["message"] == (
        "parameter 'peak_factor' = -1 is below the minimum 0 (template checkout 1.2.0)"
    )
    doc = problem(
        client.post("/sim/sweeps", json={"template": "checkout", "grid": {"x": 1}}), 422, "grid.x"
    )
    doc = problem(client.get("/sim/compare", params={"runs": "nope_1"}), 404, "runs")
    assert doc["detail"] == "no run or sweep 'nope_1'; see 'flowtime-sim list'"
    doc = problem(client.get("/sim/compare", params={"runs": "a,../b"}), 422, "runs")
    assert doc["detail"].startswith("invalid run or sweep id '../b'")
    problem(client.get("/sim/compare", params={"runs": ","}), 422, "runs")
    doc = problem(client.get("/sim/sweeps/nope-sweep_1"), 404, "sweep_id")
    assert doc["detail"] == (
        "no sweep 'nope-sweep_1' here; list sweeps with GET /v1/artifacts?kind=sweep"
    )


def test_private_sweeps_runs_and_sources_are_invisible_to_others(
    secured: Client, make_model: MakeModel
) -> None:
    alice = bearer("alice")
    doc = secured.post("/sim/sweeps", json=SWEEP, headers=alice).json()
    for who in ("bob", "carol"):
        problem(secured.get(f"/sim/sweeps/{doc['sweep_id']}", headers=bearer(who)), 404, "sweep_id")
        problem(
            secured.get("/sim/compare", params={"runs": doc["sweep_id"]}, headers=bearer(who)),
            404,
            "runs",
        )
        problem(
            secured.get("/sim/compare", params={"runs": doc["runs"][0]}, headers=bearer(who)),
            404,
            "runs",
        )
    mine = secured.get(f"/sim/sweeps/{doc['sweep_id']}", headers=alice).json()
    assert mine["catalog"]["owner"] == "alice"
    listed = secured.get("/v1/artifacts", params={"kind": "sweep"}, headers=bearer("bob"))
    assert listed.json()["artifacts"] == []
    # bob may not sweep over alice's private model, nor learn that it exists
    model = make_model(owner="alice").artifact
    problem(
        secured.post(
            "/sim/sweeps",
            json={"from": model.id, "grid": {"peak_factor": [2]}},
            headers=bearer("bob"),
        ),
        404,
        "from",
    )
    # the same sweep by bob is alice's sweep: refused, not shared
    doc = problem(secured.post("/sim/sweeps", json=SWEEP, headers=bearer("bob")), 409, "grid")
    assert doc["detail"] == (
        f"sweep {doc['detail'].split()[1]} already exists and belongs to "
        "someone whose artifacts you cannot see; change the grid or the "
        "seed"
    )
    # a new grid over alice's models: each scenario is refused, and the sweep says so
    doc = problem(
        secured.post("/sim/sweeps", json={**SWEEP, "seed": 5}, headers=bearer("bob")), 400
    )
    assert doc["detail"].startswith(
        "3 of 3 scenarios failed (0 are stored; running the sweep "
        "again fills the gaps); the first, peak_factor=1: "
    )
    public = {**SWEEP, "visibility": "public", "grid": {"peak_factor": [4]}}
    shared = secured.post("/sim/sweeps", json=public, headers=alice).json()
    assert (
        secured.get(f"/sim/sweeps/{shared['sweep_id']}", headers=bearer("carol")).status_code == 200
    )


def test_the_sweep_and_compare_pages(client: Client) -> None:
    doc = client.post(
        "/sim/sweeps", json={**SWEEP, "grid": {"peak_factor": [1, 2], "base_capacity": [200, 300]}}
    ).json()
    page = client.get(f"/sweeps/{doc['sweep_id']}")
    assert page.status_code == 200
    html = page.text
    assert html.count('<tr data-run-id="') == 4 and 'id="matrix"' in html
    assert f'href="/compare?sweep={doc["sweep_id"]}"' in html
    assert "orders total" in html  # the headline: the last series by default
    by_queue = client.get(f"/sweeps/{doc['sweep_id']}?series=checkout_queue").text
    assert "checkout_queue total" in by_queue
    cmp = client.get(f"/compare?sweep={doc['sweep_id']}")
    assert cmp.status_code == 200 and "4 runs overlaid" in cmp.text
    assert cmp.text.count('type="checkbox" name="run"') == 4
    assert "data-chart-data" in cmp.text and "uPlot.iife.min.js" in cmp.text
    assert "No runs picked yet." in client.get("/compare").text
    index = client.get("/?kind=sweep").text
    assert index.count('data-kind="sweep"') == 1 and f'href="/sweeps/{doc["sweep_id"]}"' in index
    assert "4 scenarios over peak_factor, base_capacity" in index
    assert '<span class="badge badge-sweep">Sweep</span>' in index
    missing = client.get("/sweeps/nope-sweep_1")
    assert missing.status_code == 404 and "no sweep &#39;nope-sweep_1&#39; here" in missing.text
    assert client.get("/compare?run=nope_1").status_code == 404


def test_the_form_page_from_a_schema(client: Client, make_model: MakeModel) -> None:
    html = client.get("/new?template=checkout").text
    assert 'data-endpoint="/sim/new"' in html and 'data-field="peak_factor"' in html
    assert (
        'id="f-peak_factor" name="peak_factor" type="number" value="1.5" step="any" min="0"' in html
    )
    assert "a number, ≥ 0" in html and "Multiplier applied to arrivals in the peak hours." in html
    assert '<option value="15" selected>15</option>' in html  # bin_minutes, an enum
    assert "a whole number, ≥ 0 and ≤ 23" in html
    assert "a JSON list of 24 numbers" in html and "one of 5, 10, 15, 20, 30, 60" in html
    assert "text, or empty for none" in html  # start: a string or null
    chooser = client.get("/new").text
    assert '<option value="checkout:checkout">' in chooser
    model = make_model(name="shop", peak_factor=2.5).artifact
    derive = client.get(f"/new?from={model.id}@v1").text
    assert 'data-endpoint="/sim/derive"' in derive and f'data-from="{model.id}@v1"' in derive
    assert 'name="peak_factor" type="number" value="2.5"' in derive
    assert client.get("/new?template=nope").status_code == 404
    page: Any = client.get(f"/models/{model.id}")
    assert f'href="/new?from={model.id}%40v1"' in page.text


def test_a_chart_embeds_a_bounded_number_of_values(monkeypatch: Any) -> None:
    from flowtime_sim.scenarios.compare import ComparedRun
    from flowtime_sim.series import Binned, Series
    from flowtime_sim.service import chart_data

    monkeypatch.setattr(chart_data, "MAX_VALUES", 25)
    binned = Binned([Series(f"s{i}", (1.0,) * 10) for i in range(4)], [""] * 10)
    run = ComparedRun("r", "r", {"grid": {"bins": 10, "binSize": 1, "binUnit": "hours"}}, binned)
    data = chart_data.chart_data([run])
    assert list(data["series"]) == ["s0", "s1"] and data["omitted"] == 2
    assert data["x_label"] == "time (hours)" and data["time"] is False
    from flowtime_sim.service.page import environment

    html = environment().get_template("_chart.html.j2").render(chart=data)
    assert "2 more series are in the CSV files, too many values to draw here." in html
    assert html.count("<option") == 2


def test_compare_leaves_out_a_sweeps_deleted_run(client: Client, ft: Any) -> None:
    doc = client.post("/sim/sweeps", json=SWEEP).json()
    ft.delete(doc["runs"][0])
    body = client.get("/sim/compare", params={"runs": doc["sweep_id"]}).json()
    assert body["missing_runs"] == [doc["runs"][0]]
    assert [r["run_id"] for r in body["runs"]] == doc["runs"][1:]
    page = client.get(f"/compare?sweep={doc['sweep_id']}").text
    assert f"Gone (deleted): {doc['runs'][0]}." in page
    view = client.get(f"/sim/sweeps/{doc['sweep_id']}").json()
    assert [r["status"] for r in view["runs"]] == ["missing", "stored", "stored"]
    assert "(missing)" in client.get(f"/sweeps/{doc['sweep_id']}").text
