"""The OpenAPI 3 schema describes every endpoint of API.md, and generates without warnings."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
from django.core.management import call_command
from jsonschema import Draft202012Validator
from rest_framework.throttling import ScopedRateThrottle

from accounts.api.views import TokenView
from recovery.engine.inputs import RULE_IDS

pytestmark = pytest.mark.django_db

# Exactly as API.md writes them (with its /api/v1 prefix), path parameters included: a client
# generated from the schema names them as the contract does.
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
    "/api/v1/patients/{id}/",
    "/api/v1/patients/{id}/pain-logs/",
    "/api/v1/patients/{id}/workouts/",
    "/api/v1/patients/{id}/plan/",
    "/api/v1/patients/{id}/clearances/",
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


# --- Real answers against the schema ------------------------------------------------------


@pytest.fixture
def schema(anon_client) -> dict:
    return anon_client.get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()


def as_json_schema(node: Any) -> Any:
    """OpenAPI 3.0's `nullable` in JSON Schema's words, so jsonschema can check a body."""
    if isinstance(node, list):
        return [as_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    converted = {key: as_json_schema(value) for key, value in node.items() if key != "nullable"}
    return {"anyOf": [converted, {"type": "null"}]} if node.get("nullable") else converted


def check(schema: dict, path: str, method: str, response) -> None:
    """The body of `response` is what the schema says `method path` answers with its status."""
    answers = schema["paths"][path][method]["responses"]
    assert str(response.status_code) in answers, f"{method} {path}: {response.status_code}"
    body_schema = answers[str(response.status_code)]["content"]["application/json"]["schema"]
    document = {"components": as_json_schema(schema["components"]), **as_json_schema(body_schema)}
    errors = [
        error.message for error in Draft202012Validator(document).iter_errors(response.json())
    ]
    assert errors == [], f"{method} {path} {response.status_code}: {errors}"


def test_every_answer_a_patient_and_a_therapist_get_is_the_one_the_schema_describes(
    schema, patient, patient_client, therapist_client, anon_client, today
):
    walk = patient_client.post(
        "/api/v1/workouts/",
        {"date": today.isoformat(), "activity": "walking", "duration_min": 30, "rpe": 3},
        format="json",
    )
    pain = patient_client.post(
        "/api/v1/pain-logs/",
        {"date": today.isoformat(), "score": 4, "region": "lower_back", "character": "ache",
         "onset": "unrelated", "red_flags": ["night_pain"]},
        format="json",
    )  # fmt: skip
    check(schema, "/api/v1/workouts/", "post", walk)
    check(schema, "/api/v1/pain-logs/", "post", pain)
    entry = f"/api/v1/pain-logs/{pain.json()['id']}/"
    patient_reads = {
        "/api/v1/me/": "/api/v1/me/",
        "/api/v1/plan/": "/api/v1/plan/",
        "/api/v1/pain-logs/": "/api/v1/pain-logs/",
        "/api/v1/pain-logs/{id}/": entry,
        "/api/v1/workouts/": "/api/v1/workouts/",
        "/api/v1/escalations/": "/api/v1/escalations/",
        "/api/v1/activities/": "/api/v1/activities/",
    }
    for template, url in patient_reads.items():
        check(schema, template, "get", patient_client.get(url))
    base = f"/api/v1/patients/{patient.id}"
    therapist_reads = {
        "/api/v1/patients/": "/api/v1/patients/",
        "/api/v1/patients/{id}/": f"{base}/",
        "/api/v1/patients/{id}/plan/": f"{base}/plan/",
        "/api/v1/patients/{id}/pain-logs/": f"{base}/pain-logs/",
        "/api/v1/patients/{id}/overrides/": f"{base}/overrides/",
    }
    for template, url in therapist_reads.items():
        check(schema, template, "get", therapist_client.get(url))
    cleared = therapist_client.post(
        f"{base}/clearances/", {"cleared_on": today.isoformat()}, format="json"
    )
    check(schema, "/api/v1/patients/{id}/clearances/", "post", cleared)
    # The errors, each in the body the schema gives it.
    bad = [
        ("/api/v1/pain-logs/", "post", patient_client.post(
            "/api/v1/pain-logs/", {"score": 11, "red_flags": [["x"]]}, format="json")),
        ("/api/v1/pain-logs/", "post", patient_client.post(
            "/api/v1/pain-logs/", "{not json", content_type="application/json")),
        ("/api/v1/pain-logs/", "post", patient_client.post(
            "/api/v1/pain-logs/", "score=3", content_type="application/x-www-form-urlencoded")),
        ("/api/v1/me/", "get", anon_client.get("/api/v1/me/")),
        ("/api/v1/plan/", "get", therapist_client.get("/api/v1/plan/")),
        ("/api/v1/plan/", "get", patient_client.get("/api/v1/plan/?date=2999-01-01")),
        ("/api/v1/pain-logs/{id}/", "get", therapist_client.get(entry)),
        ("/api/v1/patients/{id}/", "get", therapist_client.get("/api/v1/patients/0/")),
        ("/api/v1/auth/token/", "post", anon_client.post(
            "/api/v1/auth/token/", {"email": patient.email, "password": "wrong"}, format="json")),
        ("/api/v1/care-links/", "get", patient_client.get("/api/v1/care-links/?page=0")),
        ("/api/v1/pain-logs/", "get", patient_client.get("/api/v1/pain-logs/?page_size=0")),
    ]  # fmt: skip
    assert [response.status_code for *_, response in bad] == [
        400,
        400,
        415,
        401,
        403,
        400,
        403,
        404,
        401,
        400,
        400,
    ]
    for template, method, response in bad:
        check(schema, template, method, response)


def test_reminder_time_is_documented_as_the_hh_mm_the_api_takes(schema, patient_client):
    field = schema["components"]["schemas"]["PatchedMeRequest"]["properties"]["reminder_time"]
    pattern = re.compile(field["pattern"])
    assert patient_client.patch("/api/v1/me/", {"reminder_time": "07:30"}).status_code == 200
    assert pattern.search("07:30")
    assert patient_client.patch("/api/v1/me/", {"reminder_time": "07:30:00"}).status_code == 400
    assert not pattern.search("07:30:00")


def test_enums_are_the_exact_strings_of_api_md(schema):
    components = schema["components"]["schemas"]
    assert components["PhaseEnum"]["enum"] == ["active", "rest", "return", "medical_review"]
    assert components["LevelEnum"]["enum"] == [
        "info", "attention", "see_doctor", "urgent", "emergency"
    ]  # fmt: skip
    assert components["EscalationLevelEnum"]["enum"] == ["none", *components["LevelEnum"]["enum"]]
    assert set(components["RuleEnum"]["enum"]) == RULE_IDS
    plan = components["Plan"]["properties"]
    assert plan["allowed_categories"]["items"] == {"$ref": "#/components/schemas/CategoryEnum"}
    assert components["PatientDetail"]["properties"]["plan"]["allOf"] == [
        {"$ref": "#/components/schemas/Plan"}
    ]


def test_request_bodies_refuse_unknown_fields_and_response_bodies_carry_every_field(schema):
    components = schema["components"]["schemas"]
    assert components["PainEntryRequest"]["additionalProperties"] is False
    assert set(components["PainEntry"]["required"]) == set(components["PainEntry"]["properties"])
    # No developer note leaks into the descriptions clients read.
    assert all("misspelt" not in c.get("description", "") for c in components.values())


def request_errors(schema: dict, component: str, body: dict) -> list[str]:
    """What the schema finds wrong with `body` as the request component `component`."""
    document = {
        "components": as_json_schema(schema["components"]),
        **as_json_schema(schema["components"]["schemas"][component]),
    }
    return [error.message for error in Draft202012Validator(document).iter_errors(body)]


@pytest.mark.parametrize(
    ("body", "accepted"),
    [
        ({"rest_min_days": 5, "weekly_increase": 0.15}, True),
        ({"stage_days": None}, True),
        ({"rest_min_days": 2}, False),  # below its bound
        ({"weekly_increase": 0.3}, False),
        ({"rest_min_days": "5"}, False),
        ({"no_such_value": 1}, False),
    ],
)
def test_the_overrides_body_is_documented_as_the_api_takes_it(
    schema, patient, therapist_client, body, accepted
):
    response = therapist_client.patch(
        f"/api/v1/patients/{patient.id}/overrides/", body, format="json"
    )

    assert response.status_code == (200 if accepted else 400), response.content
    assert (request_errors(schema, "PatchedOverrideValuesRequest", body) == []) is accepted


@pytest.mark.parametrize(("name", "accepted"), [("Ann Lee", True), ("Ann\tLee", False)])
def test_a_registered_name_is_documented_as_one_line(schema, anon_client, name, accepted):
    body = {"email": "new@example.test", "password": "Long-pass-123!", "name": name,
            "timezone": "UTC"}  # fmt: skip
    response = anon_client.post("/api/v1/auth/register/", body, format="json")

    assert response.status_code == (201 if accepted else 400), response.content
    assert (request_errors(schema, "RegisterRequest", body) == []) is accepted


def test_pagination_parameters_are_documented_from_1(schema):
    parameters = schema["paths"]["/api/v1/pain-logs/"]["get"]["parameters"]
    paging = {p["name"]: p["schema"] for p in parameters if p["name"] in ("page", "page_size")}
    assert paging == {
        "page": {"type": "integer", "minimum": 1},
        "page_size": {"type": "integer", "minimum": 1},
    }


PLAN_FIELDS = {
    "date", "phase", "stage", "day_in_phase", "day_in_stage", "episode", "allowed_categories",
    "max_rpe", "weekly_load_cap", "acwr", "escalation_level", "clearance_required", "advice",
    "reasons",
}  # fmt: skip
PATIENT_FIELDS = {"id", "name", "email", "phase", "stage", "escalation_level", "last_log_date"}


def test_plan_and_patient_bodies_carry_every_field_api_md_names(
    patient, patient_client, therapist_client, today
):
    body = {"date": today.isoformat(), "score": 8, "region": "lower_back", "character": "sharp",
            "onset": "during_exercise"}  # fmt: skip
    assert patient_client.post("/api/v1/pain-logs/", body, format="json").status_code == 201
    detail = therapist_client.get(f"/api/v1/patients/{patient.id}/").json()
    plans = [
        patient_client.get("/api/v1/plan/").json(),
        therapist_client.get(f"/api/v1/patients/{patient.id}/plan/").json(),
        detail["plan"],
    ]

    for plan in plans:
        assert set(plan) >= PLAN_FIELDS, PLAN_FIELDS - set(plan)
        assert plan["advice"]  # a rest has both
        assert plan["reasons"]
        assert all(set(item) == {"rule", "text"} for item in plan["advice"] + plan["reasons"])
    for row in [*therapist_client.get("/api/v1/patients/").json(), detail]:
        assert set(row) >= PATIENT_FIELDS, PATIENT_FIELDS - set(row)


# --- Error answers the schema documents ---------------------------------------------------


def test_the_schema_documents_the_404_of_a_page_and_the_403_of_a_write(schema):
    paths = schema["paths"]
    # A page past the last answers 404, though the list has no id in its path.
    assert "404" in paths["/api/v1/pain-logs/"]["get"]["responses"]
    assert "404" in paths["/api/v1/escalations/"]["get"]["responses"]
    # A session write without its CSRF token answers 403, for any signed-in endpoint.
    assert "403" in paths["/api/v1/me/"]["patch"]["responses"]
    assert "403" in paths["/api/v1/auth/logout/"]["post"]["responses"]
    assert "403" not in paths["/api/v1/me/"]["get"]["responses"]


def test_the_schema_documents_the_429_of_a_rate_limited_endpoint(anon_client, monkeypatch):
    # The "auth" scope's limit, whether or not this run turned the API's rate limits off.
    monkeypatch.setattr(TokenView, "throttle_classes", [ScopedRateThrottle])
    schema = anon_client.get(
        "/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json"
    ).json()

    assert "429" in schema["paths"]["/api/v1/auth/token/"]["post"]["responses"]
