"""The sweep: re-evaluates, records what only it may raise, idempotently and in batches."""

from __future__ import annotations

import datetime as dt
import io
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import OperationalError

from accounts.models import User
from recovery import jobs, services
from recovery.models import Activity, Escalation, PainEntry, PlanSnapshot
from recovery.tasks import sweep_escalations
from tests.conftest import make_user

pytestmark = pytest.mark.django_db


def add_pain(patient: User, day: dt.date, score: int, **fields) -> PainEntry:
    return services.pain_entry_create(
        patient=patient,
        date=day,
        score=score,
        region="lower_back",
        character=fields.get("character", "ache"),
        onset=fields.get("onset", "unrelated"),
        red_flags=fields.get("red_flags", ()),
    )


def rules_of(patient: User) -> list[str]:
    return sorted(Escalation.objects.filter(patient=patient).values_list("rule", flat=True))


def run_jobs() -> str:
    out = io.StringIO()
    call_command("run_jobs", stdout=out)
    return out.getvalue()


def test_missed_logs_escalation_is_raised_by_the_sweep_not_by_a_save(patient, today):
    episode_start = today - dt.timedelta(days=9)
    add_pain(patient, episode_start, 8, character="sharp", onset="during_exercise")
    add_pain(patient, today - dt.timedelta(days=7), 3)  # last logged day: D-7
    assert "MISSED_LOGS" not in rules_of(patient)

    output = run_jobs()

    assert "1 patients" in output
    missed = Escalation.objects.get(patient=patient, rule="MISSED_LOGS")
    assert (missed.level, missed.anchor_date) == ("attention", today - dt.timedelta(days=7))


def test_running_the_sweep_twice_records_nothing_new(patient, today):
    add_pain(patient, today - dt.timedelta(days=20), 8, character="sharp", onset="during_exercise")
    first = jobs.sweep()
    rows_after_first = rules_of(patient)
    second = jobs.sweep()

    assert first.escalations >= 1
    assert second.escalations == 0
    assert rules_of(patient) == rows_after_first
    # A 20-day-old rest with no exit and no entries since: REST_MAX is raised by the sweep.
    assert "REST_MAX" in rows_after_first
    assert PlanSnapshot.objects.get(patient=patient).phase == "medical_review"


def test_run_jobs_and_the_task_report_the_escalations_they_record(patient, today):
    # A 20-day-old rest with no exit: only the sweep records REST_MAX.
    add_pain(patient, today - dt.timedelta(days=20), 8, character="sharp", onset="during_exercise")
    before = Escalation.objects.count()

    output = run_jobs()

    recorded = Escalation.objects.count() - before
    assert recorded >= 1
    assert output.strip() == (
        f"Escalation sweep: 1 patients in 1 batches, {recorded} new escalations recorded."
    )
    assert sweep_escalations() == 0  # the beat task runs the same sweep: nothing new
    Escalation.objects.filter(patient=patient, rule="REST_MAX").delete()
    assert sweep_escalations() == 1


def test_backdated_history_gets_its_escalations_after_the_next_sweep(patient, today):
    # Four ache-4 days with the saves recorded out of order still form one streak.
    for days_ago in (0, 3, 1, 2):
        add_pain(patient, today - dt.timedelta(days=days_ago), 4)
    jobs.sweep()
    persist = Escalation.objects.get(patient=patient, rule="PERSIST_3D")
    assert persist.anchor_date == today - dt.timedelta(days=3)


def test_patients_with_nothing_recent_and_no_episode_are_not_swept(patient, other_patient, today):
    add_pain(patient, today, 1)
    assert jobs.sweep_candidate_ids(now=dt.datetime.now(dt.UTC)) == [patient.id]


@pytest.mark.parametrize(("days_ago", "swept"), [(1, True), (60, True), (92, True), (93, False)])
def test_a_record_in_the_last_92_days_makes_a_patient_a_candidate(patient, days_ago, swept):
    now = dt.datetime(2026, 3, 10, 12, 0, tzinfo=dt.UTC)
    with time_machine.travel(now, tick=False):
        add_pain(patient, now.date() - dt.timedelta(days=days_ago), 1)
    # Only the record: no episode open, nothing pending since a sweep.
    PlanSnapshot.objects.filter(patient=patient).update(sweep_pending=False, episode_start=None)

    assert (patient.id in jobs.sweep_candidate_ids(now=now)) is swept


def test_an_open_episode_keeps_a_patient_a_candidate_with_nothing_recent(patient, today):
    add_pain(patient, today - dt.timedelta(days=120), 8, character="sharp", onset="during_exercise")
    jobs.sweep()  # clears the pending mark the save left

    snapshot = PlanSnapshot.objects.get(patient=patient)
    assert (snapshot.phase, snapshot.sweep_pending) == ("medical_review", False)
    assert snapshot.episode_start == today - dt.timedelta(days=120)
    assert jobs.sweep_candidate_ids(now=dt.datetime.now(dt.UTC)) == [patient.id]


@pytest.mark.parametrize("kind", ["workout", "clearance"])
def test_a_workout_or_clearance_in_the_last_92_days_makes_a_patient_a_candidate(
    patient, therapist, kind
):
    now = dt.datetime(2026, 3, 10, 12, 0, tzinfo=dt.UTC)
    day = now.date() - dt.timedelta(days=92)
    with time_machine.travel(now, tick=False):
        if kind == "workout":
            services.workout_create(patient=patient, date=day, duration_min=30, rpe=3,
                                    activity=Activity.objects.get(slug="walking"))  # fmt: skip
        else:
            services.clearance_record(patient=patient, cleared_on=day, therapist=therapist)
    # Only the record: no episode open, nothing pending since a sweep.
    PlanSnapshot.objects.filter(patient=patient).update(sweep_pending=False, episode_start=None)

    assert patient.id in jobs.sweep_candidate_ids(now=now)
    assert patient.id not in jobs.sweep_candidate_ids(now=now + dt.timedelta(days=1))


def test_a_deactivated_patient_is_not_swept(patient, today):
    add_pain(patient, today, 1)
    User.objects.filter(id=patient.id).update(is_active=False)

    assert jobs.sweep_candidate_ids(now=dt.datetime.now(dt.UTC)) == []


def test_every_patient_is_swept_once_across_batches(today):
    patients = [make_user(f"batch{index}@example.test") for index in range(5)]
    for patient in patients:
        add_pain(patient, today, 2)

    result = jobs.sweep(batch_size=2)

    assert (result.patients, result.batches, result.failed) == (5, 3, ())
    assert not PlanSnapshot.objects.filter(sweep_pending=True).exists()


def test_sweep_queries_grow_with_batches_not_patients(today):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def sweep_queries(count: int) -> int:
        PainEntry.objects.all().delete()
        patients = [make_user(f"p{count}-{index}@example.test") for index in range(count)]
        for patient in patients:
            add_pain(patient, today, 4)
        with CaptureQueriesContext(connection) as captured:
            jobs.sweep(batch_size=50)
        return len(captured.captured_queries)

    assert sweep_queries(3) == sweep_queries(12)


def test_a_back_filled_past_episode_is_swept_once(patient, today):
    """Every record is older than the sweep's look-back and the episode closed long ago, yet
    the history raises MISSED_LOGS, which only the sweep records: it takes the patient once."""
    onset = today - dt.timedelta(days=200)
    add_pain(patient, onset, 7, character="sharp", onset="during_exercise")
    for days_ago in (192, 191):
        add_pain(patient, today - dt.timedelta(days=days_ago), 1)
    snapshot = PlanSnapshot.objects.get(patient=patient)
    assert (snapshot.episode_start, snapshot.sweep_pending) == (None, True)
    assert rules_of(patient) == ["ACUTE_ONSET"]

    jobs.sweep()

    missed = Escalation.objects.filter(patient=patient, rule="MISSED_LOGS").order_by("anchor_date")
    assert [row.anchor_date for row in missed] == [onset, today - dt.timedelta(days=191)]
    assert not PlanSnapshot.objects.get(patient=patient).sweep_pending
    assert jobs.sweep_candidate_ids(now=dt.datetime.now(dt.UTC)) == []  # until the next save
    add_pain(patient, today - dt.timedelta(days=150), 1)
    assert jobs.sweep_candidate_ids(now=dt.datetime.now(dt.UTC)) == [patient.id]


def test_one_patient_that_fails_does_not_stop_the_sweep(patient, other_patient, today, monkeypatch):
    for someone in (patient, other_patient):  # both in a 20-day-old rest: REST_MAX is due
        add_pain(
            someone, today - dt.timedelta(days=20), 8, character="sharp", onset="during_exercise"
        )
    refresh = services.plans_refresh

    def failing_for_alice(patients, **options):
        if any(someone.id == patient.id for someone in patients):
            raise ValueError("bad data")
        return refresh(patients, **options)

    monkeypatch.setattr(services, "plans_refresh", failing_for_alice)
    result = jobs.sweep()

    assert (result.patients, result.failed) == (2, (patient.id,))
    assert "REST_MAX" in rules_of(other_patient)
    assert "REST_MAX" not in rules_of(patient)
    with pytest.raises(CommandError, match=f"patients {patient.id} "):
        run_jobs()


def test_a_database_outage_stops_the_sweep_for_a_retry(patient, today, monkeypatch):
    add_pain(patient, today, 3)

    def unavailable(patients, **options):
        raise OperationalError("connection lost")

    monkeypatch.setattr(services, "plans_refresh", unavailable)
    with pytest.raises(OperationalError):
        jobs.sweep()


def test_a_database_outage_while_retrying_one_by_one_stops_the_sweep_too(
    patient, other_patient, today, monkeypatch
):
    for someone in (patient, other_patient):
        add_pain(someone, today, 3)

    def batch_fails_then_the_database_goes(patients, **options):
        if len(patients) > 1:
            raise ValueError("bad data somewhere in the batch")
        raise OperationalError("connection lost")

    monkeypatch.setattr(services, "plans_refresh", batch_fails_then_the_database_goes)
    with pytest.raises(OperationalError):
        jobs.sweep()


def test_a_save_after_local_midnight_while_the_sweep_runs_is_not_overwritten(monkeypatch):
    """The sweep lists its candidates before local midnight; a red flag is saved just after
    it, before the sweep reaches the patient. The sweep must store the new day's plan, not
    the day before's over the save's."""
    los_angeles = ZoneInfo("America/Los_Angeles")
    before_midnight = dt.datetime(2026, 11, 30, 23, 59, tzinfo=los_angeles)
    with time_machine.travel(before_midnight, tick=False) as clock:
        patient = make_user("late@example.test", tz="America/Los_Angeles")
        add_pain(patient, dt.date(2026, 11, 16), 8, character="sharp", onset="during_exercise")
        list_candidates = jobs.sweep_candidate_ids

        def saved_meanwhile(*, now):
            ids = list_candidates(now=now)
            clock.move_to(before_midnight + dt.timedelta(seconds=90))
            add_pain(patient, dt.date(2026, 12, 1), 3, red_flags=("leg_numbness",))
            return ids

        monkeypatch.setattr(jobs, "sweep_candidate_ids", saved_meanwhile)
        jobs.sweep()

    snapshot = PlanSnapshot.objects.get(patient=patient)
    assert (snapshot.evaluated_for, snapshot.last_log_date) == (dt.date(2026, 12, 1),) * 2
    assert (snapshot.phase, snapshot.escalation_level) == ("medical_review", "urgent")


def test_a_patient_deleted_while_the_sweep_runs_is_skipped_not_failed(
    patient, other_patient, today, monkeypatch
):
    for someone in (patient, other_patient):  # both in a 20-day-old rest: REST_MAX is due
        add_pain(
            someone, today - dt.timedelta(days=20), 8, character="sharp", onset="during_exercise"
        )
    list_candidates = jobs.sweep_candidate_ids
    gone = patient.id

    def deleted_meanwhile(*, now):
        ids = list_candidates(now=now)
        User.objects.filter(id=gone).delete()
        return ids

    monkeypatch.setattr(jobs, "sweep_candidate_ids", deleted_meanwhile)
    result = jobs.sweep()

    assert (result.patients, result.failed) == (2, ())
    assert "REST_MAX" in rules_of(other_patient)
    assert not PlanSnapshot.objects.filter(patient_id=gone).exists()
