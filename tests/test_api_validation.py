"""Bad input answers 400 naming the bad field, and stores nothing.

Covers API.md's validation list field by field, the patient's local "today" at both ends of
the world's time zones, query parameters, account and override inputs, and a sweep of
garbage bodies that must never produce a 500.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
import time_machine
from django.core.cache import cache
from django.db import DataError, IntegrityError
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from accounts.models import CareLink, Invitation, User
from backend.exceptions import RecordGone
from recovery import services
from recovery.models import (
    Activity,
    Clearance,
    Escalation,
    GuidelineOverride,
    PainEntry,
    PlanSnapshot,
    Workout,
)
from tests.conftest import client_for, make_user

pytestmark = pytest.mark.django_db

API = "/api/v1"
MISSING = object()  # a field left out of the body
STORED_MODELS = (PainEntry, Workout, Clearance, GuidelineOverride, Escalation, PlanSnapshot, User)

# 10:30 UTC on 10 March 2026 is already 11 March on Kiritimati (UTC+14) and still
# 9 March in Pago Pago (UTC−11): three different "todays".
NOW = dt.datetime(2026, 3, 10, 10, 30, tzinfo=dt.UTC)
KIRITIMATI_TODAY = dt.date(2026, 3, 11)
PAGO_PAGO_TODAY = dt.date(2026, 3, 9)


def short(value: Any) -> str:
    """A readable test id for a parametrized value."""
    if value is MISSING:
        return "MISSING"
    return value if isinstance(value, str) and value.isidentifier() else repr(value)[:24]


def stored_rows() -> dict[str, list[dict]]:
    return {model.__name__: list(model.objects.order_by("pk").values()) for model in STORED_MODELS}


def with_field(body: dict[str, Any], field: str, value: Any) -> dict[str, Any]:
    changed = dict(body)
    if value is MISSING:
        changed.pop(field, None)
    else:
        changed[field] = value
    return changed


def assert_rejected(response, field: str) -> None:
    assert response.status_code == 400, response.content
    body = response.json()
    assert field in body, f"{field!r} not named in {body}"


def pain_body(day: dt.date) -> dict[str, Any]:
    return {
        "date": day.isoformat(),
        "score": 4,
        "region": "lower_back",
        "character": "ache",
        "onset": "unrelated",
        "red_flags": [],
        "notes": "",
    }


def workout_body(day: dt.date) -> dict[str, Any]:
    return {
        "date": day.isoformat(),
        "activity": "walking",
        "duration_min": 30,
        "rpe": 3,
        "load_kg": None,
        "notes": "",
    }


@pytest.fixture
def pain(patient, today) -> PainEntry:
    return PainEntry.objects.create(
        patient=patient,
        date=today,
        score=3,
        region="neck",
        character="ache",
        onset="delayed",
        notes="ok",
    )


@pytest.fixture
def session(patient, today) -> Workout:
    return Workout.objects.create(
        patient=patient,
        date=today,
        activity=Activity.objects.get(slug="cycling"),
        duration_min=40,
        rpe=4,
        load_kg=12,
        notes="ok",
    )


# --- Pain entries --------------------------------------------------------------------------

BAD_PAIN_FIELDS = [
    ("score", -1),
    ("score", 11),
    ("score", 5.5),
    ("score", 5.0),
    ("score", "5"),
    ("score", True),
    ("score", None),
    ("score", MISSING),
    ("date", "2026-02-30"),
    ("date", "10/03/2026"),
    ("date", "20260310"),  # ISO 8601 too, but API.md's dates are YYYY-MM-DD
    ("date", "2026-3-10"),
    ("date", "2026-W11-2"),
    ("date", "\u0662\u0660\u0662\u0666-\u0660\u0663-\u0661\u0660"),  # Arabic-Indic digits
    ("date", "2026-03-10T08:00:00Z"),
    ("date", ""),
    ("date", None),
    ("date", 20260310),
    ("date", MISSING),
    ("region", "lower-back"),
    ("region", "LOWER_BACK"),
    ("region", "knee"),
    ("region", MISSING),
    ("character", "burning"),
    ("character", ""),
    ("character", MISSING),
    ("onset", "sometimes"),
    ("onset", None),
    ("onset", MISSING),
    ("red_flags", ["night_pain", "headache"]),
    ("red_flags", ["NIGHT_PAIN"]),
    ("red_flags", "night_pain"),
    ("red_flags", 1),
    ("red_flags", {"night_pain": False}),  # an object, whose keys would read as flags
    ("red_flags", None),
    ("notes", "x" * 2001),
    ("notes", None),
    ("notes", ["a list"]),
    ("notes", 5),  # a string only: DRF would store "5"
    ("notes", True),
    ("notes", "nul \x00 byte"),
    ("scroe", 5),
    ("id", 123),
    ("created_at", "2026-01-01T00:00:00Z"),
    ("updated_at", "2026-01-01T00:00:00Z"),
    ("patient", 1),
]


@pytest.mark.parametrize(("field", "value"), BAD_PAIN_FIELDS, ids=short)
def test_bad_pain_entry_is_refused_naming_the_field(patient_client, today, field, value):
    before = stored_rows()

    response = patient_client.post(
        f"{API}/pain-logs/", with_field(pain_body(today), field, value), format="json"
    )

    assert_rejected(response, field)
    assert stored_rows() == before


@pytest.mark.parametrize(("field", "value"), [
    (field, value) for field, value in BAD_PAIN_FIELDS if value is not MISSING
], ids=short)  # fmt: skip
def test_bad_pain_patch_leaves_the_entry_unchanged(patient_client, pain, field, value):
    before = stored_rows()

    response = patient_client.patch(f"{API}/pain-logs/{pain.id}/", {field: value}, format="json")

    assert_rejected(response, field)
    assert stored_rows() == before


@pytest.mark.parametrize(("field", "value"), [
    ("score", 0),
    ("score", 10),
    ("notes", "x" * 2000),
    ("notes", "é" * 2000),
    ("red_flags", ["leg_numbness", "night_pain"]),
    ("region", "neck"),
])  # fmt: skip
def test_pain_entry_boundaries_are_accepted(patient_client, today, field, value):
    response = patient_client.post(
        f"{API}/pain-logs/", with_field(pain_body(today), field, value), format="json"
    )

    assert response.status_code == 201, response.content
    stored = PainEntry.objects.get(id=response.json()["id"])
    assert getattr(stored, field) == value


def test_an_edit_can_clear_an_entrys_red_flags(patient, patient_client, today):
    body = with_field(pain_body(today), "red_flags", ["night_pain"])
    entry = patient_client.post(f"{API}/pain-logs/", body, format="json").json()
    assert PlanSnapshot.objects.get(patient=patient).phase == "medical_review"

    response = patient_client.patch(
        f"{API}/pain-logs/{entry['id']}/", {"red_flags": []}, format="json"
    )

    assert response.status_code == 200, response.content
    assert response.json()["red_flags"] == []
    assert PainEntry.objects.get(id=entry["id"]).red_flags == []
    assert PlanSnapshot.objects.get(patient=patient).phase != "medical_review"


# --- Workouts ------------------------------------------------------------------------------

BAD_WORKOUT_FIELDS = [
    ("duration_min", 0),
    ("duration_min", 601),
    ("duration_min", 30.5),
    ("duration_min", "30"),
    ("duration_min", True),
    ("duration_min", None),
    ("duration_min", MISSING),
    ("rpe", -1),
    ("rpe", 11),
    ("rpe", 2.5),
    ("rpe", "3"),
    ("rpe", MISSING),
    ("load_kg", -1),
    ("load_kg", -0.01),
    ("load_kg", 1000.01),
    ("load_kg", 10**30),
    ("load_kg", "heavy"),
    ("load_kg", "10"),  # a number only, as score and rpe
    ("load_kg", True),
    ("load_kg", 1.005),
    ("activity", "moonwalking"),
    ("activity", "WALKING"),
    ("activity", ""),
    ("activity", None),
    ("activity", {"slug": "walking"}),
    ("activity", "walk\x00ing"),  # PostgreSQL cannot even compare a text with a NUL in it
    ("activity", MISSING),
    ("date", "2026-02-30"),
    ("date", MISSING),
    ("notes", "x" * 2001),
    ("weight", 5),
    ("id", 1),
    ("session_load", 90),
    ("created_at", "2026-01-01T00:00:00Z"),
]


@pytest.mark.parametrize(("field", "value"), BAD_WORKOUT_FIELDS, ids=short)
def test_bad_workout_is_refused_naming_the_field(patient_client, today, field, value):
    before = stored_rows()

    response = patient_client.post(
        f"{API}/workouts/", with_field(workout_body(today), field, value), format="json"
    )

    assert_rejected(response, field)
    assert stored_rows() == before


@pytest.mark.parametrize(("field", "value"), [
    (field, value) for field, value in BAD_WORKOUT_FIELDS if value is not MISSING
], ids=short)  # fmt: skip
def test_bad_workout_patch_leaves_the_workout_unchanged(patient_client, session, field, value):
    before = stored_rows()

    response = patient_client.patch(f"{API}/workouts/{session.id}/", {field: value}, format="json")

    assert_rejected(response, field)
    assert stored_rows() == before


@pytest.mark.parametrize(("field", "value", "stored"), [
    ("duration_min", 1, 1),
    ("duration_min", 600, 600),
    ("rpe", 0, 0),
    ("rpe", 10, 10),
    ("load_kg", 0, 0),
    ("load_kg", 1000, 1000),
    ("load_kg", 999.99, pytest.approx(999.99)),
    ("load_kg", None, None),
    ("notes", "x" * 2000, "x" * 2000),
])  # fmt: skip
def test_workout_boundaries_are_accepted(patient_client, today, field, value, stored):
    response = patient_client.post(
        f"{API}/workouts/", with_field(workout_body(today), field, value), format="json"
    )

    assert response.status_code == 201, response.content
    value_stored = getattr(Workout.objects.get(id=response.json()["id"]), field)
    if field == "load_kg" and value_stored is not None:
        value_stored = float(value_stored)
    assert value_stored == stored


# --- Dates: the patient's own calendar ------------------------------------------------------


def self_clearance_body(day: dt.date) -> dict[str, Any]:
    return {"cleared_on": day.isoformat(), "clinician_name": "Dr X"}


def therapist_clearance_body(day: dt.date) -> dict[str, Any]:
    return {"cleared_on": day.isoformat()}


DATED_ENDPOINTS = [
    # (who posts, path, body maker, date field)
    ("patient", "/pain-logs/", pain_body, "date"),
    ("patient", "/workouts/", workout_body, "date"),
    ("patient", "/clearances/", self_clearance_body, "cleared_on"),
    ("therapist", "/patients/{patient}/clearances/", therapist_clearance_body, "cleared_on"),
]


def post_dated(request, who: str, path: str, body: dict):
    user = request.getfixturevalue(who)
    patient = request.getfixturevalue("patient")
    return client_for(user).post(f"{API}{path.format(patient=patient.id)}", body, format="json")


@pytest.mark.parametrize(("who", "path", "make_body", "field"), DATED_ENDPOINTS)
@pytest.mark.parametrize(
    ("days_ago", "accepted"), [(0, True), (365, True), (366, False), (-1, False)]
)
def test_record_date_window_is_365_days_up_to_local_today(
    request, today, who, path, make_body, field, days_ago, accepted
):
    before = stored_rows()
    day = today - dt.timedelta(days=days_ago)

    response = post_dated(request, who, path, make_body(day))

    if accepted:
        assert response.status_code == 201, response.content
    else:
        assert_rejected(response, field)
        assert stored_rows() == before


@pytest.mark.parametrize("days_ago", [-1, 366])
@pytest.mark.parametrize("kind", ["pain", "workout"])
def test_patch_cannot_move_a_record_outside_the_date_window(
    patient_client, pain, session, today, days_ago, kind
):
    url = f"{API}/pain-logs/{pain.id}/" if kind == "pain" else f"{API}/workouts/{session.id}/"
    before = stored_rows()

    response = patient_client.patch(
        url, {"date": (today - dt.timedelta(days=days_ago)).isoformat()}, format="json"
    )

    assert_rejected(response, "date")
    assert stored_rows() == before


@pytest.mark.parametrize("days_ago", [-1, 366])  # dated so before a move west; or long ago
@pytest.mark.parametrize("kind", ["pain", "workout"])
def test_patch_that_leaves_the_date_alone_does_not_check_it(
    patient_client, pain, session, today, days_ago, kind
):
    record = pain if kind == "pain" else session
    type(record).objects.filter(pk=record.pk).update(date=today - dt.timedelta(days=days_ago))
    url = f"{API}/{'pain-logs' if kind == 'pain' else 'workouts'}/{record.pk}/"

    response = patient_client.patch(url, {"notes": "still sore"}, format="json")

    assert response.status_code == 200, response.content
    record.refresh_from_db()
    assert (record.notes, record.date) == ("still sore", today - dt.timedelta(days=days_ago))


@pytest.mark.parametrize(("tz", "day", "accepted"), [
    # Kiritimati is a day ahead of UTC: its today is fine, its tomorrow is not.
    ("Pacific/Kiritimati", KIRITIMATI_TODAY, True),
    ("Pacific/Kiritimati", KIRITIMATI_TODAY + dt.timedelta(days=1), False),
    ("Pacific/Kiritimati", KIRITIMATI_TODAY - dt.timedelta(days=365), True),
    ("Pacific/Kiritimati", KIRITIMATI_TODAY - dt.timedelta(days=366), False),  # UTC would allow
    # Pago Pago is a day behind: UTC's today is still its tomorrow.
    ("Pacific/Pago_Pago", PAGO_PAGO_TODAY, True),
    ("Pacific/Pago_Pago", PAGO_PAGO_TODAY + dt.timedelta(days=1), False),  # UTC would allow
    ("Pacific/Pago_Pago", PAGO_PAGO_TODAY - dt.timedelta(days=365), True),  # UTC would refuse
    ("Pacific/Pago_Pago", PAGO_PAGO_TODAY - dt.timedelta(days=366), False),
])  # fmt: skip
@pytest.mark.parametrize("kind", ["pain", "workout"])
def test_record_date_follows_the_patients_time_zone(db, tz, day, accepted, kind):
    user = make_user("far@example.test", tz=tz)
    path, body = (
        ("/pain-logs/", pain_body(day)) if kind == "pain" else ("/workouts/", workout_body(day))
    )

    with time_machine.travel(NOW, tick=False):
        response = client_for(user).post(f"{API}{path}", body, format="json")

    if accepted:
        assert response.status_code == 201, response.content
        assert response.json()["date"] == day.isoformat()
    else:
        assert_rejected(response, "date")
        assert not PainEntry.objects.exists()
        assert not Workout.objects.exists()


@pytest.mark.parametrize(("tz", "day", "accepted"), [
    ("Pacific/Kiritimati", KIRITIMATI_TODAY, True),
    ("Pacific/Kiritimati", KIRITIMATI_TODAY + dt.timedelta(days=1), False),
    ("Pacific/Pago_Pago", PAGO_PAGO_TODAY, True),
    ("Pacific/Pago_Pago", PAGO_PAGO_TODAY + dt.timedelta(days=1), False),
])  # fmt: skip
def test_plan_date_follows_the_patients_time_zone(db, tz, day, accepted):
    user = make_user("far@example.test", tz=tz)

    with time_machine.travel(NOW, tick=False):
        response = client_for(user).get(f"{API}/plan/", {"date": day.isoformat()})
        default = client_for(user).get(f"{API}/plan/")

    if accepted:
        assert response.status_code == 200, response.content
        assert response.json()["date"] == day.isoformat()
    else:
        assert_rejected(response, "date")
    assert (
        default.json()["date"]
        == (KIRITIMATI_TODAY if tz == "Pacific/Kiritimati" else PAGO_PAGO_TODAY).isoformat()
    )


@pytest.mark.parametrize(
    ("tz", "local_today"),
    [("Pacific/Kiritimati", KIRITIMATI_TODAY), ("Pacific/Pago_Pago", PAGO_PAGO_TODAY)],
)
def test_a_therapists_patient_detail_is_the_plan_of_the_patients_today(
    therapist, therapist_client, tz, local_today
):
    far = make_user("far@example.test", tz=tz)
    CareLink.objects.create(therapist=therapist, patient=far)

    with time_machine.travel(NOW, tick=False):
        response = therapist_client.get(f"{API}/patients/{far.id}/")

    assert response.status_code == 200, response.content
    assert response.json()["plan"]["date"] == local_today.isoformat()


@pytest.mark.parametrize("who", ["patient", "therapist"])
@pytest.mark.parametrize(
    "bad",
    ["tomorrow", "2026-02-30", "not-a-date", "2026-03-10T00:00", "20260310", "2026-3-10", ""],
)
def test_plan_date_after_local_today_or_malformed_is_refused(request, patient, today, who, bad):
    path = "/plan/" if who == "patient" else f"/patients/{patient.id}/plan/"
    value = (today + dt.timedelta(days=1)).isoformat() if bad == "tomorrow" else bad

    response = client_for(request.getfixturevalue(who)).get(f"{API}{path}", {"date": value})

    assert_rejected(response, "date")


# --- Query parameters ----------------------------------------------------------------------

LISTS = [
    ("patient", "/pain-logs/"),
    ("patient", "/workouts/"),
    ("patient", "/clearances/"),
    ("therapist", "/patients/{patient}/pain-logs/"),
    ("therapist", "/patients/{patient}/workouts/"),
    ("therapist", "/patients/{patient}/clearances/"),
    ("patient", "/escalations/"),
    ("therapist", "/escalations/"),
]


@pytest.mark.parametrize(("who", "path"), LISTS)
@pytest.mark.parametrize(("query", "named"), [
    ({"from": "bad"}, {"from"}),
    ({"to": "2026-13-01"}, {"to"}),
    ({"from": "2026-02-30"}, {"from"}),
    ({"from": "2026-3-1"}, {"from"}),
    ({"from": ""}, {"from"}),
    ({"from": "2026-03-10", "to": "2026-03-01"}, {"from", "to"}),
])  # fmt: skip
def test_bad_date_range_is_refused_naming_the_param(request, patient, who, path, query, named):
    client = client_for(request.getfixturevalue(who))

    response = client.get(f"{API}{path.format(patient=patient.id)}", query)

    assert response.status_code == 400, response.content
    assert named & set(response.json()), response.json()


def test_date_range_includes_both_ends(patient, patient_client, today):
    PainEntry.objects.bulk_create(
        PainEntry(patient=patient, date=today - dt.timedelta(days=i), score=i, region="neck",
                  character="ache", onset="unrelated")
        for i in range(5)
    )  # fmt: skip
    start, end = today - dt.timedelta(days=3), today - dt.timedelta(days=1)

    response = patient_client.get(
        f"{API}/pain-logs/", {"from": start.isoformat(), "to": end.isoformat()}
    )

    assert response.status_code == 200
    dates = [row["date"] for row in response.json()["results"]]
    assert dates == [(today - dt.timedelta(days=i)).isoformat() for i in (1, 2, 3)]


@pytest.mark.parametrize("who", ["patient", "therapist"])
def test_escalations_filter_by_the_day_raised_including_both_ends(request, patient, today, who):
    long_ago = today - dt.timedelta(days=10)
    Escalation.objects.bulk_create(
        Escalation(patient=patient, rule="PERSIST_3D", level="attention", anchor=f"date:{i}",
                   anchor_date=long_ago, raised_on=today - dt.timedelta(days=i))
        for i in range(5)
    )  # fmt: skip
    start, end = today - dt.timedelta(days=3), today - dt.timedelta(days=1)

    response = client_for(request.getfixturevalue(who)).get(
        f"{API}/escalations/", {"from": start.isoformat(), "to": end.isoformat()}
    )

    assert response.status_code == 200
    raised = sorted(row["raised_on"] for row in response.json()["results"])
    assert raised == [(today - dt.timedelta(days=i)).isoformat() for i in (3, 2, 1)]


@pytest.mark.parametrize("who", ["patient", "therapist"])
def test_clearances_filter_by_the_day_cleared_including_both_ends(
    request, patient, therapist, today, who
):
    Clearance.objects.bulk_create(
        Clearance(patient=patient, cleared_on=today - dt.timedelta(days=i), source="therapist",
                  therapist=therapist, clinician_name=therapist.name)
        for i in range(5)
    )  # fmt: skip
    start, end = today - dt.timedelta(days=3), today - dt.timedelta(days=1)
    path = "/clearances/" if who == "patient" else f"/patients/{patient.id}/clearances/"

    response = client_for(request.getfixturevalue(who)).get(
        f"{API}{path}", {"from": start.isoformat(), "to": end.isoformat()}
    )

    assert response.status_code == 200, response.content
    cleared = [row["cleared_on"] for row in response.json()["results"]]
    assert cleared == [(today - dt.timedelta(days=i)).isoformat() for i in (1, 2, 3)]


def test_a_range_from_and_to_the_same_day_lists_that_day(patient, patient_client, today):
    PainEntry.objects.bulk_create(
        PainEntry(patient=patient, date=today - dt.timedelta(days=i), score=i, region="neck",
                  character="ache", onset="unrelated")
        for i in range(3)
    )  # fmt: skip
    day = (today - dt.timedelta(days=1)).isoformat()

    response = patient_client.get(f"{API}/pain-logs/", {"from": day, "to": day})

    assert response.status_code == 200, response.content
    assert [row["date"] for row in response.json()["results"]] == [day]


# --- Clearances ----------------------------------------------------------------------------


@pytest.mark.parametrize(("field", "value"), [
    ("clinician_name", MISSING),
    ("clinician_name", ""),
    ("clinician_name", "   "),
    ("clinician_name", None),
    ("clinician_name", "x" * 151),
    ("clinician_name", 5),
    ("cleared_on", "tomorrow"),
    ("cleared_on", "2026-02-30"),
    ("cleared_on", MISSING),
    ("notes", "x" * 2001),
    ("source", "therapist"),
    ("therapist", 1),
    ("cleared", "2026-01-01"),
])  # fmt: skip
def test_bad_self_reported_clearance_is_refused(patient_client, today, field, value):
    body = {"cleared_on": today.isoformat(), "clinician_name": "Dr Grey", "notes": ""}
    if value == "tomorrow":
        value = (today + dt.timedelta(days=1)).isoformat()
    before = stored_rows()

    response = patient_client.post(
        f"{API}/clearances/", with_field(body, field, value), format="json"
    )

    assert_rejected(response, field)
    assert stored_rows() == before


@pytest.mark.parametrize(("field", "value"), [
    ("cleared_on", "tomorrow"),
    ("cleared_on", MISSING),
    ("clinician_name", "Someone Else"),
    ("source", "self"),
    ("notes", "x" * 2001),
])  # fmt: skip
def test_bad_therapist_clearance_is_refused(patient, therapist_client, today, field, value):
    body = {"cleared_on": today.isoformat(), "notes": ""}
    if value == "tomorrow":
        value = (today + dt.timedelta(days=1)).isoformat()
    before = stored_rows()

    response = therapist_client.post(
        f"{API}/patients/{patient.id}/clearances/", with_field(body, field, value), format="json"
    )

    assert_rejected(response, field)
    assert stored_rows() == before


def test_therapist_clearance_is_recorded_under_the_therapists_name(
    patient, therapist, therapist_client, today
):
    response = therapist_client.post(
        f"{API}/patients/{patient.id}/clearances/", {"cleared_on": today.isoformat()}, format="json"
    )

    assert response.status_code == 201, response.content
    clearance = Clearance.objects.get(id=response.json()["id"])
    assert (clearance.source, clearance.therapist, clearance.clinician_name) == (
        "therapist",
        therapist,
        "Theo Therapist",
    )


# --- Overrides -----------------------------------------------------------------------------


@pytest.mark.parametrize(("body", "field"), [
    ({"rest_min_days": 2}, "rest_min_days"),
    ({"rest_min_days": 15}, "rest_min_days"),
    ({"rest_min_days": 7.5}, "rest_min_days"),
    ({"rest_min_days": "7"}, "rest_min_days"),
    ({"rest_min_days": True}, "rest_min_days"),
    ({"stage_days": 6}, "stage_days"),
    ({"stage_days": 29}, "stage_days"),
    ({"weekly_increase": 0.3}, "weekly_increase"),
    ({"weekly_increase": 0.04}, "weekly_increase"),
    ({"rest_min_days": 10, "rest_max_days": 8}, "rest_max_days"),
    ({"max_rpe": 5}, "max_rpe"),
    ({"bogus": 1}, "bogus"),
    ({"bogus": None}, "bogus"),  # a removal of no value the guideline has
    # All or nothing: one bad value keeps the good one from being stored.
    ({"stage_days": 10, "weekly_increase": 0.3}, "weekly_increase"),
])  # fmt: skip
def test_bad_override_is_refused_and_nothing_stored(patient, therapist_client, body, field):
    before = stored_rows()

    response = therapist_client.patch(
        f"{API}/patients/{patient.id}/overrides/", body, format="json"
    )

    assert_rejected(response, field)
    assert stored_rows() == before


def test_override_below_a_stored_minimum_is_refused(patient, therapist_client):
    url = f"{API}/patients/{patient.id}/overrides/"
    assert therapist_client.patch(url, {"rest_min_days": 10}, format="json").status_code == 200
    before = stored_rows()

    response = therapist_client.patch(url, {"rest_max_days": 9}, format="json")

    assert_rejected(response, "rest_max_days")
    assert stored_rows() == before


def test_override_above_a_stored_maximum_is_refused_naming_the_value_sent(
    patient, therapist_client
):
    url = f"{API}/patients/{patient.id}/overrides/"
    assert therapist_client.patch(url, {"rest_max_days": 7}, format="json").status_code == 200
    before = stored_rows()

    response = therapist_client.patch(url, {"rest_min_days": 8}, format="json")

    assert response.status_code == 400
    assert response.json() == {
        "rest_min_days": ["rest_max_days (7) must be at least rest_min_days (8)"]
    }
    assert stored_rows() == before


def test_an_override_removed_in_the_same_body_no_longer_bounds_the_values_sent(
    patient, therapist_client
):
    url = f"{API}/patients/{patient.id}/overrides/"
    assert therapist_client.patch(url, {"rest_min_days": 10}, format="json").status_code == 200

    # Against the default rest_min_days (7) that replaces the 10, a maximum of 8 is fine.
    response = therapist_client.patch(
        url, {"rest_min_days": None, "rest_max_days": 8}, format="json"
    )

    assert response.status_code == 200, response.content
    assert list(GuidelineOverride.objects.values_list("name", "value")) == [("rest_max_days", 8)]


@pytest.mark.parametrize("raw", ["{}", "[]", '[{"stage_days": 10}]', "null", '"stage_days"'])
def test_override_body_must_be_a_non_empty_object(patient, therapist_client, raw):
    response = therapist_client.patch(
        f"{API}/patients/{patient.id}/overrides/", raw, content_type="application/json"
    )

    assert response.status_code == 400, response.content
    assert not GuidelineOverride.objects.exists()


def test_override_within_bounds_is_stored_and_null_restores_the_default(patient, therapist_client):
    url = f"{API}/patients/{patient.id}/overrides/"

    response = therapist_client.patch(
        url, {"rest_min_days": 5, "weekly_increase": 0.2}, format="json"
    )

    assert response.status_code == 200, response.content
    values = {row["name"]: row["value"] for row in response.json()}
    assert (values["rest_min_days"], values["weekly_increase"]) == (5, 0.2)
    assert therapist_client.patch(url, {"rest_min_days": None}, format="json").status_code == 200
    assert list(GuidelineOverride.objects.values_list("name", flat=True)) == ["weekly_increase"]


# --- Accounts ------------------------------------------------------------------------------


def register_body(**fields) -> dict[str, Any]:
    body = {
        "email": "new@example.test",
        "password": "quiet-Otter-42-lantern",
        "name": "New Patient",
        "timezone": "Europe/London",
    }
    return {**body, **fields}


@pytest.mark.parametrize(("field", "value"), [
    ("timezone", "Mars/Olympus_Mons"),
    ("timezone", ""),
    ("timezone", "localtime"),
    ("timezone", MISSING),
    ("email", "ALICE@Example.TEST"),  # Alice's address in other letters
    ("email", "not-an-email"),
    ("email", MISSING),
    ("password", "password"),
    ("password", "short"),
    ("password", "80923746150392"),
    ("password", "new@example.test"),
    ("password", MISSING),
    ("name", MISSING),
    ("name", ""),
    ("name", "x" * 151),
    ("name", 5),
    ("email", 5),
    ("password", 48213975603184),
    ("role", "therapist"),
    ("is_staff", True),
])  # fmt: skip
def test_bad_registration_is_refused_naming_the_field(anon_client, patient, field, value):
    before = stored_rows()

    response = anon_client.post(
        f"{API}/auth/register/", with_field(register_body(), field, value), format="json"
    )

    assert_rejected(response, field)
    assert stored_rows() == before


@pytest.mark.parametrize("refusal", [IntegrityError, DataError])
def test_a_row_the_database_refuses_is_a_400_not_a_500(patient_client, today, monkeypatch, refusal):
    # The validators should stop such a row first; if one is missing, the client still gets
    # a 4xx saying so, and the database keeps nothing.
    def refused(**fields: object) -> None:
        raise refusal("a constraint the validators did not know")

    monkeypatch.setattr(services, "pain_entry_create", refused)

    response = patient_client.post(f"{API}/pain-logs/", pain_body(today), format="json")

    assert response.status_code == 400
    assert set(response.json()) == {"detail"}
    assert not PainEntry.objects.exists()


def test_a_registration_racing_another_for_its_address_is_refused_naming_the_email(
    anon_client, monkeypatch
):
    # The other request stores the address after this one has checked it is free.
    set_password = User.set_password

    def racing(user: User, raw_password: str) -> None:
        User.objects.bulk_create([User(email=user.email, name="First")])
        set_password(user, raw_password)

    monkeypatch.setattr(User, "set_password", racing)

    response = anon_client.post(f"{API}/auth/register/", register_body(), format="json")

    assert_rejected(response, "email")
    assert list(User.objects.values_list("email", "name")) == [(register_body()["email"], "First")]


@pytest.mark.parametrize(("field", "value"), [
    ("reminder_time", "25:00"),
    ("reminder_time", "8pm"),
    ("reminder_time", "12:60"),
    ("reminder_time", ""),
    ("reminder_time", None),
    ("reminder_time", 800),
    ("timezone", "Nowhere/Town"),
    ("timezone", None),
    ("reminders_enabled", "maybe"),
    ("reminders_enabled", "yes"),  # JSON true or false only
    ("reminders_enabled", 1),
    ("reminders_enabled", None),
    ("name", 5),
    ("name", ""),
    ("email", "new@example.test"),
    ("role", "therapist"),
    ("id", 1),
    ("theme", "dark"),
])  # fmt: skip
def test_bad_me_patch_is_refused_and_changes_nothing(patient_client, field, value):
    before = stored_rows()

    response = patient_client.patch(f"{API}/me/", {field: value}, format="json")

    assert_rejected(response, field)
    assert stored_rows() == before


# --- Bodies that are not the right JSON ------------------------------------------------------


def write_endpoints(patient: User, pain: PainEntry, session: Workout) -> list[tuple[str, str, str]]:
    """(who, method, url) for every endpoint that reads a body."""
    return [
        ("patient", "post", f"{API}/pain-logs/"),
        ("patient", "patch", f"{API}/pain-logs/{pain.id}/"),
        ("patient", "post", f"{API}/workouts/"),
        ("patient", "patch", f"{API}/workouts/{session.id}/"),
        ("patient", "post", f"{API}/clearances/"),
        ("patient", "post", f"{API}/invitations/accept/"),
        ("patient", "patch", f"{API}/me/"),
        ("therapist", "post", f"{API}/patients/{patient.id}/clearances/"),
        ("therapist", "patch", f"{API}/patients/{patient.id}/overrides/"),
        ("anonymous", "post", f"{API}/auth/register/"),
        ("anonymous", "post", f"{API}/auth/token/"),
    ]


def client_of(request, who: str) -> APIClient:
    client = APIClient() if who == "anonymous" else client_for(request.getfixturevalue(who))
    client.raise_request_exception = False  # see a crash as the 500 a real client would get
    return client


@pytest.mark.parametrize("raw", [
    '{"score": 5',  # truncated
    "score=5",
    "[]",
    '[{"score": 5}]',
    "5",
    '"a string"',
    "null",
    '{"score": NaN}',
])  # fmt: skip
def test_body_that_is_not_a_json_object_is_400(request, patient, pain, session, raw):
    before = stored_rows()
    for who, method, url in write_endpoints(patient, pain, session):
        cache.clear()  # keep the auth throttle out of the way

        response = getattr(client_of(request, who), method)(
            url, raw, content_type="application/json"
        )

        assert response.status_code == 400, (method, url, response.status_code, response.content)
    assert stored_rows() == before


def _deep_object(depth: int) -> dict:
    node: dict = {}
    for _ in range(depth):
        node = {"a": node}
    return node


FIELDS_BY_PATH = {
    "pain-logs": ["date", "score", "region", "character", "onset", "red_flags", "notes"],
    "workouts": ["date", "activity", "duration_min", "rpe", "load_kg", "notes"],
    "clearances": ["cleared_on", "clinician_name", "notes"],
    "invitations": ["code"],
    "me": ["name", "timezone", "reminder_time", "reminders_enabled"],
    "overrides": ["rest_min_days", "rest_max_days", "stage_days", "weekly_increase"],
    "register": ["email", "password", "name", "timezone"],
    "token": ["email", "password"],
}


def _fields_for(url: str) -> list[str]:
    for key, fields in FIELDS_BY_PATH.items():
        if f"/{key}/" in url:
            return fields
    raise AssertionError(url)


def every_field(value: Any):
    """A body setting each of the endpoint's own fields to `value`."""
    return lambda url: json.dumps(dict.fromkeys(_fields_for(url), value))


def raw(text: str):
    return lambda url: text


GARBAGE = [
    pytest.param(every_field(10**30), id="10**30"),
    pytest.param(every_field(-(10**30)), id="-10**30"),
    pytest.param(every_field(10**400), id="10**400"),
    pytest.param(every_field(1e308), id="1e308"),
    pytest.param(raw('{"score": 1e400, "rest_min_days": 1e400, "load_kg": -1e400}'), id="1e400"),
    pytest.param(raw("1" * 5000), id="5000-digit number"),
    pytest.param(every_field(""), id="empty string"),
    pytest.param(every_field("   "), id="blank string"),
    pytest.param(every_field("💥" * 3000), id="long emoji"),
    pytest.param(every_field("x" * 100_000), id="100k characters"),
    pytest.param(every_field("ʎɐpɹnʇɐs"), id="unicode"),
    pytest.param(every_field("nul\x00"), id="NUL character"),
    pytest.param(every_field({"$gt": ""}), id="object value"),
    pytest.param(every_field([[[]]]), id="nested lists"),
    pytest.param(every_field(_deep_object(200)), id="object nested 200 deep"),
    pytest.param(every_field(True), id="true"),
    pytest.param(every_field(None), id="null"),
    pytest.param(raw(json.dumps({f"key{i}": i for i in range(2000)})), id="2000 unknown keys"),
    # Nesting deeper than Python's recursion limit: the JSON parser raises RecursionError.
    pytest.param(raw('{"a":' * 50_000 + "1" + "}" * 50_000), id="object nested 50000 deep"),
    pytest.param(raw("[" * 50_000 + "]" * 50_000), id="array nested 50000 deep"),
    # A lone surrogate is a valid JSON escape but cannot be encoded as UTF-8; an error
    # message that quotes it back cannot be rendered.
    pytest.param(every_field("\ud800"), id="lone surrogate value"),
    pytest.param(raw('{"\\ud800": 1}'), id="lone surrogate key"),
]


@pytest.mark.parametrize("make_body", GARBAGE)
def test_garbage_body_never_causes_a_server_error(request, patient, pain, session, make_body):
    failures = []
    before = stored_rows()
    for who, method, url in write_endpoints(patient, pain, session):
        cache.clear()  # keep the auth throttle out of the way
        response = getattr(client_of(request, who), method)(
            url, make_body(url), content_type="application/json"
        )
        if response.status_code >= 500:
            failures.append(f"{method.upper()} {url} → {response.status_code}")

    assert failures == [], "\n".join(failures)
    if request.node.callspec.id != "null":  # {"rest_min_days": null, ...} validly resets overrides
        assert stored_rows() == before


# --- Paths no view matches, pagination and bodiless actions ------------------------------------


@pytest.mark.parametrize("debug", [False, True], ids=["DEBUG=0", "DEBUG=1"])
@pytest.mark.parametrize(
    "path",
    ["/patients/abc/plan/", "/escalations/abc/acknowledge/", "/escalations/1/", "/no-such-thing/",
     "/no-such-thing", "/"],
)  # fmt: skip
def test_an_api_path_nothing_matches_answers_json_404(settings, therapist_client, path, debug):
    # Under DEBUG (make run's default) Django's own 404 page is HTML.
    settings.DEBUG = debug
    response = therapist_client.get(f"{API}{path}", follow=True)
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": "Not found."}


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
@pytest.mark.parametrize("signed_in", [True, False], ids=["token", "anonymous"])
def test_a_write_to_an_api_path_nothing_matches_answers_json_404(patient, method, signed_in):
    # A client that checks CSRF as browsers' requests are checked: the test client skips it.
    client = APIClient(enforce_csrf_checks=True)
    if signed_in:
        client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=patient).key}")
    for path in ("/pain-logs/abc/", "/no-such-thing/", "/"):
        response = getattr(client, method)(f"{API}{path}", {}, format="json")

        assert response.status_code == 404, (method, path)
        assert response.json() == {"detail": "Not found."}


@pytest.mark.parametrize("debug", [False, True], ids=["DEBUG=0", "DEBUG=1"])
def test_a_write_to_an_api_path_without_its_slash_is_redirected_keeping_the_method(
    request, settings, patient, pain, session, debug
):
    # A 301 would be followed with a GET (the write lost); under DEBUG Django raises (a 500).
    settings.DEBUG = debug
    before = stored_rows()
    for who, method, url in write_endpoints(patient, pain, session):
        response = getattr(client_of(request, who), method)(url.rstrip("/"), {}, format="json")

        assert (response.status_code, response.get("Location")) == (308, url), (method, url)
    assert stored_rows() == before


def test_a_client_following_the_slash_redirect_stores_the_entry_once(patient_client, today):
    response = patient_client.post(f"{API}/pain-logs", pain_body(today), format="json", follow=True)

    assert response.status_code == 201
    assert response.redirect_chain == [(f"{API}/pain-logs/", 308)]
    assert list(PainEntry.objects.values_list("date", "score")) == [
        (today, pain_body(today)["score"])
    ]


def test_a_body_over_the_size_limit_is_a_json_413_storing_nothing(settings, patient_client, today):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    body = {**pain_body(today), "notes": "x" * 20_000}

    response = patient_client.post(
        f"{API}/pain-logs/", json.dumps(body), content_type="application/json"
    )

    assert response.status_code == 413
    assert response.json() == {
        "detail": "The request body is larger than the limit of 10000 bytes."
    }
    assert not PainEntry.objects.exists()


@pytest.mark.parametrize(("path", "json_body"), [(f"{API}/me/", True), ("/", False)])
def test_a_bad_request_before_any_view_is_json_under_the_api(patient_client, path, json_body):
    response = patient_client.get(path, HTTP_HOST="not-allowed.example")  # DisallowedHost

    assert response.status_code == 400
    if json_body:
        assert response.json() == {"detail": "Bad request."}
    else:
        assert response["Content-Type"].startswith("text/html")


def test_a_web_path_nothing_matches_answers_the_html_404(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


@pytest.mark.parametrize(
    ("query", "named"),
    [({"page": "abc"}, "page"), ({"page": "0"}, "page"), ({"page": "-1"}, "page"),
     ({"page": "1.5"}, "page"), ({"page_size": "many"}, "page_size"),
     ({"page_size": "0"}, "page_size")],
)  # fmt: skip
def test_a_bad_page_or_page_size_is_400_naming_it(patient_client, query, named):
    response = patient_client.get(f"{API}/pain-logs/", query)
    assert response.status_code == 400
    assert list(response.json()) == [named]


def test_a_page_past_the_last_is_404_saying_so(patient_client):
    response = patient_client.get(f"{API}/pain-logs/", {"page": "7"})
    assert response.status_code == 404
    assert response.json()["detail"].startswith("There is no page 7")
    assert patient_client.get(f"{API}/pain-logs/", {"page": "1"}).status_code == 200
    assert patient_client.get(f"{API}/pain-logs/", {"page": "last"}).status_code == 200


@pytest.fixture
def open_escalation(patient, today) -> Escalation:
    return Escalation.objects.create(
        patient=patient, rule="PERSIST_3D", level="attention", anchor=f"date:{today}",
        anchor_date=today, raised_on=today,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("raw", "named"),
    [("{not json", "detail"), ('{"seen": true}', "seen"), ("[1, 2]", "detail")],
)
def test_acknowledge_takes_no_body(therapist_client, open_escalation, raw, named):
    url = f"{API}/escalations/{open_escalation.pk}/acknowledge/"
    response = therapist_client.post(url, raw, content_type="application/json")
    assert response.status_code == 400
    assert list(response.json()) == [named]
    assert not open_escalation.acknowledgements.exists()
    # Without a body (or with an empty object) it is recorded.
    assert therapist_client.post(url).status_code == 200
    assert therapist_client.post(url, {}, format="json").status_code == 200
    assert open_escalation.acknowledgements.count() == 1


@pytest.mark.parametrize(("raw", "named"), [("{not json", "detail"), ('{"days": 30}', "days")])
def test_invitation_and_logout_take_no_body(therapist, therapist_client, raw, named):
    invite = therapist_client.post(f"{API}/invitations/", raw, content_type="application/json")
    assert (invite.status_code, list(invite.json())) == (400, [named])
    assert not Invitation.objects.exists()

    token, _ = Token.objects.get_or_create(user=therapist)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    logout = client.post(f"{API}/auth/logout/", raw, content_type="application/json")
    assert (logout.status_code, list(logout.json())) == (400, [named])
    assert Token.objects.filter(key=token.key).exists()
    assert client.post(f"{API}/auth/logout/").status_code == 204


# --- Server errors, pagination bounds and strict dates ------------------------------------


def test_a_crash_under_the_api_is_a_json_500(patient_client, today, monkeypatch):
    # Nothing should crash; if something does, an API client still gets JSON, not HTML.
    def crash(**fields: object) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(services, "pain_entry_create", crash)
    patient_client.raise_request_exception = False

    response = patient_client.post(f"{API}/pain-logs/", pain_body(today), format="json")

    assert response.status_code == 500
    assert response.json() == {"detail": "Server error."}


def test_a_row_removed_meanwhile_is_a_404_not_a_500(patient_client, pain, monkeypatch):
    def gone(*args: object, **fields: object) -> None:
        raise RecordGone("PainEntry no longer exists.")

    for name in ("pain_entry_update", "pain_entry_delete"):
        monkeypatch.setattr(services, name, gone)
    url = f"{API}/pain-logs/{pain.id}/"

    patched = patient_client.patch(url, {"score": 1}, format="json")
    deleted = patient_client.delete(url)

    assert (patched.status_code, patched.json()) == (404, {"detail": "Not found."})
    assert (deleted.status_code, deleted.json()) == (404, {"detail": "Not found."})


def test_an_api_path_no_route_can_match_even_with_a_slash_answers_json_404(therapist_client):
    # A line break in the path: not even the catch-all API route matches it, so Django's own
    # 404 handler answers, under the API in JSON too.
    response = therapist_client.get(f"{API}/a%0Ab")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}


def test_a_web_path_without_its_slash_keeps_djangos_301(client):
    response = client.get("/accounts/login")
    assert (response.status_code, response["Location"]) == (301, "/accounts/login/")


def test_page_size_is_capped_at_500(patient, patient_client, today):
    PainEntry.objects.bulk_create(
        PainEntry(patient=patient, date=today, score=1, region="neck", character="ache",
                  onset="unrelated")
        for _ in range(501)
    )  # fmt: skip

    response = patient_client.get(f"{API}/pain-logs/", {"page_size": "1000"})

    assert response.status_code == 200
    assert (response.json()["count"], len(response.json()["results"])) == (501, 500)


@pytest.mark.parametrize("value", ["²", "١", "Ⅻ"])
@pytest.mark.parametrize("name", ["page", "page_size"])
def test_a_page_written_in_other_digits_is_400_not_500(patient_client, name, value):
    patient_client.raise_request_exception = False
    response = patient_client.get(f"{API}/pain-logs/", {name: value})
    assert response.status_code == 400
    assert list(response.json()) == [name]


def test_a_date_with_a_trailing_line_break_is_refused(patient_client, today):
    body = {**pain_body(today), "date": f"{today.isoformat()}\n"}
    response = patient_client.post(f"{API}/pain-logs/", body, format="json")
    assert_rejected(response, "date")
    assert not PainEntry.objects.exists()
