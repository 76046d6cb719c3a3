"""The OpenAPI 3 schema describes every endpoint of API.md, and generates without warnings."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

pytestmark = pytest.mark.django_db

API_PATHS = [
    "/api/v1/auth/register/",
    "/api/v1/auth/token/",
    "/api/v1/auth/logout/",
    "/api/v1/me/",
    "/api/v1/activities/",
    "/api/v1/pain-logs/",
    "/api/v1/pain-logs/{id}/",
    "/api/v1/workouts/",
    "/api/v1/workouts/{id}/",
    "/api/v1/plan/",
    "/api/v1/escalations/",
    "/api/v1/escalations/{id}/acknowledge/",
    "/api/v1/clearances/",
    "/api/v1/invitations/",
    "/api/v1/invitations/accept/",
    "/api/v1/patients/",
    "/api/v1/patients/{patient_id}/",
    "/api/v1/patients/{patient_id}/pain-logs/",
    "/api/v1/patients/{patient_id}/workouts/",
    "/api/v1/patients/{patient_id}/plan/",
    "/api/v1/patients/{patient_id}/clearances/",
]


def test_schema_is_served_to_anyone_and_lists_every_endpoint(anon_client):
    response = anon_client.get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    missing = [path for path in API_PATHS if path not in schema["paths"]]
    assert missing == []


def test_schema_generates_and_validates_without_warnings():
    out = io.StringIO()
    call_command("spectacular", "--validate", "--fail-on-warn", stdout=out)
    assert "openapi: 3" in out.getvalue()
