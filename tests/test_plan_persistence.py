"""Every write re-evaluates the patient in the same transaction: snapshot and escalations."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from accounts.models import CareLink, User
from backend.exceptions import RecordGone, exception_handler
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


def log_pain(client, day: dt.date, score: int, **fields) -> dict:
    body = {
        "date": day.isoformat(),
        "score": score,
        "region": "lower_back",
        "character": fields.pop("character", "ache"),
        "onset": fields.pop("onset", "unrelated"),
        "red_flags": fields.pop("red_flags", []),
        **fields,
    }
    response = client.post("/api/v1/pain-logs/", body, format="json")
    assert response.status_code == 201, response.json()
    return response.json()


def test_acute_onset_puts_patient_in_rest_and_records_one_escalation(
    patient, patient_client, today
):
    log_pain(patient_client, today, 8, character="sharp", onset="during_exercise")

    snapshot = PlanSnapshot.objects.get(patient=patient)
    assert (snapshot.phase, snapshot.stage, snapshot.escalation_level) == (
        "rest",
        None,
        "see_doctor",
    )
    assert snapshot.episode_start == today
    assert snapshot.last_log_date == today
    rows = list(
        Escalation.objects.filter(patient=patient).values_list("rule", "level", "anchor_date")
    )
    assert rows == [("ACUTE_ONSET", "see_doctor", today)]

    plan = patient_client.get("/api/v1/plan/").json()
    assert (plan["phase"], plan["day_in_phase"], plan["max_rpe"]) == ("rest", 1, 3)
    assert "ACUTE_ONSET" in {item["rule"] for item in plan["reasons"]}
    assert "COLD_FIRST_48H" in {item["rule"] for item in plan["advice"]}


def test_red_flag_moves_to_medical_review_anchored_on_the_entry(patient, patient_client, today):
    entry = log_pain(patient_client, today, 5, red_flags=["bowel_bladder"])

    snapshot = PlanSnapshot.objects.get(patient=patient)
    assert (snapshot.phase, snapshot.escalation_level, snapshot.clearance_required) == (
        "medical_review",
        "emergency",
        True,
    )
    escalation = Escalation.objects.get(patient=patient, rule="RED_FLAG_EMERGENCY")
    assert escalation.anchor == f"entry:{entry['id']}"
    assert escalation.open_when_recorded is True


def test_saving_again_never_duplicates_an_escalation(patient, patient_client, today):
    log_pain(patient_client, today, 5, red_flags=["night_pain"])
    log_pain(patient_client, today, 2)  # another save re-evaluates the same history
    services.plans_refresh([patient])

    assert list(Escalation.objects.filter(patient=patient).values_list("rule", flat=True)) == [
        "RED_FLAG_URGENT"
    ]


def test_database_refuses_a_second_escalation_for_the_same_anchor(patient, today):
    fields = {"patient": patient, "rule": "PERSIST_3D", "level": "attention", "anchor": "date:x"}
    Escalation.objects.create(**fields, anchor_date=today, raised_on=today)
    with pytest.raises(IntegrityError), transaction.atomic():
        Escalation.objects.create(**fields, anchor_date=today, raised_on=today)


def test_the_same_anchor_raised_again_on_another_day_is_still_a_duplicate(patient, today):
    fields = {"patient": patient, "rule": "PERSIST_3D", "anchor": "date:x", "anchor_date": today}
    Escalation.objects.create(**fields, level="attention", raised_on=today)
    with pytest.raises(IntegrityError), transaction.atomic():
        Escalation.objects.create(
            **fields, level="see_doctor", raised_on=today + dt.timedelta(days=1)
        )
    Escalation.objects.create(**{**fields, "anchor": "date:y"}, level="attention", raised_on=today)
    assert Escalation.objects.filter(patient=patient).count() == 2


def _row(model, patient, today, **fields):
    """A valid row of `model` with `fields` changed, made past every validator."""
    base = {
        PainEntry: {"date": today, "score": 3, "region": "neck", "character": "ache",
                    "onset": "unrelated"},
        Workout: {"date": today, "activity_id": "running", "duration_min": 30, "rpe": 5},
        Clearance: {"cleared_on": today, "source": "self", "clinician_name": "Dr Rao"},
        GuidelineOverride: {"name": "rest_min_days", "value": 7},
        PlanSnapshot: {"evaluated_for": today, "phase": "active", "stage": None},
        Escalation: {"rule": "PERSIST_3D", "level": "attention", "anchor": "date:x",
                     "anchor_date": today, "raised_on": today},
    }[model]  # fmt: skip
    return model(patient=patient, **{**base, **fields})


BEYOND_THE_BOUNDS = [
    (PainEntry, {"score": 11}),
    (PainEntry, {"region": "foot"}),
    (PainEntry, {"notes": "x" * 2001}),
    (Workout, {"duration_min": 0}),
    (Workout, {"duration_min": 601}),
    (Workout, {"rpe": 11}),
    (Workout, {"load_kg": Decimal("-0.01")}),
    (Workout, {"load_kg": Decimal("1000.01")}),
    (Workout, {"notes": "x" * 2001}),
    (Clearance, {"clinician_name": ""}),
    (Clearance, {"source": "rumour"}),
    (GuidelineOverride, {"name": "rest_max_days", "value": 29}),
    (GuidelineOverride, {"name": "rest_min_days", "value": 2}),
    (GuidelineOverride, {"name": "max_rpe", "value": 5}),
    (PlanSnapshot, {"phase": "return", "stage": 0}),
    (PlanSnapshot, {"phase": "return", "stage": 4}),
    (PlanSnapshot, {"phase": "active", "stage": 1}),
    (Escalation, {"level": "none"}),
]
ON_THE_BOUNDS = [
    (PainEntry, {"score": 10, "notes": "x" * 2000}),
    (Workout, {"duration_min": 600, "rpe": 10, "load_kg": Decimal("1000"), "notes": "x" * 2000}),
    (Workout, {"duration_min": 1, "rpe": 0, "load_kg": Decimal("0")}),
    (Clearance, {"source": "therapist", "clinician_name": ""}),
    (GuidelineOverride, {"name": "rest_max_days", "value": 28}),
    (PlanSnapshot, {"phase": "return", "stage": 3}),
]


@pytest.mark.parametrize(("model", "fields"), BEYOND_THE_BOUNDS)
def test_the_database_refuses_a_row_beyond_the_bounds_the_api_checks(patient, today, model, fields):
    with pytest.raises(IntegrityError), transaction.atomic():
        _row(model, patient, today, **fields).save()


@pytest.mark.parametrize(("model", "fields"), ON_THE_BOUNDS)
def test_the_database_takes_a_row_on_the_bounds_the_api_checks(patient, today, model, fields):
    _row(model, patient, today, **fields).save()
    assert model.objects.filter(patient=patient).count() == 1


def test_editing_a_past_entry_re_evaluates_and_keeps_raised_escalations(
    patient, patient_client, today
):
    entry = log_pain(
        patient_client, today - dt.timedelta(days=1), 8, character="sharp", onset="during_exercise"
    )
    assert PlanSnapshot.objects.get(patient=patient).phase == "rest"

    response = patient_client.patch(
        f"/api/v1/pain-logs/{entry['id']}/", {"score": 2, "character": "ache"}, format="json"
    )
    assert response.status_code == 200
    assert PlanSnapshot.objects.get(patient=patient).phase == "active"
    # The escalation already raised stays on record.
    assert Escalation.objects.filter(patient=patient, rule="ACUTE_ONSET").count() == 1

    assert patient_client.delete(f"/api/v1/pain-logs/{entry['id']}/").status_code == 204
    snapshot = PlanSnapshot.objects.get(patient=patient)
    assert (snapshot.phase, snapshot.last_log_date) == ("active", None)
    assert Escalation.objects.filter(patient=patient, rule="ACUTE_ONSET").count() == 1


def test_a_failed_re_evaluation_stores_nothing(patient, today, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("engine failure")

    monkeypatch.setattr(services, "evaluate_resumable", broken)
    with pytest.raises(RuntimeError):
        services.pain_entry_create(
            patient=patient,
            date=today,
            score=8,
            region="neck",
            character="sharp",
            onset="during_exercise",
        )
    assert PainEntry.objects.filter(patient=patient).count() == 0


def test_workouts_feed_the_plan_loads(patient, patient_client, today):
    for days_ago in (2, 1, 0):
        response = patient_client.post(
            "/api/v1/workouts/",
            {"date": (today - dt.timedelta(days=days_ago)).isoformat(), "activity": "running",
             "duration_min": 30, "rpe": 6},
            format="json",
        )  # fmt: skip
        assert response.status_code == 201, response.json()
    plan = patient_client.get("/api/v1/plan/").json()
    assert plan["acwr"] is not None
    assert plan["acute_load"] > 0
    assert Activity.objects.get(slug="running").category == "high_impact"


def test_a_workout_answers_its_session_load_as_rpe_times_minutes(patient_client, today):
    body = {"date": today.isoformat(), "activity": "running", "duration_min": 40, "rpe": 6}
    response = patient_client.post("/api/v1/workouts/", body, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["session_load"] == 240


def test_plan_for_a_past_date_replays_the_history(patient, patient_client, today):
    three_days_ago = today - dt.timedelta(days=3)
    log_pain(patient_client, three_days_ago, 8, character="sharp", onset="during_exercise")

    then = patient_client.get(f"/api/v1/plan/?date={three_days_ago.isoformat()}").json()
    before = patient_client.get(
        f"/api/v1/plan/?date={(three_days_ago - dt.timedelta(days=1)).isoformat()}"
    ).json()
    now = patient_client.get("/api/v1/plan/").json()

    assert (then["phase"], then["day_in_phase"]) == ("rest", 1)
    assert (before["phase"], before["day_in_phase"]) == ("active", None)
    assert (now["phase"], now["day_in_phase"]) == ("rest", 4)
    assert "HEAT_OR_COLD" in {item["rule"] for item in now["advice"]}


def test_therapist_clearance_returns_patient_from_medical_review(patient, therapist, today):
    patient_client = client_for(patient)
    log_pain(patient_client, today, 4, red_flags=["leg_weakness"])
    assert PlanSnapshot.objects.get(patient=patient).phase == "medical_review"

    response = client_for(therapist).post(
        f"/api/v1/patients/{patient.id}/clearances/",
        {"cleared_on": today.isoformat()},
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert response.json()["source"] == "therapist"
    snapshot = PlanSnapshot.objects.get(patient=patient)
    assert (snapshot.phase, snapshot.stage, snapshot.clearance_required) == ("return", 1, False)


def test_self_reported_clearance_names_the_clinician(patient, patient_client, today):
    log_pain(patient_client, today, 4, red_flags=["leg_numbness"])
    response = patient_client.post(
        "/api/v1/clearances/",
        {"cleared_on": today.isoformat(), "clinician_name": "Dr Rao"},
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert (response.json()["source"], response.json()["clinician_name"]) == ("self", "Dr Rao")
    assert PlanSnapshot.objects.get(patient=patient).phase == "return"


def test_the_clearance_service_names_the_clinician_as_the_rules_say(patient, therapist, today):
    # Called directly, as the serializers do not stand in front of it: a blank name is the
    # patient's error, not the database's; a therapist is always the clinician.
    with pytest.raises(ValidationError) as refused:
        services.clearance_record(patient=patient, cleared_on=today, clinician_name="   ")
    assert "clinician_name" in refused.value.message_dict
    assert not Clearance.objects.exists()

    own = services.clearance_record(patient=patient, cleared_on=today, clinician_name=" Dr Rao ")
    theirs = services.clearance_record(
        patient=patient, cleared_on=today, therapist=therapist, clinician_name="Someone Else"
    )
    stored = Clearance.objects.in_bulk([own.pk, theirs.pk])
    assert (stored[own.pk].source, stored[own.pk].clinician_name) == ("self", "Dr Rao")
    assert (stored[theirs.pk].source, stored[theirs.pk].clinician_name) == (
        "therapist",
        therapist.name,
    )


def test_patients_list_shows_each_patients_stored_plan(patient, therapist, therapist_client, today):
    log_pain(client_for(patient), today, 8, character="sharp", onset="during_exercise")
    rows = therapist_client.get("/api/v1/patients/").json()  # a JSON array, as API.md gives it
    assert [
        (row["id"], row["phase"], row["stage"], row["escalation_level"], row["last_log_date"])
        for row in rows
    ] == [(patient.id, "rest", None, "see_doctor", today.isoformat())]
    detail = therapist_client.get(f"/api/v1/patients/{patient.id}/").json()
    assert detail["plan"]["phase"] == "rest"
    assert detail["plan"]["episode"]["trigger_rule"] == "ACUTE_ONSET"


def test_patient_detail_agrees_with_its_own_plan_when_the_stored_summary_lags(
    patient, therapist_client
):
    """Sixteen days after an onset, with nothing logged since and no sweep yet, the stored
    summary still says rest; the detail replays today, and all of it says medical_review."""
    onset = dt.datetime(2026, 3, 1, 9, tzinfo=dt.UTC)
    with time_machine.travel(onset, tick=False):
        log_pain(client_for(patient), onset.date(), 8, character="sharp", onset="during_exercise")
    with time_machine.travel(onset + dt.timedelta(days=16), tick=False):
        listed = therapist_client.get("/api/v1/patients/").json()
        detail = therapist_client.get(f"/api/v1/patients/{patient.id}/").json()

    assert (listed[0]["phase"], listed[0]["clearance_required"]) == ("rest", False)
    plan = detail["plan"]
    assert (plan["phase"], plan["clearance_required"]) == ("medical_review", True)
    for field in ("phase", "stage", "escalation_level", "clearance_required", "last_log_date"):
        assert detail[field] == plan[field], field


def test_override_values_are_whole_numbers_where_the_guideline_counts(patient, therapist_client):
    url = f"/api/v1/patients/{patient.id}/overrides/"
    assert therapist_client.patch(url, {"rest_min_days": 5}, format="json").status_code == 200
    rows = {row["name"]: row for row in therapist_client.get(url).json()}
    assert [rows["rest_min_days"][key] for key in ("value", "default", "minimum", "maximum")] == [
        5, 7, 3, 14
    ]  # fmt: skip
    assert all(isinstance(rows["rest_min_days"][key], int) for key in ("value", "default"))
    assert (rows["weekly_increase"]["value"], rows["weekly_increase"]["minimum"]) == (0.1, 0.05)
    plan = therapist_client.get(f"/api/v1/patients/{patient.id}/plan/").json()
    assert plan["overrides"] == [{"name": "rest_min_days", "value": 5, "default": 7}]
    assert isinstance(plan["overrides"][0]["value"], int)


def test_acknowledging_is_per_therapist(patient, therapist, other_therapist, today):
    from accounts.models import CareLink

    CareLink.objects.create(therapist=other_therapist, patient=patient)
    log_pain(client_for(patient), today, 5, red_flags=["night_pain"])
    escalation = Escalation.objects.get(patient=patient)

    response = client_for(therapist).post(f"/api/v1/escalations/{escalation.id}/acknowledge/")
    assert response.status_code == 200
    assert response.json()["acknowledged_at"] is not None

    theirs = client_for(other_therapist).get("/api/v1/escalations/").json()["results"]
    assert [row["acknowledged_at"] for row in theirs] == [None]
    mine = client_for(therapist).get("/api/v1/escalations/").json()["results"]
    assert mine[0]["acknowledged_at"] is not None
    seen_by_patient = client_for(patient).get("/api/v1/escalations/").json()["results"]
    assert seen_by_patient[0]["acknowledged_at"] == mine[0]["acknowledged_at"]


def test_overrides_change_the_plan_and_record_who_set_them(
    patient, therapist, therapist_client, today
):
    response = therapist_client.patch(
        f"/api/v1/patients/{patient.id}/overrides/", {"rest_min_days": 5}, format="json"
    )
    assert response.status_code == 200, response.json()
    row = next(item for item in response.json() if item["name"] == "rest_min_days")
    assert (row["value"], row["default"], row["set_by"]) == (5, 7, str(therapist))
    assert row["set_at"] is not None

    plan = therapist_client.get(f"/api/v1/patients/{patient.id}/plan/").json()
    assert {"name": "rest_min_days", "value": 5, "default": 7} in plan["overrides"]

    response = therapist_client.patch(
        f"/api/v1/patients/{patient.id}/overrides/", {"rest_min_days": None}, format="json"
    )
    assert response.status_code == 200
    assert therapist_client.get(f"/api/v1/patients/{patient.id}/plan/").json()["overrides"] == []


def test_changing_an_override_records_who_changed_it_and_when(
    patient, therapist, other_therapist, today
):
    CareLink.objects.create(therapist=other_therapist, patient=patient)
    url = f"/api/v1/patients/{patient.id}/overrides/"
    with time_machine.travel(dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC), tick=False):
        assert (
            client_for(therapist).patch(url, {"rest_min_days": 5}, format="json").status_code == 200
        )
    later = dt.datetime(2026, 3, 5, 9, 0, tzinfo=dt.UTC)
    with time_machine.travel(later, tick=False):
        response = client_for(other_therapist).patch(url, {"rest_min_days": 6}, format="json")
    assert response.status_code == 200, response.json()
    row = GuidelineOverride.objects.get(patient=patient, name="rest_min_days")
    assert (row.value, row.set_by, row.set_at) == (6, other_therapist, later)


def test_editing_a_record_another_request_deleted_meanwhile_is_a_404(patient, today):
    entry = services.pain_entry_create(
        patient=patient, date=today, score=3, region="neck", character="ache", onset="unrelated"
    )
    loaded_early = PainEntry.objects.get(pk=entry.pk)
    services.pain_entry_delete(entry=entry)
    with pytest.raises(RecordGone):
        services.pain_entry_update(entry=loaded_early, score=5)
    with pytest.raises(RecordGone):
        services.pain_entry_delete(entry=loaded_early)
    assert not PainEntry.objects.exists()
    assert PlanSnapshot.objects.get(patient=patient).last_log_date is None


def test_editing_a_record_moved_to_another_patient_meanwhile_is_a_404(
    patient, other_patient, today
):
    entry = services.pain_entry_create(
        patient=patient, date=today, score=3, region="neck", character="ache", onset="unrelated"
    )
    loaded_early = PainEntry.objects.get(pk=entry.pk)
    PainEntry.objects.filter(pk=entry.pk).update(patient=other_patient)  # moved meanwhile
    with pytest.raises(RecordGone):
        services.pain_entry_update(entry=loaded_early, score=5)
    with pytest.raises(RecordGone):
        services.pain_entry_delete(entry=loaded_early)
    stored = PainEntry.objects.get(pk=entry.pk)
    assert (stored.patient_id, stored.score) == (other_patient.id, 3)


def test_overrides_stored_behind_the_services_back_that_fail_together_do_not_break_the_plan(
    patient, patient_client, therapist, today
):
    # Each row is within its bounds (the CHECK constraint passes); the pair is not.
    for name, value in (("rest_min_days", 14), ("rest_max_days", 7)):
        GuidelineOverride.objects.create(patient=patient, name=name, value=value, set_by=therapist)

    log_pain(patient_client, today, 8, character="sharp", onset="during_exercise")
    plan = patient_client.get("/api/v1/plan/").json()

    assert plan["phase"] == "rest"
    # rest_max_days gives way to its default; rest_min_days still applies.
    assert plan["overrides"] == [{"name": "rest_min_days", "value": 14, "default": 7}]


def test_patients_list_puts_who_needs_attention_first(therapist, therapist_client, today):
    def linked(name: str):
        someone = make_user(f"{name.lower()}@example.test", name=name)
        CareLink.objects.create(therapist=therapist, patient=someone)
        return someone

    sharp = {"character": "sharp", "onset": "during_exercise"}
    logs = {
        "Zack": (today, 1, {}),  # level none, a stored plan
        "Zoe": (today, 2, {"red_flags": ["bowel_bladder"]}),  # emergency
        "Mia": (today, 8, sharp),  # see_doctor, resting
        # see_doctor too, but an over-long rest went to review: a clearance is due
        "Noah": (today - dt.timedelta(days=16), 8, sharp),
        "Bea": (today, 2, {"red_flags": ["night_pain"]}),  # urgent
    }
    for name, (day, score, fields) in logs.items():
        log_pain(client_for(linked(name)), day, score, **fields)
    linked("Aaron")  # never logged: no stored plan yet (nor has the fixtures' Alice)

    rows = therapist_client.get("/api/v1/patients/").json()

    assert [(row["name"], row["escalation_level"], row["clearance_required"]) for row in rows] == [
        ("Zoe", "emergency", True), ("Bea", "urgent", True), ("Noah", "see_doctor", True),
        ("Mia", "see_doctor", False), ("Zack", "none", False), ("Aaron", "none", False),
        ("Alice Patient", "none", False),
    ]  # fmt: skip


def test_patients_list_shows_the_stage_of_a_return(patient, therapist_client, today):
    log_pain(client_for(patient), today, 5, red_flags=["leg_numbness"])
    cleared = therapist_client.post(
        f"/api/v1/patients/{patient.id}/clearances/", {"cleared_on": today.isoformat()},
        format="json",
    )  # fmt: skip
    assert cleared.status_code == 201, cleared.content

    rows = therapist_client.get("/api/v1/patients/").json()

    assert [(row["id"], row["phase"], row["stage"]) for row in rows] == [(patient.id, "return", 1)]


def test_a_record_gone_meanwhile_answers_404_like_any_missing_row():
    response = exception_handler(RecordGone("PainEntry 7 no longer exists."), {})
    assert (response.status_code, response.data) == (404, {"detail": "Not found."})


# --- Time zone changes ---------------------------------------------------------------------

NOON_UTC = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC)  # 2 Dec in Kiritimati, 1 Dec in Pago Pago


def add_pain(patient, day: dt.date, score: int, **fields) -> PainEntry:
    return services.pain_entry_create(
        patient=patient, date=day, score=score, region="lower_back",
        character=fields.get("character", "ache"), onset=fields.get("onset", "unrelated"),
    )  # fmt: skip


@time_machine.travel(NOON_UTC, tick=False)
def test_a_save_checks_its_date_in_the_time_zone_stored_when_it_takes_the_lock():
    patient = make_user("east@example.test", tz="Pacific/Kiritimati")
    loaded_before = User.objects.get(pk=patient.pk)  # as a request loads it, before the lock
    User.objects.filter(pk=patient.pk).update(timezone="Pacific/Pago_Pago")  # committed meanwhile

    with pytest.raises(ValidationError) as refused:
        add_pain(loaded_before, dt.date(2026, 12, 2), 3)  # Kiritimati's today, Pago Pago's tomorrow
    assert "date" in refused.value.message_dict
    assert not PainEntry.objects.filter(patient=patient).exists()

    add_pain(loaded_before, dt.date(2026, 12, 1), 3)
    assert PlanSnapshot.objects.get(patient=patient).evaluated_for == dt.date(2026, 12, 1)


@time_machine.travel(NOON_UTC, tick=False)
def test_a_patient_changing_time_zone_gets_the_plan_of_their_new_today():
    patient = make_user("west@example.test", tz="Pacific/Pago_Pago")
    onset = dt.date(2026, 11, 18)  # Pago Pago's today, 1 Dec, is rest day 14
    add_pain(patient, onset, 8, character="sharp", onset="during_exercise")
    for day in range(1, 14):
        add_pain(patient, onset + dt.timedelta(days=day), 4)
    assert PlanSnapshot.objects.get(patient=patient).phase == "rest"

    response = client_for(patient).patch(
        "/api/v1/me/", {"timezone": "Pacific/Kiritimati"}, format="json"
    )

    assert response.status_code == 200, response.content
    snapshot = PlanSnapshot.objects.get(patient=patient)
    # Kiritimati's today, 2 Dec, is rest day 15: past the longest rest, so a doctor's review.
    assert snapshot.evaluated_for == dt.date(2026, 12, 2)
    assert (snapshot.phase, snapshot.clearance_required) == ("medical_review", True)


def test_a_back_filled_streak_records_the_day_it_fired_and_that_it_had_already_closed(
    patient, patient_client, today
):
    # Today is pain-free; then four days of ache 4 before it are back-filled. The last save
    # raises PERSIST_3D on D−1 (anchored on D−4), already closed by today's good day.
    log_pain(patient_client, today, 1)
    for back in (4, 3, 2, 1):
        log_pain(patient_client, today - dt.timedelta(days=back), 4)

    rows = list(
        Escalation.objects.filter(patient=patient, rule="PERSIST_3D").values_list(
            "anchor_date", "raised_on", "open_when_recorded"
        )
    )
    assert rows == [(today - dt.timedelta(days=4), today - dt.timedelta(days=1), False)]
    assert PlanSnapshot.objects.get(patient=patient).escalation_level == "none"


# --- Recorded order --------------------------------------------------------------------

RECORD_CREATES = {
    "pain entry": lambda patient, day, therapist: add_pain(patient, day, 3),
    "workout": lambda patient, day, therapist: services.workout_create(
        patient=patient,
        date=day,
        activity=Activity.objects.get(slug="walking"),
        duration_min=30,
        rpe=3,
    ),
    "clearance": lambda patient, day, therapist: services.clearance_record(
        patient=patient, cleared_on=day, therapist=therapist
    ),
}


@pytest.mark.parametrize("create", RECORD_CREATES.values(), ids=RECORD_CREATES.keys())
def test_a_new_record_is_recorded_when_its_save_takes_the_patients_lock(
    patient, therapist, monkeypatch, create
):
    # created_at orders a day's records for the replay: a save that waited for the lock
    # while another committed comes after it (test_concurrency shows it on PostgreSQL).
    locked_at = NOON_UTC + dt.timedelta(minutes=5)
    lock_patients = services.lock_patients

    def lock_later(*args, **kwargs):
        traveller.move_to(locked_at)  # the row was built at noon; the lock comes 5 minutes on
        return lock_patients(*args, **kwargs)

    monkeypatch.setattr(services, "lock_patients", lock_later)
    with time_machine.travel(NOON_UTC, tick=False) as traveller:
        record = create(patient, NOON_UTC.date(), therapist)
    record.refresh_from_db()
    assert record.created_at == locked_at


def _cleared_this_morning(patient, patient_client, therapist, today) -> dict:
    """Yesterday's red flag, this morning's plain entry, then a therapist's clearance today."""
    log_pain(patient_client, today - dt.timedelta(days=1), 4, red_flags=["night_pain"])
    entry = log_pain(patient_client, today, 3)
    services.clearance_record(patient=patient, cleared_on=today, therapist=therapist)
    assert PlanSnapshot.objects.get(patient=patient).phase == "return"
    return entry


@pytest.mark.parametrize(
    ("edit", "phase"),
    [
        ({"red_flags": ["leg_weakness"]}, "medical_review"),  # reported after the clearance
        ({"score": 9, "character": "sharp"}, "medical_review"),  # an emergency, reported now
        ({"notes": "after the school run"}, "return"),  # the report itself is unchanged
        ({"region": "neck"}, "return"),
    ],
)
def test_an_edit_that_changes_the_report_records_the_entry_anew(
    patient, patient_client, therapist, today, edit, phase
):
    entry = _cleared_this_morning(patient, patient_client, therapist, today)
    recorded_at = PainEntry.objects.get(pk=entry["id"]).created_at

    response = patient_client.patch(f"/api/v1/pain-logs/{entry['id']}/", edit, format="json")

    assert response.status_code == 200, response.content
    assert PlanSnapshot.objects.get(patient=patient).phase == phase
    moved = PainEntry.objects.get(pk=entry["id"]).created_at > recorded_at
    assert moved is (phase == "medical_review")
