"""``/sim/...``: creating, deriving and running models; reading versions, files, templates."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from tests.service.conftest import LOCAL_USER, Client, MakeModel, problem

TINY_MODEL = """\
schemaVersion: 1
grid: {bins: 3, binSize: 60, binUnit: minutes}
nodes:
  - {id: demand, kind: const, values: [1, 2, 3]}
  - {id: served, kind: expr, expr: "demand * 2"}
"""


# -- POST /sim/new -------------------------------------------------------------------------


def test_new_creates_a_model_then_reports_it_unchanged(
    client: Client, artifacts_root: Path
) -> None:
    body = {
        "template": "checkout",
        "name": "Evening rush",
        "parameters": {"peak_factor": 2},
        "tags": ["demo"],
        "visibility": "public",
    }
    first = client.post("/sim/new", json=body)
    assert first.status_code == 201, first.text
    doc = first.json()
    assert doc["model_id"].startswith("evening-rush_") and doc["version"] == 1
    assert doc["status"] == "created"
    assert doc["inputs_hash"].startswith("sha256:")
    assert doc["catalog_url"] == f"/sim/models/{doc['model_id']}/v1"
    assert first.headers["location"] == doc["catalog_url"]
    assert doc["artifact_path"] == f"{artifacts_root}/models/{doc['model_id']}/v1"
    assert Path(doc["artifact_path"], "model.yaml").is_file()

    again = client.post("/sim/new", json=body)
    assert again.status_code == 200
    assert again.json() == {**doc, "status": "unchanged"}
    assert "location" not in again.headers

    catalog = client.get(doc["catalog_url"]).json()["catalog"]
    assert catalog["owner"] == LOCAL_USER
    assert catalog["visibility"] == "public"
    assert catalog["parameters"]["peak_factor"] == 2
    assert "demo" in catalog["tags"]


def test_new_refuses_an_owner_in_the_body(client: Client) -> None:
    doc = problem(
        client.post("/sim/new", json={"template": "checkout", "owner": "mallory"}), 422, "owner"
    )
    assert doc["detail"] == (
        "owner cannot be set by clients: the owner is always the "
        "authenticated identity; remove the 'owner' field"
    )
    assert doc["errors"] == [{"field": "owner", "message": doc["detail"]}]


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/sim/derive", {"from": "a_12345678", "name": "n", "parameters": {}}),
        ("/sim/run", {"model_id": "a_12345678"}),
        ("/sim/run", {"model": "schemaVersion: 1\n"}),
    ],
)
def test_derive_and_run_refuse_an_owner_in_the_body(
    client: Client, path: str, body: dict[str, object]
) -> None:
    doc = problem(client.post(path, json={**body, "owner": "mallory"}), 422, "owner")
    assert doc["detail"] == (
        "owner cannot be set by clients: the owner is always the "
        "authenticated identity; remove the 'owner' field"
    )


def test_new_refuses_unknown_fields_naming_them(client: Client) -> None:
    doc = problem(
        client.post("/sim/new", json={"template": "checkout", "colour": "red"}), 422, "colour"
    )
    assert doc["detail"] == "unknown field 'colour'; see the request schema in /openapi.json"


def test_new_reports_every_bad_parameter_by_name(client: Client) -> None:
    response = client.post(
        "/sim/new", json={"template": "checkout", "parameters": {"peak_factor": -2, "bins": "many"}}
    )
    doc = problem(response, 422)
    fields = sorted(e["field"] for e in doc["errors"])
    assert fields == ["parameters.bins", "parameters.peak_factor"]
    assert doc["field"] in fields
    assert "parameter 'peak_factor' = -2 is below the minimum" in doc["detail"]
    assert "parameter 'bins' = 'many' is not of type 'integer'" in doc["detail"]


@pytest.mark.parametrize(
    ("body", "field", "detail"),
    [
        ({}, "template", "template: Field required"),
        ({"template": ""}, "template", "template: String should have at least 1 character"),
        (
            {"template": "checkout", "visibility": "secret"},
            "visibility",
            "visibility: Input should be 'private', 'team' or 'public' (got 'secret')",
        ),
        (
            {"template": "checkout", "tags": ["x" * 65]},
            "tags[0]",
            "tags[0]: String should have at most 64 characters",
        ),
        (
            {"template": "checkout", "parameters": [1, 2]},
            "parameters",
            "parameters: Input should be a valid dictionary",
        ),
    ],
)
def test_new_validates_the_body(
    client: Client, body: dict[str, object], field: str, detail: str
) -> None:
    doc = problem(client.post("/sim/new", json=body), 422, field)
    assert doc["detail"].startswith(detail)


def test_new_refuses_bodies_that_are_not_json_objects(client: Client) -> None:
    doc = problem(
        client.post("/sim/new", content=b"{not json", headers={"Content-Type": "application/json"}),
        422,
        "body",
    )
    assert doc["detail"].startswith("the request body is not valid JSON")
    doc = problem(client.post("/sim/new", json=["checkout"]), 422, "body")
    assert doc["detail"] == "the request body must be a JSON object"
    doc = problem(client.post("/sim/new"), 422, "body")
    assert doc["detail"] == "a JSON object request body is required"


def test_new_names_an_unknown_template(client: Client) -> None:
    doc = problem(client.post("/sim/new", json={"template": "nope"}), 404, "template")
    assert doc["detail"].startswith("unknown template 'nope'; available: ")
    doc = problem(
        client.post("/sim/new", json={"template": "checkout", "version": "9.9.9"}), 404, "version"
    )
    assert "has no version '9.9.9'" in doc["detail"]


def test_new_picks_the_template_version(client: Client) -> None:
    doc = client.post("/sim/new", json={"template": "checkout", "version": "1.0.0"}).json()
    catalog = client.get(doc["catalog_url"]).json()["catalog"]
    assert catalog["template_version"] == "1.0.0"


# -- POST /sim/derive ----------------------------------------------------------------------


def test_derive_records_its_source(client: Client, make_model: MakeModel) -> None:
    source = make_model(name="base")
    response = client.post(
        "/sim/derive",
        json={"from": source.artifact.id, "name": "Busier", "parameters": {"peak_factor": 3}},
    )
    assert response.status_code == 201, response.text
    doc = response.json()
    catalog = client.get(doc["catalog_url"]).json()["catalog"]
    assert catalog["derived_from"] == f"{source.artifact.id}@v1"
    assert catalog["parameters"]["peak_factor"] == 3
    assert catalog["owner"] == LOCAL_USER
    again = client.post(
        "/sim/derive",
        json={
            "from": f"{source.artifact.id}@v1",
            "name": "Busier",
            "parameters": {"peak_factor": 3},
        },
    )
    assert again.status_code == 200 and again.json()["status"] == "unchanged"


def test_derive_errors_name_the_field(client: Client, make_model: MakeModel) -> None:
    doc = problem(
        client.post("/sim/derive", json={"from": "../x", "name": "n", "parameters": {}}),
        422,
        "from",
    )
    assert doc["detail"].startswith("invalid model id '../x': ids are lower-case letters")
    doc = problem(
        client.post("/sim/derive", json={"from": "absent_12345678", "name": "n", "parameters": {}}),
        404,
        "from",
    )
    assert doc["detail"] == (
        "no model 'absent_12345678' here; list models with GET /v1/artifacts?kind=model"
    )
    source = make_model()
    problem(
        client.post("/sim/derive", json={"from": source.artifact.id, "parameters": {}}), 422, "name"
    )
    doc = problem(
        client.post(
            "/sim/derive",
            json={"from": source.artifact.id, "name": "n", "parameters": {"peak_factor": -1}},
        ),
        422,
        "parameters.peak_factor",
    )
    assert "is below the minimum" in doc["detail"]


# -- POST /sim/run -------------------------------------------------------------------------


def test_run_a_stored_model(client: Client, make_model: MakeModel) -> None:
    model = make_model(name="shop", visibility="team")
    response = client.post("/sim/run", json={"model_id": model.artifact.id})
    assert response.status_code == 201, response.text
    doc = response.json()
    assert doc["run_id"].startswith("shop-run_")
    assert doc["model_id"] == model.artifact.id
    assert doc["catalog_url"] == f"/v1/artifacts/{doc['run_id']}"
    assert response.headers["location"] == doc["catalog_url"]
    run = client.get(doc["catalog_url"]).json()
    assert run["kind"] == "run" and run["catalog"]["visibility"] == "team"
    assert run["catalog"]["owner"] == LOCAL_USER
    assert run["links"]["model"] == f"/sim/models/{model.artifact.id}/v1"

    again = client.post("/sim/run", json={"model_id": model.artifact.id, "version": 1})
    assert again.status_code == 200 and again.json()["run_id"] == doc["run_id"]
    sampled = client.post(
        "/sim/run", json={"model_id": f"{model.artifact.id}@v1", "mode": "sample", "seed": 7}
    )
    assert sampled.status_code == 201 and sampled.json()["run_id"] != doc["run_id"]
    catalog = client.get(sampled.json()["catalog_url"]).json()["catalog"]
    assert (catalog["mode"], catalog["seed"]) == ("sample", 7)


def test_run_a_model_given_as_yaml(client: Client) -> None:
    response = client.post(
        "/sim/run", json={"model": TINY_MODEL, "name": "tiny", "visibility": "public"}
    )
    assert response.status_code == 201, response.text
    doc = response.json()
    assert doc["run_id"].startswith("tiny-run_") and doc["model_id"] is None
    csv = client.get(f"{doc['catalog_url']}/files/binned_v0.csv")
    assert csv.headers["content-type"] == "text/csv; charset=utf-8"
    assert csv.text.splitlines()[:2] == ["bin,time_bin,series,value", "0,,demand,1"]


@pytest.mark.parametrize(
    ("body", "field", "detail"),
    [
        (
            {},
            "model_id",
            "give exactly one of model_id (a stored model) and model (a model as YAML text)",
        ),
        ({"model_id": "a_12345678", "model": TINY_MODEL}, "model_id", "give exactly one of"),
        (
            {"model": TINY_MODEL, "version": 2},
            "version",
            "version applies only to model_id; a model given as YAML text has no versions",
        ),
        (
            {"model_id": "a_12345678", "visibility": "public"},
            "visibility",
            "visibility applies only to a model given as YAML text; a stored model's runs share "
            "its visibility",
        ),
        ({"model_id": "a_12345678", "name": "x"}, "name", "name applies only to a model given"),
        (
            {"model_id": "a_12345678@v1", "version": 2},
            "version",
            "model_id 'a_12345678@v1' names version 1 but version is 2; give one of them",
        ),
        ({"model_id": "A/b"}, "model_id", "invalid model id 'A/b'"),
        ({"model": TINY_MODEL, "seed": 2**64}, "seed", "seed: Input should be less than"),
        ({"model": TINY_MODEL, "mode": "guess"}, "mode", "mode: Input should be 'expected' or"),
        (
            {"model": "schemaVersion: 1\nnodes: []\n"},
            "model.grid",
            "grid is missing; add e.g. 'grid: {bins: 24, binSize: 1, binUnit: hours}'",
        ),
        (
            {"model": "grid: [\n"},
            "model",
            "malformed YAML in model at line 2, column 1: while parsing a flow node, did not find "
            "expected node content",
        ),
    ],
)
def test_run_validates_the_body(
    client: Client, body: dict[str, object], field: str, detail: str
) -> None:
    doc = problem(client.post("/sim/run", json=body), 422, field)
    assert doc["detail"].startswith(detail)


def test_run_of_an_unknown_model_is_404(client: Client) -> None:
    doc = problem(client.post("/sim/run", json={"model_id": "absent_12345678"}), 404, "model_id")
    assert doc["detail"].startswith("no model 'absent_12345678' here")


def test_run_caps_the_model_text(ft: object, tmp_path: Path) -> None:
    from flowtime_sim.service import create_app

    small = Client(create_app(ft, tokens_file="", max_model_chars=100))  # type: ignore[arg-type]
    try:
        doc = problem(small.post("/sim/run", json={"model": TINY_MODEL}), 422, "model")
        assert doc["detail"] == (
            f"the model text is {len(TINY_MODEL)} characters long, more than the limit of 100"
        )
    finally:
        small.close()


# -- GET /sim/models/... -------------------------------------------------------------------


def test_model_views_link_to_their_files(client: Client, make_model: MakeModel) -> None:
    first = make_model(name="shop")
    mid = first.artifact.id
    view = client.get(f"/sim/models/{mid}").json()
    assert view["kind"] == "model" and view["id"] == mid and view["version"] == 1
    assert view["catalog"]["id"] == mid
    assert view["files"] == {
        n: f"/sim/models/{mid}/v1/files/{n}" for n in ("catalog.json", "model.yaml", "preview.svg")
    }
    assert view["links"]["versions"] == f"/sim/models/{mid}/versions"
    assert view["links"]["page"] == f"/models/{mid}?version=1"
    assert client.get(f"/sim/models/{mid}/v1").json() == view

    versions = client.get(f"/sim/models/{mid}/versions").json()
    assert versions["model_id"] == mid
    assert [v["version"] for v in versions["versions"]] == [1]
    assert versions["versions"][0]["url"] == f"/sim/models/{mid}/v1"

    doc = problem(client.get(f"/sim/models/{mid}/v7"), 404, "model_id")
    assert doc["detail"] == f"model {mid} has no version 7 (versions: v1)"
    doc = problem(client.get("/sim/models/Bad!Id"), 422, "model_id")
    assert doc["detail"].startswith("invalid model id 'Bad!Id'")
    problem(client.get(f"/sim/models/{mid}/v0"), 422, "version")


def test_model_files_have_their_media_types(client: Client, make_model: MakeModel) -> None:
    mid = make_model().artifact.id
    base = f"/sim/models/{mid}/v1/files"
    model = client.get(f"{base}/model.yaml")
    assert model.headers["content-type"] == "application/yaml"
    assert yaml.safe_load(model.text)["schemaVersion"] == 1
    catalog = client.get(f"{base}/catalog.json")
    assert catalog.headers["content-type"] == "application/json"
    assert json.loads(catalog.text)["id"] == mid
    svg = client.get(f"{base}/preview.svg")
    assert svg.headers["content-type"] == "image/svg+xml"
    assert svg.headers["content-security-policy"] == (
        "default-src 'none'; style-src 'unsafe-inline'; img-src data:; sandbox"
    )
    assert svg.headers["x-content-type-options"] == "nosniff"
    assert svg.text.startswith("<svg")
    cached = client.get(f"{base}/preview.svg", headers={"If-None-Match": svg.headers["etag"]})
    assert cached.status_code == 304 and cached.content == b""
    doc = problem(client.get(f"{base}/secrets.txt"), 404, "name")
    assert doc["detail"] == (
        f"{mid} has no file 'secrets.txt'; files: catalog.json, model.yaml, preview.svg"
    )


# -- GET /sim/templates --------------------------------------------------------------------


def test_templates_with_their_parameter_schemas(client: Client) -> None:
    templates = client.get("/sim/templates").json()["templates"]
    checkout = next(t for t in templates if t["id"] == "checkout")
    assert checkout["ref"] == "checkout:checkout"
    assert checkout["version"] == checkout["versions"][0]
    assert "1.0.0" in checkout["versions"]
    assert checkout["parameters"]["type"] == "object"
    assert "peak_factor" in checkout["parameters"]["properties"]
    assert checkout["pack"]["name"] == "flowtime-pack-checkout"

    one = client.get("/sim/templates/checkout").json()
    assert one == checkout
    assert client.get("/sim/templates/checkout:checkout").json() == checkout
    old = client.get("/sim/templates/checkout", params={"version": "1.0.0"}).json()
    assert old["version"] == "1.0.0"
    doc = problem(client.get("/sim/templates/nope"), 404, "template")
    assert doc["detail"].startswith("unknown template 'nope'")
    problem(client.get("/sim/templates/checkout", params={"version": "0.0.1"}), 404, "version")
