"""Recording a clearance answers with what it did to the plan of its date."""

from __future__ import annotations

import datetime as dt

import pytest

from recovery.models import Clearance, PlanSnapshot

pytestmark = pytest.mark.django_db


def log(client, day: dt.date, score: int, character: str = "ache", onset: str = "unrelated",
        red_flags: tuple[str, ...] = ()) -> None:  # fmt: skip
    body = {"date": day.isoformat(), "score": score, "region": "lower_back",
            "character": character, "onset": onset, "red_flags": list(red_flags)}  # fmt: skip
    assert client.post("/api/v1/pain-logs/", body, format="json").status_code == 201


def clear(client, patient, day: dt.date) -> dict:
    body = {"cleared_on": day.isoformat(), "notes": "seen in clinic"}
    response = client.post(f"/api/v1/patients/{patient.id}/clearances/", body, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def test_a_clearance_in_medical_review_says_the_return_begins(
    patient, patient_client, therapist_client, today
) -> None:
    log(patient_client, today, 5, red_flags=("leg_numbness",))

    body = clear(therapist_client, patient, today)

    assert body["effect"]["cleared"] is True
    assert (body["effect"]["phase"], body["effect"]["stage"]) == ("return", 1)
    # The date written as the plan's sentences write it ("2 December 2026").
    assert body["effect"]["text"] == (
        f"Cleared: from {today.day} {today:%B %Y} the plan is the return to exercise, stage 1."
    )
    assert body["cleared_on"] == today.isoformat()
    assert PlanSnapshot.objects.get(patient=patient).phase == "return"


def test_a_clearance_outside_medical_review_is_stored_and_says_it_changed_nothing(
    patient, patient_client, therapist_client, today
) -> None:
    log(patient_client, today, 2)

    body = clear(therapist_client, patient, today)

    assert body["effect"]["cleared"] is False
    assert body["effect"]["phase"] == "active"
    assert "changed nothing" in body["effect"]["text"]
    assert Clearance.objects.filter(patient=patient).count() == 1  # still on record


def test_a_second_clearance_during_the_return_it_began_says_it_changed_nothing(
    patient, patient_client, therapist_client, today
) -> None:
    reviewed_on = today - dt.timedelta(days=3)
    log(patient_client, reviewed_on, 5, red_flags=("leg_numbness",))
    assert clear(therapist_client, patient, reviewed_on)["effect"]["cleared"] is True

    body = clear(therapist_client, patient, today)  # return day 4: no review left to end

    assert (body["effect"]["cleared"], body["effect"]["phase"]) == (False, "return")
    assert "changed nothing" in body["effect"]["text"]


def over_long_rest(patient_client, today: dt.date) -> dt.date:
    """Worked example 4: sharp pain on D−15, then pain 5 every day. Returns the day REST_MAX
    began the review (D−1)."""
    log(patient_client, today - dt.timedelta(days=15), 6, "sharp", "during_exercise")
    for back in range(14, 0, -1):
        log(patient_client, today - dt.timedelta(days=back), 5)
    return today - dt.timedelta(days=1)


def test_a_clearance_dated_the_day_an_over_long_rest_is_reviewed_warns_to_date_it_later(
    patient, patient_client, therapist_client, today
) -> None:
    review_day = over_long_rest(patient_client, today)

    same_day = clear(therapist_client, patient, review_day)

    assert same_day["effect"]["cleared"] is False
    assert same_day["effect"]["phase"] == "medical_review"
    assert "dated the next day" in same_day["effect"]["text"]
    assert PlanSnapshot.objects.get(patient=patient).phase == "medical_review"

    next_day = clear(therapist_client, patient, today)
    assert next_day["effect"]["cleared"] is True
    assert PlanSnapshot.objects.get(patient=patient).phase == "return"


def test_a_self_reported_clearance_answers_with_its_effect_too(
    patient, patient_client, today
) -> None:
    log(patient_client, today, 3, red_flags=("night_pain",))
    body = {"cleared_on": today.isoformat(), "clinician_name": "Dr Rivera", "notes": ""}

    response = patient_client.post("/api/v1/clearances/", body, format="json")

    assert response.status_code == 201, response.content
    assert response.json()["effect"]["cleared"] is True
    assert response.json()["clinician_name"] == "Dr Rivera"
    listed = patient_client.get("/api/v1/clearances/").json()["results"]
    assert [item["cleared_on"] for item in listed] == [today.isoformat()]
    assert "effect" not in listed[0]  # the effect belongs to the answer that recorded it


def test_a_clearance_dated_the_day_a_rest_ends_by_itself_says_it_changed_nothing(
    patient, patient_client, therapist_client, today
) -> None:
    # Worked example 3: REST_EXIT on D−1 begins the return; there is no review to end.
    log(patient_client, today - dt.timedelta(days=9), 7, "sharp", "during_exercise")
    for back, score in zip(range(8, -1, -1), [6, 6, 5, 4, 4, 3, 2, 2, 1], strict=True):
        log(patient_client, today - dt.timedelta(days=back), score)

    effect = clear(therapist_client, patient, today - dt.timedelta(days=1))["effect"]

    assert (effect["cleared"], effect["phase"], effect["stage"]) == (False, "return", 1)
    assert "changed nothing" in effect["text"]


def test_a_clearance_that_leaves_the_review_running_says_since_when(
    patient, patient_client, therapist_client, today
) -> None:
    review_day = over_long_rest(patient_client, today)

    effect = clear(therapist_client, patient, review_day)["effect"]

    assert effect["cleared"] is False
    assert f"still medical review (since {review_day.day} {review_day:%B %Y})" in effect["text"]
