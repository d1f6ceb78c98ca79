"""The partner OpenAPI document (``/api/openapi.json``): whole, valid, and true.

schemathesis drives every operation in it, from the document alone, through Django's
test client: no input gives a 5xx, every 4xx says why in JSON, and no operation has a
schema nothing can satisfy (the snippet operations' ``const: ""`` did).
"""

from __future__ import annotations

import json

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from cms.openapi import openapi_document
from tests.cms.test_api_fuzz import send_case_and_check

DOCUMENT = openapi_document()
SCHEMA = schemathesis.openapi.from_dict(DOCUMENT)
FUZZ_SETTINGS = settings(
    max_examples=15,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def test_the_document_covers_v3_and_the_products_own_endpoints():
    paths = DOCUMENT["paths"]
    assert DOCUMENT["openapi"].startswith("3.1")
    assert "/api/changes/" in paths and "get" in paths["/api/changes/"]
    assert "post" in paths["/api/screening/{page_id}/evaluate/"]
    assert "get" in paths["/api/v2/page_preview/"]
    assert {"/api/v3/pages/", "/api/v3/pages/{page_id}/", "/api/v3/images/"} <= set(paths)
    # No operation with a parameter no value satisfies, and every scheme is complete.
    text = json.dumps(paths)
    assert '"const": ""' not in text
    for scheme in DOCUMENT["components"]["securitySchemes"].values():
        assert scheme["type"] != "http" or scheme.get("scheme")


@pytest.mark.django_db
def test_the_document_is_served_at_a_stable_url_and_v3_keeps_its_own(client):
    response = client.get("/api/openapi.json")
    assert response.status_code == 200 and response.json() == json.loads(json.dumps(DOCUMENT))
    assert "public" in response["Cache-Control"] and response["ETag"]
    assert client.get("/api/v3/openapi.json").json()["paths"]


@pytest.mark.django_db
@SCHEMA.parametrize()
@FUZZ_SETTINGS
def test_no_operation_errors(case, seed, client):
    send_case_and_check(client, case)
