"""``/v1/artifacts``, ``/healthz``, the OpenAPI document and the errors of unknown routes."""

from __future__ import annotations

import threading
import time
from typing import Any

from flowtime_sim.core import Flowtime
from tests.service.conftest import Client, MakeModel, problem


def _ids(response: Any) -> list[str]:
    assert response.status_code == 200, response.text
    return [a["id"] for a in response.json()["artifacts"]]


def test_listing_filters(client: Client, make_model: MakeModel, ft: Flowtime) -> None:
    a = make_model(name="alpha", tags=("red", "big")).artifact.id
    b = make_model(name="beta", tags=("red",), peak_factor=2).artifact.id
    c = make_model(owner="zed", name="gamma", tags=("blue",), peak_factor=3).artifact.id
    run = ft.run_model(a).artifact.id
    assert sorted(_ids(client.get("/v1/artifacts"))) == sorted([a, b, c, run])
    assert sorted(_ids(client.get("/v1/artifacts", params={"kind": "model"}))) == sorted([a, b, c])
    assert _ids(client.get("/v1/artifacts", params={"kind": "run"})) == [run]
    assert sorted(_ids(client.get("/v1/artifacts", params={"tag": "red"}))) == sorted([a, b])
    assert _ids(client.get("/v1/artifacts", params=[("tag", "red"), ("tag", "big")])) == [a]
    assert _ids(client.get("/v1/artifacts", params={"q": "GAMMA"})) == [c]
    assert _ids(client.get("/v1/artifacts", params={"owner": "zed"})) == [c]
    assert _ids(client.get("/v1/artifacts", params={"model": a, "kind": "run"})) == [run]
    assert len(_ids(client.get("/v1/artifacts", params={"template": "checkout"}))) == 3
    assert _ids(client.get("/v1/artifacts", params={"template": "nope"})) == []


def test_listing_pages_with_a_cursor(client: Client, make_model: MakeModel) -> None:
    made = {make_model(peak_factor=1 + i / 10).artifact.id for i in range(5)}
    first = client.get("/v1/artifacts", params={"limit": 2}).json()
    assert first["total"] == 5 and len(first["artifacts"]) == 2 and first["next_cursor"]
    seen = [a["id"] for a in first["artifacts"]]
    cursor = first["next_cursor"]
    while cursor:
        page = client.get("/v1/artifacts", params={"limit": 2, "cursor": cursor}).json()
        seen += [a["id"] for a in page["artifacts"]]
        cursor = page["next_cursor"]
    assert sorted(seen) == sorted(made)


def test_paging_while_others_insert_neither_skips_nor_repeats(
    client: Client, make_model: MakeModel, ft: Flowtime
) -> None:
    before = {make_model(peak_factor=1 + i / 100).artifact.id for i in range(12)}
    stop = threading.Event()
    inserted: list[str] = []

    def insert() -> None:
        from flowtime_sim.types import ParameterSources

        writer = Flowtime(root=ft.root, owner="writer")  # its own SQLite connection
        try:
            i = 0
            while not stop.is_set():
                created = writer.create_model(
                    "checkout", ParameterSources(sets={"peak_factor": 5 + i / 100}), owner="writer"
                )
                inserted.append(created.artifact.id)
                i += 1
        finally:
            writer.close()

    def wait_for_an_insert() -> None:
        count, deadline = len(inserted), time.monotonic() + 20
        while len(inserted) == count and time.monotonic() < deadline:
            time.sleep(0.005)

    thread = threading.Thread(target=insert)
    thread.start()
    try:
        seen: list[str] = []
        cursor = None
        while True:
            wait_for_an_insert()  # every page is read after at least one more insert
            params: dict[str, Any] = {"limit": 3, "kind": "model"}
            if cursor:
                params["cursor"] = cursor
            page = client.get("/v1/artifacts", params=params).json()
            seen += [a["id"] for a in page["artifacts"]]
            cursor = page["next_cursor"]
            if not cursor:
                break
    finally:
        stop.set()
        thread.join()
    assert len(inserted) >= 5, "the writer did not insert while the reader paged"
    assert len(seen) == len(set(seen)), "an artifact was listed twice"
    assert before <= set(seen), f"skipped: {before - set(seen)}"


def test_listing_parameters_are_validated(client: Client) -> None:
    doc = problem(client.get("/v1/artifacts", params={"cursor": "not-a-cursor"}), 400, "cursor")
    assert doc["detail"] == (
        "invalid cursor 'not-a-cursor'; pass the next_cursor of a previous page"
    )
    problem(client.get("/v1/artifacts", params={"limit": 0}), 422, "limit")
    problem(client.get("/v1/artifacts", params={"limit": 1001}), 422, "limit")
    doc = problem(client.get("/v1/artifacts", params={"kind": "dataset"}), 422, "kind")
    assert doc["detail"] == "kind: Input should be 'model', 'run' or 'sweep' (got 'dataset')"
    problem(client.get("/v1/artifacts", params={"tag": "x" * 65}), 422, "tag[0]")


def test_one_artifact_and_its_files(client: Client, make_model: MakeModel, ft: Flowtime) -> None:
    mid = make_model(name="shop").artifact.id
    run = ft.run_model(mid).artifact.id
    model = client.get(f"/v1/artifacts/{mid}").json()
    assert model == client.get(f"/sim/models/{mid}").json()
    assert client.get(f"/v1/artifacts/{mid}@v1").json() == model
    view = client.get(f"/v1/artifacts/{run}").json()
    assert view["kind"] == "run" and view["version"] is None
    assert view["files"] == {
        "binned_v0.csv": f"/v1/artifacts/{run}/files/binned_v0.csv",
        "catalog.json": f"/v1/artifacts/{run}/files/catalog.json",
    }
    assert view["links"] == {
        "self": f"/v1/artifacts/{run}",
        "page": f"/runs/{run}",
        "model": f"/sim/models/{mid}/v1",
    }
    csv = client.get(view["files"]["binned_v0.csv"])
    assert csv.text.startswith("bin,time_bin,series,value\n")
    assert csv.headers["etag"] == f'"{view["catalog"]["files"]["binned_v0.csv"]}"'
    model_yaml = client.get(f"/v1/artifacts/{mid}/files/model.yaml")
    assert model_yaml.headers["content-type"] == "application/yaml"

    doc = problem(client.get("/v1/artifacts/absent-run_12345678"), 404, "artifact_id")
    assert doc["detail"] == (
        "no artifact 'absent-run_12345678' here; list artifacts with GET /v1/artifacts"
    )
    doc = problem(client.get(f"/v1/artifacts/{mid}@v9"), 404, "artifact_id")
    assert doc["detail"] == f"model {mid} has no version 9 (versions: v1)"
    doc = problem(client.get(f"/v1/artifacts/{run}/files/model.yaml"), 404, "name")
    assert doc["detail"] == (f"{run} has no file 'model.yaml'; files: binned_v0.csv, catalog.json")


def test_health_openapi_and_unknown_routes(client: Client) -> None:
    assert client.get("/healthz").json() == {"status": "ok", "version": "0.1.0"}
    doc = client.get("/openapi.json").json()
    assert set(doc["paths"]) == {
        "/sim/new",
        "/sim/derive",
        "/sim/run",
        "/sim/models/{model_id}",
        "/sim/models/{model_id}/versions",
        "/sim/models/{model_id}/v{version}",
        "/sim/models/{model_id}/v{version}/files/{name}",
        "/sim/templates",
        "/sim/templates/{template_ref}",
        "/v1/artifacts",
        "/v1/artifacts/{artifact_id}",
        "/v1/artifacts/{artifact_id}/files/{name}",
        "/healthz",
        "/sim/sweeps",
        "/sim/sweeps/{sweep_id}",
        "/sim/compare",
    }
    not_found = doc["paths"]["/sim/models/{model_id}"]["get"]["responses"]["404"]
    assert list(not_found["content"]) == ["application/problem+json"]
    assert not_found["content"]["application/problem+json"]["schema"] == {
        "$ref": "#/components/schemas/Problem"
    }
    created = doc["paths"]["/sim/new"]["post"]["responses"]
    assert {"200", "201", "401", "404", "409", "413", "422"} <= set(created)

    doc = problem(client.get("/nowhere"), 404)
    assert doc["detail"] == "nothing is served at /nowhere; see /openapi.json for the API"
    assert doc["instance"] == "/nowhere"
    response = client.request("DELETE", "/sim/new")
    doc = problem(response, 405)
    assert doc["detail"] == "DELETE is not allowed on /sim/new"
    assert response.headers["allow"] == "POST"
