"""The write path resumes from the snapshot's checkpoint, and always stores what a full replay
would: the same snapshot, the same checkpoint, the same escalations."""

from __future__ import annotations

import datetime as dt
import random

import pytest
import time_machine
from django.utils import timezone

from recovery import selectors, services
from recovery.engine import evaluate_resumable
from recovery.models import Escalation, PainEntry, PlanSnapshot, Workout
from tests.conftest import client_for

pytestmark = pytest.mark.django_db

START = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


def pain_body(day: dt.date, score: int, character: str = "ache", onset: str = "unrelated",
              red_flags: tuple[str, ...] = ()) -> dict:  # fmt: skip
    return {
        "date": day.isoformat(),
        "score": score,
        "region": "lower_back",
        "character": character,
        "onset": onset,
        "red_flags": list(red_flags),
    }


def log_daily(patient, client, clock, *, days: int, score: int) -> None:
    """One entry a day for `days` days, moving the clock to the next day after each."""
    for _ in range(days):
        body = pain_body(patient.local_today(), score)
        assert client.post("/api/v1/pain-logs/", body, format="json").status_code == 201
        clock.shift(dt.timedelta(days=1))


def assert_stored_as_a_full_replay(patient) -> None:
    """Snapshot and checkpoint as a full replay makes them; no escalation left to record."""
    today = patient.local_today()
    full = evaluate_resumable(
        selectors.patient_histories([patient.id])[patient.id],
        today,
        selectors.patient_guidelines([patient.id])[patient.id],
        checkpoint_on=today - dt.timedelta(days=1),
    )
    snapshot = PlanSnapshot.objects.get(patient=patient)
    plan = full.plan
    assert (snapshot.evaluated_for, snapshot.phase, snapshot.stage) == (
        today,
        plan.phase,
        plan.stage,
    )
    assert (snapshot.escalation_level, snapshot.clearance_required) == (
        plan.escalation_level,
        plan.clearance_required,
    )
    assert snapshot.last_log_date == plan.last_log_date
    assert snapshot.episode_start == (plan.episode.start if plan.episode else None)
    assert snapshot.checkpoint == (full.checkpoint.to_data() if full.checkpoint else None)
    before = Escalation.objects.filter(patient=patient).count()
    assert services.plans_refresh([patient])[0].new_escalations == []
    assert Escalation.objects.filter(patient=patient).count() == before


def test_six_weeks_of_saves_store_exactly_what_full_replays_store(patient, therapist) -> None:
    """Daily logs, back-filled days, edits, deletions, workouts and a clearance, in the order
    a patient and therapist might make them: every save checked against a full replay."""
    rng = random.Random(11)
    client, clinic = client_for(patient), client_for(therapist)
    with time_machine.travel(START, tick=True) as clock:
        for offset in range(42):
            today = patient.local_today()
            if offset == 3:  # sharp pain in a workout: rest, then the return
                body = pain_body(today, 8, "sharp", "during_exercise")
            elif offset == 20:  # a flare in the return
                body = pain_body(today, 6)
            elif offset == 30:  # a red flag: medical review until the clearance below
                body = pain_body(today, 5, red_flags=("leg_numbness",))
            else:
                body = pain_body(today, rng.choice((0, 1, 2, 2, 3)))
            if offset % 7 != 5:  # a day now and then left unlogged
                assert client.post("/api/v1/pain-logs/", body, format="json").status_code == 201
                assert_stored_as_a_full_replay(patient)
            if offset % 2 == 0:
                workout = {"date": today.isoformat(), "activity": rng.choice(
                    ("walking", "bridge", "running", "deadlift")),
                    "duration_min": 30, "rpe": rng.randint(2, 7)}  # fmt: skip
                assert client.post("/api/v1/workouts/", workout, format="json").status_code == 201
                assert_stored_as_a_full_replay(patient)
            if offset % 9 == 4:  # back-fill the day before yesterday: a full replay
                earlier = pain_body(today - dt.timedelta(days=2), 4)
                assert client.post("/api/v1/pain-logs/", earlier, format="json").status_code == 201
                assert_stored_as_a_full_replay(patient)
            if offset % 11 == 6:  # edit, then delete, today's first entry
                entry = PainEntry.objects.filter(patient=patient, date=today).first()
                if entry is not None:
                    url = f"/api/v1/pain-logs/{entry.id}/"
                    assert client.patch(url, {"score": 3}, format="json").status_code == 200
                    assert_stored_as_a_full_replay(patient)
                    assert client.delete(url).status_code == 204
                    assert_stored_as_a_full_replay(patient)
            if offset == 33:
                cleared = {"cleared_on": today.isoformat(), "notes": "seen in clinic"}
                url = f"/api/v1/patients/{patient.id}/clearances/"
                assert clinic.post(url, cleared, format="json").status_code == 201
                assert_stored_as_a_full_replay(patient)
            clock.shift(dt.timedelta(days=1))
    rules = set(Escalation.objects.filter(patient=patient).values_list("rule", flat=True))
    assert {"ACUTE_ONSET", "RECURRENCE", "RED_FLAG_URGENT"} <= rules


def test_editing_and_deleting_a_past_workout_store_what_full_replays_store(
    patient, patient_client
) -> None:
    today = patient.local_today()
    assert (
        patient_client.post(
            "/api/v1/pain-logs/", pain_body(today - dt.timedelta(days=3), 2), format="json"
        ).status_code
        == 201
    )
    body = {"date": (today - dt.timedelta(days=1)).isoformat(), "activity": "running",
            "duration_min": 60, "rpe": 8}  # fmt: skip
    workout = patient_client.post("/api/v1/workouts/", body, format="json").json()
    with_workout = PlanSnapshot.objects.get(patient=patient).checkpoint
    url = f"/api/v1/workouts/{workout['id']}/"

    assert patient_client.patch(url, {"rpe": 3}, format="json").status_code == 200
    assert_stored_as_a_full_replay(patient)
    assert patient_client.delete(url).status_code == 204
    assert_stored_as_a_full_replay(patient)
    assert PlanSnapshot.objects.get(patient=patient).checkpoint != with_workout


@pytest.fixture
def spied_histories(monkeypatch) -> list[dt.date | None]:
    """Every history load: None for a full replay, the checkpoint's day for a resume."""
    calls: list[dt.date | None] = []
    full, after = selectors.patient_histories, selectors.records_after

    def spy_full(patient_ids):
        calls.append(None)
        return full(patient_ids)

    def spy_after(patient_id, day):
        calls.append(day)
        return after(patient_id, day)

    monkeypatch.setattr(selectors, "patient_histories", spy_full)
    monkeypatch.setattr(selectors, "records_after", spy_after)
    return calls


def test_a_save_dated_today_loads_only_the_records_after_yesterday(
    patient, patient_client, spied_histories
) -> None:
    with time_machine.travel(START, tick=True) as clock:
        log_daily(patient, patient_client, clock, days=5, score=2)
        spied_histories.clear()
        today = patient.local_today()
        patient_client.post("/api/v1/pain-logs/", pain_body(today, 1), format="json")
        patient_client.post("/api/v1/pain-logs/", pain_body(today, 2), format="json")
    # The first save of the day resumes from the day before yesterday and keeps yesterday.
    assert spied_histories == [today - dt.timedelta(days=2), today - dt.timedelta(days=1)]
    assert (
        PlanSnapshot.objects.get(patient=patient).checkpoint["day"]
        == (today - dt.timedelta(days=1)).toordinal()
    )


def test_a_save_dated_on_or_before_the_checkpoint_replays_in_full(
    patient, patient_client, spied_histories
) -> None:
    with time_machine.travel(START, tick=True) as clock:
        log_daily(patient, patient_client, clock, days=3, score=2)
        today = patient.local_today()
        patient_client.post("/api/v1/pain-logs/", pain_body(today, 2), format="json")
        spied_histories.clear()
        # Sharp pain back-filled for yesterday, the checkpoint's own day.
        yesterday = pain_body(today - dt.timedelta(days=1), 8, "sharp", "during_exercise")
        patient_client.post("/api/v1/pain-logs/", yesterday, format="json")
        assert spied_histories == [None]
        snapshot = PlanSnapshot.objects.get(patient=patient)
        assert (snapshot.phase, snapshot.episode_start) == ("rest", today - dt.timedelta(days=1))
        assert_stored_as_a_full_replay(patient)


def test_moving_a_record_from_before_the_checkpoint_replays_in_full(
    patient, patient_client, spied_histories
) -> None:
    with time_machine.travel(START, tick=True) as clock:
        first = patient_client.post(
            "/api/v1/workouts/",
            {"date": patient.local_today().isoformat(), "activity": "running",
             "duration_min": 40, "rpe": 6},
            format="json",
        ).json()  # fmt: skip
        clock.shift(dt.timedelta(days=3))
        patient_client.post(
            "/api/v1/pain-logs/", pain_body(patient.local_today(), 2), format="json"
        )
        spied_histories.clear()
        moved = {"date": patient.local_today().isoformat()}
        response = patient_client.patch(f"/api/v1/workouts/{first['id']}/", moved, format="json")
        assert response.status_code == 200
        assert spied_histories == [None]
        assert_stored_as_a_full_replay(patient)


def test_an_override_replays_in_full_and_the_checkpoint_keeps_the_new_value(
    patient, patient_client, therapist
) -> None:
    with time_machine.travel(START, tick=True) as clock:
        onset = pain_body(patient.local_today(), 8, "sharp", "during_exercise")
        patient_client.post("/api/v1/pain-logs/", onset, format="json")
        clock.shift(dt.timedelta(days=1))
        patient_client.post(
            "/api/v1/pain-logs/", pain_body(patient.local_today(), 2), format="json"
        )
        response = client_for(therapist).patch(
            f"/api/v1/patients/{patient.id}/overrides/", {"rest_min_days": 3}, format="json"
        )
        assert response.status_code == 200
        snapshot = PlanSnapshot.objects.get(patient=patient)
        assert snapshot.checkpoint["guideline"]["rest_min_days"] == 3
        clock.shift(dt.timedelta(days=1))
        # Rest day 3 with two good days: the override lets the patient return already.
        patient_client.post(
            "/api/v1/pain-logs/", pain_body(patient.local_today(), 1), format="json"
        )
        snapshot = PlanSnapshot.objects.get(patient=patient)
        assert (snapshot.phase, snapshot.stage) == ("return", 1)
        assert_stored_as_a_full_replay(patient)


def test_a_time_zone_that_moves_today_back_replays_in_full(patient, patient_client) -> None:
    patient.timezone = "Pacific/Kiritimati"  # UTC+14
    patient.save()
    with time_machine.travel(dt.datetime(2026, 3, 2, 11, 0, tzinfo=dt.UTC), tick=True) as clock:
        log_daily(patient, patient_client, clock, days=3, score=3)
        patient.timezone = "Pacific/Pago_Pago"  # UTC−11: today is a day earlier now
        patient.save()
        checkpoint_day = PlanSnapshot.objects.get(patient=patient).checkpoint["day"]
        assert patient.local_today().toordinal() <= checkpoint_day + 1
        body = pain_body(patient.local_today(), 4)
        assert patient_client.post("/api/v1/pain-logs/", body, format="json").status_code == 201
        assert_stored_as_a_full_replay(patient)


def test_a_checkpoint_of_other_engine_code_is_replaced_by_a_full_replay(
    patient, patient_client, spied_histories
) -> None:
    with time_machine.travel(START, tick=True) as clock:
        log_daily(patient, patient_client, clock, days=2, score=2)
        snapshot = PlanSnapshot.objects.get(patient=patient)
        snapshot.checkpoint = {**snapshot.checkpoint, "engine": "an-older-engine"}
        snapshot.save()
        spied_histories.clear()
        patient_client.post(
            "/api/v1/pain-logs/", pain_body(patient.local_today(), 2), format="json"
        )
        assert spied_histories == [None]
        assert_stored_as_a_full_replay(patient)


def test_the_sweep_replays_in_full_and_mends_a_stale_checkpoint(patient, patient_client) -> None:
    from recovery import jobs

    with time_machine.travel(START, tick=True) as clock:
        log_daily(patient, patient_client, clock, days=3, score=2)
        # A record written behind the services' back (a bulk import, the shell).
        Workout.objects.create(
            patient=patient, date=patient.local_today() - dt.timedelta(days=2),
            activity_id="running", duration_min=30, rpe=5, created_at=timezone.now(),
        )  # fmt: skip
        jobs.sweep()
        assert_stored_as_a_full_replay(patient)


def test_records_after_reads_exactly_what_the_full_load_holds_after_that_day(
    patient, patient_client, therapist, today
) -> None:
    for back, flags in ((3, []), (1, ["night_pain", "leg_weakness"]), (0, [])):
        body = pain_body(today - dt.timedelta(days=back), 5, red_flags=tuple(flags))
        assert patient_client.post("/api/v1/pain-logs/", body, format="json").status_code == 201
    for back, activity in ((2, "deadlift"), (0, "walking")):
        workout = {"date": (today - dt.timedelta(days=back)).isoformat(), "activity": activity,
                   "duration_min": 45, "rpe": 6}  # fmt: skip
        assert patient_client.post("/api/v1/workouts/", workout, format="json").status_code == 201
    cleared = {"cleared_on": today.isoformat(), "notes": ""}
    url = f"/api/v1/patients/{patient.id}/clearances/"
    assert client_for(therapist).post(url, cleared, format="json").status_code == 201

    full = selectors.patient_histories([patient.id])[patient.id]
    for day in (today - dt.timedelta(days=4), today - dt.timedelta(days=2), today):
        tail = selectors.records_after(patient.id, day)
        assert sorted(tail.pain_entries, key=lambda e: e.id) == sorted(
            (e for e in full.pain_entries if e.date > day), key=lambda e: e.id
        )
        assert sorted(tail.workouts, key=lambda w: w.id) == sorted(
            (w for w in full.workouts if w.date > day), key=lambda w: w.id
        )
        assert list(tail.clearances) == [c for c in full.clearances if c.cleared_on > day]
    flagged = selectors.records_after(patient.id, today - dt.timedelta(days=2)).pain_entries
    assert {frozenset(e.red_flags) for e in flagged} == {
        frozenset({"night_pain", "leg_weakness"}),
        frozenset(),
    }


def test_moving_a_record_to_before_the_checkpoint_replays_in_full(
    patient, patient_client, spied_histories
) -> None:
    with time_machine.travel(START, tick=True) as clock:
        log_daily(patient, patient_client, clock, days=4, score=2)
        onset = pain_body(patient.local_today(), 8, "sharp", "during_exercise")
        entry = patient_client.post("/api/v1/pain-logs/", onset, format="json").json()
        spied_histories.clear()
        # Today's onset moved back three days, before the checkpoint (yesterday).
        moved = {"date": (patient.local_today() - dt.timedelta(days=3)).isoformat()}
        response = patient_client.patch(f"/api/v1/pain-logs/{entry['id']}/", moved, format="json")
        assert response.status_code == 200
        assert spied_histories == [None]
        snapshot = PlanSnapshot.objects.get(patient=patient)
        assert snapshot.episode_start == patient.local_today() - dt.timedelta(days=3)
        assert_stored_as_a_full_replay(patient)


def test_editing_the_notes_of_an_entry_now_dated_tomorrow_replays_in_full(
    patient, patient_client
) -> None:
    patient.timezone = "Pacific/Kiritimati"  # UTC+14
    patient.save()
    with time_machine.travel(dt.datetime(2026, 3, 2, 11, 0, tzinfo=dt.UTC), tick=True) as clock:
        log_daily(patient, patient_client, clock, days=2, score=3)
        latest = pain_body(patient.local_today(), 3)
        entry = patient_client.post("/api/v1/pain-logs/", latest, format="json").json()
        patient.timezone = "Pacific/Pago_Pago"  # UTC−11: today is the checkpoint's own day
        patient.save()
        checkpoint_day = PlanSnapshot.objects.get(patient=patient).checkpoint["day"]
        assert patient.local_today().toordinal() == checkpoint_day
        # The entry is dated the patient's tomorrow now; a note on it is still fine.
        response = patient_client.patch(
            f"/api/v1/pain-logs/{entry['id']}/", {"notes": "stiff morning"}, format="json"
        )
        assert response.status_code == 200
        assert_stored_as_a_full_replay(patient)
