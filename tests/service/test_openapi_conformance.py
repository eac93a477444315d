"""Property-based requests from the OpenAPI document (schemathesis): no 5xx, and every
response — status, content type, headers and body — is the one the document promises."""

from __future__ import annotations

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from schemathesis.config import PositiveDataAcceptanceConfig

from tests.service.conftest import Client, MakeModel

#: Schema-valid requests may still be refused where the OpenAPI document cannot say why:
#: template parameters (each template's own JSON Schema), model YAML, opaque cursors.
SEMANTIC_REFUSALS = {
    "POST": ["400", "422"],
    "GET /v1/artifacts": ["400"],
    "GET /sim/compare": ["400", "404"],
}
OPERATIONS = [
    ("POST", "/sim/new"),
    ("POST", "/sim/derive"),
    ("POST", "/sim/run"),
    ("GET", "/sim/models/{model_id}"),
    ("GET", "/sim/models/{model_id}/versions"),
    ("GET", "/sim/models/{model_id}/v{version}"),
    ("GET", "/sim/models/{model_id}/v{version}/files/{name}"),
    ("GET", "/sim/templates"),
    ("GET", "/sim/templates/{template_ref}"),
    ("GET", "/v1/artifacts"),
    ("GET", "/v1/artifacts/{artifact_id}"),
    ("GET", "/v1/artifacts/{artifact_id}/files/{name}"),
    ("GET", "/healthz"),
    ("POST", "/sim/sweeps"),
    ("GET", "/sim/sweeps/{sweep_id}"),
    ("GET", "/sim/compare"),
]


def test_the_operations_here_are_all_of_them(client: Client) -> None:
    doc = client.get("/openapi.json").json()
    assert {(m.upper(), p) for p, item in doc["paths"].items() for m in item} == set(OPERATIONS)


@pytest.mark.parametrize(("method", "path"), OPERATIONS)
def test_every_operation_keeps_its_promises(
    method: str, path: str, app: FastAPI, make_model: MakeModel
) -> None:
    make_model(name="shop", tags=("retail",))  # something for reads to find
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    refusals = SEMANTIC_REFUSALS.get(method, []) + SEMANTIC_REFUSALS.get(f"{method} {path}", [])
    accepted = schema.config.checks.positive_data_acceptance.expected_statuses
    schema.config.checks.positive_data_acceptance = PositiveDataAcceptanceConfig(
        expected_statuses=[*accepted, *refusals]
    )
    operation = schema[path][method]

    @given(case=operation.as_strategy())
    @settings(
        max_examples=25,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    def keeps_its_promises(case: schemathesis.Case) -> None:
        case.call_and_validate()

    keeps_its_promises()
