"""List endpoints run a fixed number of SQL queries, whatever the number of rows.

Each test runs with 1 row and with 30 rows against the same pinned count. The comments
name every expected query. Rows are made with the ORM (bulk_create) to keep this fast.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection

from accounts.models import CareLink, Role, User
from recovery import services
from recovery.models import Activity, Clearance, Escalation, PainEntry, PlanSnapshot, Workout
from tests.services import needs_service

pytestmark = pytest.mark.django_db

API = "/api/v1"
ROW_COUNTS = [1, 30]


def add_pain_entries(patient: User, count: int, today: dt.date) -> None:
    PainEntry.objects.bulk_create(
        PainEntry(
            patient=patient,
            date=today - dt.timedelta(days=i),
            score=i % 11,
            region="lower_back",
            character="ache",
            onset="unrelated",
            night_pain=i % 2 == 0,
        )
        for i in range(count)
    )


def add_workouts(patient: User, count: int, today: dt.date) -> None:
    # Different activities, so a per-row lookup of the activity could not hide in a cache.
    activities = list(Activity.objects.order_by("slug"))
    Workout.objects.bulk_create(
        Workout(
            patient=patient,
            date=today - dt.timedelta(days=i),
            activity=activities[i % len(activities)],
            duration_min=30,
            rpe=3,
            load_kg=10,
        )
        for i in range(count)
    )


def add_clearances(patient: User, count: int, today: dt.date, therapist: User) -> None:
    Clearance.objects.bulk_create(
        Clearance(
            patient=patient,
            cleared_on=today - dt.timedelta(days=i),
            source="therapist",
            therapist=therapist,
            clinician_name=therapist.name,
        )
        for i in range(count)
    )


def add_escalations(patient: User, count: int, today: dt.date) -> None:
    Escalation.objects.bulk_create(
        Escalation(
            patient=patient,
            rule="PERSIST_3D",
            level="attention",
            anchor=f"date:{i}",
            anchor_date=today,
            raised_on=today,
        )
        for i in range(count)
    )


def listed(response, count: int) -> list[dict]:
    assert response.status_code == 200, response.content
    body = response.json()
    results = body["results"] if isinstance(body, dict) else body
    assert len(results) == count
    return results


@pytest.mark.parametrize("count", ROW_COUNTS)
def test_own_pain_logs_list_queries_are_constant(
    patient, patient_client, today, count, django_assert_num_queries
):
    add_pain_entries(patient, count, today)

    with django_assert_num_queries(3):
        # 1. the token and its user (TokenAuthentication, select_related)
        # 2. COUNT of the patient's entries (pagination)
        # 3. the page of entries (red flags are columns of the row)
        response = patient_client.get(f"{API}/pain-logs/")

    listed(response, count)


@pytest.mark.parametrize("count", ROW_COUNTS)
def test_own_workouts_list_queries_are_constant(
    patient, patient_client, today, count, django_assert_num_queries
):
    add_workouts(patient, count, today)

    with django_assert_num_queries(3):
        # 1. the token and its user
        # 2. COUNT of the patient's workouts
        # 3. the page of workouts (the activity slug is the foreign key's own value)
        response = patient_client.get(f"{API}/workouts/")

    listed(response, count)


@pytest.mark.parametrize("count", ROW_COUNTS)
def test_own_clearances_list_queries_are_constant(
    patient, patient_client, therapist, today, count, django_assert_num_queries
):
    add_clearances(patient, count, today, therapist)

    with django_assert_num_queries(3):
        # 1. the token and its user
        # 2. COUNT of the patient's clearances
        # 3. the page of clearances (therapist is serialized as its id)
        response = patient_client.get(f"{API}/clearances/")

    listed(response, count)


@pytest.mark.parametrize("count", ROW_COUNTS)
def test_patient_escalations_list_queries_are_constant(
    patient, patient_client, today, count, django_assert_num_queries
):
    add_escalations(patient, count, today)

    with django_assert_num_queries(3):
        # 1. the token and its user
        # 2. COUNT of the patient's escalations
        # 3. the page, with the patient joined and the first acknowledgement aggregated
        response = patient_client.get(f"{API}/escalations/")

    listed(response, count)


@pytest.mark.parametrize("count", ROW_COUNTS)
def test_therapist_escalations_list_queries_are_constant(
    patient, therapist, therapist_client, today, count, django_assert_num_queries
):
    add_escalations(patient, count, today)
    # A second linked patient, so rows come from more than one patient.
    second = User.objects.create(email="second@example.test", name="Second", role=Role.PATIENT)
    CareLink.objects.create(therapist=therapist, patient=second)
    add_escalations(second, count, today)

    with django_assert_num_queries(3):
        # 1. the token and its user
        # 2. COUNT of linked patients' escalations (through the active care links)
        # 3. the page, with the patient joined and this therapist's acknowledgement subquery
        response = therapist_client.get(f"{API}/escalations/?page_size=100")

    listed(response, 2 * count)


@pytest.mark.parametrize("count", [1, 20])
def test_patients_list_queries_are_constant(
    therapist, therapist_client, count, django_assert_num_queries
):
    # Not the `patient` persona: here the therapist's only patients are the ones made below.
    today = dt.date(2026, 3, 10)
    patients = User.objects.bulk_create(
        User(email=f"p{i}@example.test", name=f"Patient {i:02}", role=Role.PATIENT)
        for i in range(count)
    )
    CareLink.objects.bulk_create(CareLink(therapist=therapist, patient=p) for p in patients)
    # Most have a stored plan summary; the last has none yet (shown as the defaults).
    PlanSnapshot.objects.bulk_create(
        PlanSnapshot(patient=p, evaluated_for=today, phase="rest", last_log_date=today)
        for p in patients[:-1]
    )

    with django_assert_num_queries(2):
        # 1. the token and its user
        # 2. every linked patient with their plan snapshot joined (one array, no pages)
        response = therapist_client.get(f"{API}/patients/")

    assert response.status_code == 200
    results = response.json()
    assert len(results) == count
    assert [row["phase"] for row in results] == ["rest"] * (count - 1) + ["active"]


@pytest.mark.parametrize("count", ROW_COUNTS)
def test_therapist_patient_pain_logs_queries_are_constant(
    patient, therapist_client, today, count, django_assert_num_queries
):
    add_pain_entries(patient, count, today)

    with django_assert_num_queries(4):
        # 1. the token and its user
        # 2. the patient among the therapist's linked patients (404 otherwise)
        # 3. COUNT of the patient's entries
        # 4. the page of entries
        response = therapist_client.get(f"{API}/patients/{patient.id}/pain-logs/")

    listed(response, count)


@pytest.mark.parametrize("count", ROW_COUNTS)
def test_therapist_patient_workouts_queries_are_constant(
    patient, therapist_client, today, count, django_assert_num_queries
):
    add_workouts(patient, count, today)

    with django_assert_num_queries(4):
        # 1. the token and its user
        # 2. the patient among the therapist's linked patients
        # 3. COUNT of the patient's workouts
        # 4. the page of workouts
        response = therapist_client.get(f"{API}/patients/{patient.id}/workouts/")

    listed(response, count)


@pytest.mark.parametrize("count", ROW_COUNTS)
def test_therapist_patient_clearances_queries_are_constant(
    patient, therapist, therapist_client, today, count, django_assert_num_queries
):
    add_clearances(patient, count, today, therapist)

    with django_assert_num_queries(4):
        # 1. the token and its user
        # 2. the patient among the therapist's linked patients
        # 3. COUNT of the patient's clearances
        # 4. the page of clearances
        response = therapist_client.get(f"{API}/patients/{patient.id}/clearances/")

    listed(response, count)


@pytest.mark.parametrize("count", ROW_COUNTS)
def test_activities_list_queries_are_constant(patient_client, count, django_assert_num_queries):
    # The catalogue is replaced by `count` activities: one row, or thirty.
    Activity.objects.all().delete()
    Activity.objects.bulk_create(
        Activity(slug=f"activity_{i:02}", name=f"Activity {i}", category="mobility")
        for i in range(count)
    )

    with django_assert_num_queries(2):
        # 1. the token and its user
        # 2. the whole catalogue (not paginated)
        response = patient_client.get(f"{API}/activities/")

    listed(response, count)


@pytest.mark.parametrize("count", [1, 8])
def test_therapist_patient_overrides_queries_are_constant(
    patient, therapist, therapist_client, count, django_assert_num_queries
):
    values = {
        "rest_min_days": 5,
        "rest_max_days": 20,
        "stage_days": 10,
        "weekly_increase": 0.15,
        "flare_min": 5,
        "pain_day_min": 4,
        "improved_max": 1,
        "rest_after_flare_days": 2,
    }
    services.overrides_set(patient=patient, values=dict(list(values.items())[:count]),
                           set_by=therapist)  # fmt: skip

    with django_assert_num_queries(3):
        # 1. the token and its user
        # 2. the patient among the therapist's linked patients
        # 3. the patient's overrides, with who set each joined
        response = therapist_client.get(f"{API}/patients/{patient.id}/overrides/")

    assert response.status_code == 200
    assert sum(row["set_by"] is not None for row in response.json()) == count


@pytest.mark.parametrize("days", [2, 60])
def test_saving_todays_pain_entry_queries_do_not_grow_with_the_history(
    patient, patient_client, today, days, django_assert_num_queries
):
    add_pain_entries(patient, days, today - dt.timedelta(days=1))
    services.plans_refresh([patient])  # a full replay keeps yesterday's checkpoint
    body = {"date": today.isoformat(), "score": 2, "region": "neck", "character": "ache",
            "onset": "unrelated", "red_flags": []}  # fmt: skip

    with django_assert_num_queries(8):
        # 1. the token and its user
        # 2. SAVEPOINT (BEGIN outside the test's transaction)
        # 3. the patient's snapshot row, locked, with its checkpoint
        # 4. the patient's time zone as stored under the lock
        # 5. INSERT of the entry
        # 6. the records dated after the checkpoint's day (one UNION ALL of three tables)
        # 7. the snapshot upsert (the checkpoint is still yesterday's, so it is not rewritten)
        # 8. RELEASE SAVEPOINT (COMMIT)
        response = patient_client.post(f"{API}/pain-logs/", body, format="json")

    assert response.status_code == 201, response.content


def test_on_postgresql_repeated_saves_reuse_prepared_statements(patient, patient_client, today):
    """A connection plans the save's statements once and then reuses the plans (settings.py):
    planning the records dated after the checkpoint cost more than running the query."""
    needs_service("PostgreSQL", connection.vendor == "postgresql")
    add_pain_entries(patient, 30, today - dt.timedelta(days=1))
    services.plans_refresh([patient])  # yesterday's checkpoint: each save resumes from it
    body = {"date": today.isoformat(), "region": "neck", "character": "ache",
            "onset": "unrelated", "red_flags": []}  # fmt: skip
    saves = 8
    for score in range(saves):
        response = patient_client.post(f"{API}/pain-logs/", {**body, "score": score}, format="json")
        assert response.status_code == 201, response.content

    with connection.cursor() as cursor:
        cursor.execute("SELECT statement, generic_plans + custom_plans FROM pg_prepared_statements")
        prepared = cursor.fetchall()
    records_after = [uses for sql, uses in prepared if "UNION ALL" in sql]
    entry_insert = [
        uses for sql, uses in prepared if sql.startswith('INSERT INTO "recovery_painentry"')
    ]
    # psycopg prepares a statement once it has sent it 5 times: the 6th to 8th saves reuse it.
    assert records_after == [saves - 5]
    assert entry_insert == [saves - 5]
