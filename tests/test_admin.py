"""The admin for clinic staff: every page loads, and edits go through the plan refresh."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone
from kombu.exceptions import OperationalError as KombuOperationalError

from accounts.models import CareLink, Invitation, Role, User
from backend.celery import app as celery_app
from recovery import jobs, services, tasks
from recovery.engine import Checkpoint
from recovery.models import (
    Activity,
    Clearance,
    Escalation,
    GuidelineOverride,
    PainEntry,
    PlanSnapshot,
    Workout,
)
from tests.conftest import PASSWORD, make_user

pytestmark = pytest.mark.django_db

MODELS = [
    "accounts/user",
    "accounts/carelink",
    "accounts/invitation",
    "recovery/activity",
    "recovery/painentry",
    "recovery/workout",
    "recovery/clearance",
    "recovery/guidelineoverride",
    "recovery/plansnapshot",
    "recovery/escalation",
]


@pytest.fixture
def staff(db):
    staff = make_user("staff@clinic.test", role=Role.THERAPIST)
    staff.is_staff = staff.is_superuser = True
    staff.save()
    return staff


@pytest.fixture
def staff_client(client, staff):
    client.force_login(staff)
    return client


@pytest.fixture
def linked_staff_client(staff_client, staff, patient):
    """Signed in as a therapist linked to `patient`: who may set their guideline values."""
    CareLink.objects.create(therapist=staff, patient=patient)
    return staff_client


@pytest.fixture
def history(patient, today):
    services.pain_entry_create(
        patient=patient, date=today, score=5, region="neck", character="ache", onset="unrelated",
        red_flags=["night_pain"],
    )  # fmt: skip
    services.workout_create(
        patient=patient,
        date=today,
        activity=Activity.objects.get(slug="walking"),
        duration_min=30,
        rpe=3,
    )


@pytest.mark.parametrize("model", MODELS)
def test_every_admin_list_and_search_loads(staff_client, history, model):
    url = reverse(f"admin:{model.replace('/', '_')}_changelist")
    assert staff_client.get(url).status_code == 200
    assert staff_client.get(url, {"q": "alice"}).status_code == 200


def test_escalation_detail_shows_who_acknowledged(staff_client, history, patient):
    escalation = Escalation.objects.get(patient=patient)
    response = staff_client.get(reverse("admin:recovery_escalation_change", args=[escalation.pk]))
    assert response.status_code == 200
    assert "RED_FLAG_URGENT" in response.content.decode()


def test_editing_a_pain_entry_in_the_admin_re_evaluates_the_plan(
    staff_client, history, patient, today
):
    entry = PainEntry.objects.get(patient=patient)
    assert PlanSnapshot.objects.get(patient=patient).phase == "medical_review"
    form = {
        "patient": patient.pk, "date": (today - dt.timedelta(days=1)).isoformat(), "score": 2,
        "region": "neck", "character": "ache", "onset": "unrelated", "notes": "",
    }  # fmt: skip
    response = staff_client.post(reverse("admin:recovery_painentry_change", args=[entry.pk]), form)
    assert response.status_code == 302
    entry.refresh_from_db()
    assert (entry.score, entry.night_pain) == (2, False)
    assert PlanSnapshot.objects.get(patient=patient).phase == "active"


def test_admin_override_out_of_bounds_is_refused(linked_staff_client, patient):
    url = reverse("admin:recovery_guidelineoverride_add")
    response = linked_staff_client.post(
        url, {"patient": patient.pk, "name": "stage_days", "value": 40}
    )
    assert response.status_code == 200  # the form again, with the error
    assert "between 7 and 28" in response.content.decode()
    assert not GuidelineOverride.objects.exists()


def test_admin_override_records_who_set_it(linked_staff_client, patient):
    url = reverse("admin:recovery_guidelineoverride_add")
    response = linked_staff_client.post(
        url, {"patient": patient.pk, "name": "stage_days", "value": 10}
    )
    assert response.status_code == 302
    override = GuidelineOverride.objects.get(patient=patient)
    assert (override.value, override.set_by.email) == (10, "staff@clinic.test")


def test_deleting_workouts_in_bulk_re_evaluates(staff_client, history, patient):
    workout = Workout.objects.get(patient=patient)
    url = reverse("admin:recovery_workout_changelist")
    response = staff_client.post(
        url, {"action": "delete_selected", "_selected_action": [workout.pk], "post": "yes"}
    )
    assert response.status_code == 302
    assert not Workout.objects.filter(patient=patient).exists()
    assert PlanSnapshot.objects.get(patient=patient).phase == "medical_review"


def test_moving_an_activity_to_another_category_drops_every_checkpoint(
    staff_client, patient, today
):
    for back in (2, 1):
        services.workout_create(
            patient=patient, date=today - dt.timedelta(days=back),
            activity=Activity.objects.get(slug="golf"), duration_min=60, rpe=4,
        )  # fmt: skip
    assert PlanSnapshot.objects.get(patient=patient).checkpoint is not None

    url = reverse("admin:recovery_activity_change", args=["golf"])
    unchanged = {"slug": "golf", "name": "Golf", "category": "twisting"}
    assert staff_client.post(url, unchanged).status_code == 302
    assert PlanSnapshot.objects.get(patient=patient).checkpoint is not None

    jobs.sweep()
    assert not PlanSnapshot.objects.get(patient=patient).sweep_pending

    moved = {**unchanged, "category": "low_impact"}
    assert staff_client.post(url, moved).status_code == 302
    assert Activity.objects.get(slug="golf").category == "low_impact"
    # The next save replays in full, with golf's new category, and so does the next sweep.
    snapshot = PlanSnapshot.objects.get(patient=patient)
    assert (snapshot.checkpoint, snapshot.sweep_pending) == (None, True)


def _golf_yesterday_and_today(patient, today) -> str:
    """Two golf workouts for `patient`; returns golf's admin change page."""
    for back in (1, 0):
        services.workout_create(
            patient=patient, date=today - dt.timedelta(days=back),
            activity=Activity.objects.get(slug="golf"), duration_min=60, rpe=4,
        )  # fmt: skip
    return reverse("admin:recovery_activity_change", args=["golf"])


def test_moving_an_activity_to_another_category_sweeps_at_once(
    staff_client, patient, today, django_capture_on_commit_callbacks, monkeypatch
):
    url = _golf_yesterday_and_today(patient, today)
    monkeypatch.setitem(celery_app.conf, "task_always_eager", True)  # the task runs inline
    moved = {"slug": "golf", "name": "Golf", "category": "low_impact"}
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        assert staff_client.post(url, moved).status_code == 302
    assert len(callbacks) == 1
    # The sweep replayed the patient with golf's new meaning, without waiting for beat.
    snapshot = PlanSnapshot.objects.get(patient=patient)
    assert not snapshot.sweep_pending
    assert snapshot.checkpoint is not None


def test_moving_an_activity_while_the_broker_is_down_still_saves_and_leaves_it_pending(
    staff_client, patient, today, django_capture_on_commit_callbacks, monkeypatch
):
    url = _golf_yesterday_and_today(patient, today)

    def broker_down(*args, **kwargs):
        raise KombuOperationalError("broker unreachable")

    monkeypatch.setattr(tasks.sweep_escalations, "delay", broker_down)
    moved = {"slug": "golf", "name": "Golf", "category": "low_impact"}
    with django_capture_on_commit_callbacks(execute=True):
        assert staff_client.post(url, moved).status_code == 302
    assert Activity.objects.get(slug="golf").category == "low_impact"
    # Nothing is lost: the next scheduled sweep takes every pending patient.
    assert PlanSnapshot.objects.get(patient=patient).sweep_pending
    jobs.sweep()
    assert not PlanSnapshot.objects.get(patient=patient).sweep_pending


def test_admin_override_edit_records_who_set_it_and_when(linked_staff_client, patient):
    override = GuidelineOverride.objects.create(
        patient=patient, name="stage_days", value=10, set_at=dt.datetime(2026, 1, 5, tzinfo=dt.UTC)
    )
    url = reverse("admin:recovery_guidelineoverride_change", args=[override.pk])
    before = timezone.now()
    response = linked_staff_client.post(
        url, {"patient": patient.pk, "name": "stage_days", "value": 12}
    )
    assert response.status_code == 302
    override.refresh_from_db()
    assert (override.value, override.set_by.email) == (12, "staff@clinic.test")
    assert override.set_at >= before


def test_admin_override_error_is_on_the_value_and_said_once(linked_staff_client, patient):
    url = reverse("admin:recovery_guidelineoverride_add")
    response = linked_staff_client.post(
        url, {"patient": patient.pk, "name": "stage_days", "value": 40}
    )
    form = response.context["adminform"].form
    assert form.errors == {"value": ["must be between 7 and 28"]}


def test_admin_override_needs_a_therapist_linked_to_the_patient(staff, staff_client, patient):
    CareLink.objects.create(therapist=staff, patient=patient, ended_at=timezone.now())
    url = reverse("admin:recovery_guidelineoverride_add")
    response = staff_client.post(url, {"patient": patient.pk, "name": "stage_days", "value": 10})
    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {
        "patient": ["Only a therapist linked to this patient can set this."]
    }
    assert not GuidelineOverride.objects.exists()


def test_admin_override_of_an_unlinked_patient_is_shown_but_not_changed(
    staff_client, patient, therapist
):
    services.overrides_set(patient=patient, values={"stage_days": 10}, set_by=therapist)
    override = GuidelineOverride.objects.get(patient=patient)
    change = reverse("admin:recovery_guidelineoverride_change", args=[override.pk])
    delete = reverse("admin:recovery_guidelineoverride_delete", args=[override.pk])

    assert staff_client.get(change).status_code == 200  # to view
    form = {"patient": patient.pk, "name": "stage_days", "value": 12}
    assert staff_client.post(change, form).status_code == 403
    assert staff_client.post(delete, {"post": "yes"}).status_code == 403
    in_bulk = {"action": "delete_selected", "_selected_action": [override.pk], "post": "yes"}
    changelist = reverse("admin:recovery_guidelineoverride_changelist")
    assert staff_client.post(changelist, in_bulk).status_code == 403
    override.refresh_from_db()
    assert (override.value, override.set_by) == (10, therapist)


def test_admin_override_cannot_move_to_a_patient_not_linked(
    linked_staff_client, patient, other_patient
):
    url = reverse("admin:recovery_guidelineoverride_add")
    form = {"patient": patient.pk, "name": "stage_days", "value": 10}
    assert linked_staff_client.post(url, form).status_code == 302
    override = GuidelineOverride.objects.get()

    change = reverse("admin:recovery_guidelineoverride_change", args=[override.pk])
    response = linked_staff_client.post(change, {**form, "patient": other_patient.pk})

    assert response.status_code == 200
    assert "patient" in response.context["adminform"].form.errors
    assert GuidelineOverride.objects.get().patient == patient


def test_admin_refuses_a_record_for_someone_who_is_not_a_patient(staff_client, therapist, today):
    url = reverse("admin:recovery_guidelineoverride_add")
    response = staff_client.post(url, {"patient": therapist.pk, "name": "stage_days", "value": 10})
    assert response.status_code == 200
    assert "patient" in response.context["adminform"].form.errors
    assert not GuidelineOverride.objects.exists()
    assert not PlanSnapshot.objects.filter(patient=therapist).exists()


@pytest.mark.parametrize(("days", "accepted"), [(0, True), (1, False), (-365, True), (-366, False)])
def test_admin_pain_entry_date_is_checked_like_the_apis(
    staff_client, patient, today, days, accepted
):
    form = {
        "patient": patient.pk, "date": (today + dt.timedelta(days=days)).isoformat(), "score": 2,
        "region": "neck", "character": "ache", "onset": "unrelated", "notes": "",
    }  # fmt: skip
    response = staff_client.post(reverse("admin:recovery_painentry_add"), form)
    assert (response.status_code == 302) is accepted
    assert PainEntry.objects.filter(patient=patient).exists() is accepted
    if not accepted:
        assert list(response.context["adminform"].form.errors) == ["date"]


def _clearance_form(patient, day, **fields) -> dict:
    return {"patient": patient.pk, "cleared_on": day.isoformat(), "notes": "", **fields}


def test_admin_clearance_is_the_signed_in_linked_therapists(
    linked_staff_client, staff, patient, therapist, today
):
    services.pain_entry_create(
        patient=patient, date=today - dt.timedelta(days=1), score=2, region="neck",
        character="ache", onset="unrelated", red_flags=["leg_numbness"],
    )  # fmt: skip
    # Naming another therapist (or a clinician) in the form changes nothing: it is not a field.
    form = _clearance_form(patient, today, therapist=therapist.pk, clinician_name="Dr Fake")
    response = linked_staff_client.post(reverse("admin:recovery_clearance_add"), form)
    assert response.status_code == 302
    clearance = Clearance.objects.get(patient=patient)
    assert (clearance.therapist, clearance.source, clearance.clinician_name) == (
        staff, "therapist", staff.name,
    )  # fmt: skip
    assert PlanSnapshot.objects.get(patient=patient).phase == "return"


def test_editing_a_clearance_in_the_admin_keeps_the_clinician_it_named(
    linked_staff_client, staff, patient, today
):
    add = reverse("admin:recovery_clearance_add")
    assert linked_staff_client.post(add, _clearance_form(patient, today)).status_code == 302
    clearance = Clearance.objects.get(patient=patient)
    recorded_as = staff.name
    User.objects.filter(pk=staff.pk).update(name="Dr Renamed")  # the therapist renamed since
    url = reverse("admin:recovery_clearance_change", args=[clearance.pk])
    form = {**_admin_form(linked_staff_client, url), "notes": "seen again"}
    assert linked_staff_client.post(url, form).status_code == 302
    clearance.refresh_from_db()
    assert (clearance.notes, clearance.clinician_name) == ("seen again", recorded_as)


@pytest.mark.parametrize(
    ("linked", "days", "field"),
    [(False, 0, "patient"), (True, 1, "cleared_on")],  # unlinked; dated tomorrow
)
def test_admin_refuses_a_clearance_the_api_would_refuse(
    staff, staff_client, patient, today, linked, days, field
):
    if linked:
        CareLink.objects.create(therapist=staff, patient=patient)
    form = _clearance_form(patient, today + dt.timedelta(days=days))
    response = staff_client.post(reverse("admin:recovery_clearance_add"), form)
    assert response.status_code == 200
    assert list(response.context["adminform"].form.errors) == [field]
    assert not Clearance.objects.exists()


def test_only_its_author_changes_or_removes_a_clearance_and_only_while_linked(
    staff, linked_staff_client, patient, therapist, today
):
    by_colleague = services.clearance_record(patient=patient, cleared_on=today, therapist=therapist)
    self_reported = services.clearance_record(
        patient=patient, cleared_on=today, clinician_name="Dr Rao"
    )
    linked_staff_client.post(
        reverse("admin:recovery_clearance_add"), _clearance_form(patient, today)
    )
    own = Clearance.objects.get(therapist=staff)
    for clearance in (by_colleague, self_reported):
        change = reverse("admin:recovery_clearance_change", args=[clearance.pk])
        delete = reverse("admin:recovery_clearance_delete", args=[clearance.pk])
        assert linked_staff_client.get(change).status_code == 200  # to view
        form = _clearance_form(patient, today, notes="edited")
        assert linked_staff_client.post(change, form).status_code == 403
        assert linked_staff_client.post(delete, {"post": "yes"}).status_code == 403
    own_change = reverse("admin:recovery_clearance_change", args=[own.pk])
    form = _clearance_form(patient, today, notes="seen in clinic")
    assert linked_staff_client.post(own_change, form).status_code == 302
    CareLink.objects.filter(therapist=staff).update(ended_at=timezone.now())
    assert linked_staff_client.post(own_change, {**form, "notes": "later"}).status_code == 403
    assert sorted(Clearance.objects.values_list("notes", flat=True)) == ["", "", "seen in clinic"]


def _log_ache(patient, day: dt.date) -> None:
    services.pain_entry_create(
        patient=patient, date=day, score=1, region="neck", character="ache", onset="unrelated"
    )


def test_moving_a_pain_entry_to_another_patient_re_evaluates_both(
    staff_client, patient, other_patient, today
):
    _log_ache(patient, today - dt.timedelta(days=5))  # so a checkpoint stays to be checked
    entry = services.pain_entry_create(
        patient=patient, date=today - dt.timedelta(days=2), score=8, region="neck",
        character="sharp", onset="during_exercise",
    )  # fmt: skip
    assert PlanSnapshot.objects.get(patient=patient).phase == "rest"
    form = {
        "patient": other_patient.pk, "date": entry.date.isoformat(), "score": 8,
        "region": "neck", "character": "sharp", "onset": "during_exercise", "notes": "",
    }  # fmt: skip
    response = staff_client.post(reverse("admin:recovery_painentry_change", args=[entry.pk]), form)
    assert response.status_code == 302
    left, joined = (PlanSnapshot.objects.get(patient=p) for p in (patient, other_patient))
    assert (left.phase, left.escalation_level, left.episode_start) == ("active", "none", None)
    assert (joined.phase, joined.episode_start) == ("rest", entry.date)
    # The one it left keeps no checkpoint that still holds the entry.
    assert Checkpoint.from_data(left.checkpoint).state["episode_start"] is None


def test_moving_an_override_to_another_patient_re_evaluates_both(
    staff_client, staff, patient, other_patient, therapist, today
):
    for someone in (patient, other_patient):
        CareLink.objects.create(therapist=staff, patient=someone)
    for someone in (patient, other_patient):
        _log_ache(someone, today - dt.timedelta(days=1))
    services.overrides_set(patient=patient, values={"rest_min_days": 3}, set_by=therapist)
    override = GuidelineOverride.objects.get(patient=patient)
    url = reverse("admin:recovery_guidelineoverride_change", args=[override.pk])
    form = {"patient": other_patient.pk, "name": "rest_min_days", "value": 3}
    assert staff_client.post(url, form).status_code == 302
    left, joined = (PlanSnapshot.objects.get(patient=p) for p in (patient, other_patient))
    assert Checkpoint.from_data(left.checkpoint).made_with().rest_min_days == 7
    assert Checkpoint.from_data(joined.checkpoint).made_with().rest_min_days == 3


# --- What the admin shows and changes no more than the API does ------------------------------


def _admin_form(client, url: str) -> dict:
    """The change form's current values, as a browser would post them back."""
    form = client.get(url).context["adminform"].form
    data = {}
    for name, field in form.fields.items():
        value = form.initial.get(name, field.initial)
        if value is None or field.disabled:
            continue
        data[name] = (
            [item.pk for item in value] if name in ("groups", "user_permissions") else value
        )
    return data


def test_escalations_and_their_acknowledgements_are_shown_and_never_changed(
    staff_client, history, patient, therapist
):
    escalation = Escalation.objects.get(patient=patient)
    services.escalation_acknowledge(escalation=escalation, therapist=therapist)
    change = reverse("admin:recovery_escalation_change", args=[escalation.pk])
    forged = {
        "acknowledgements-TOTAL_FORMS": 2, "acknowledgements-INITIAL_FORMS": 1,
        "acknowledgements-0-id": escalation.acknowledgements.get().pk,
        "acknowledgements-0-escalation": escalation.pk, "acknowledgements-0-DELETE": "on",
        "acknowledgements-1-therapist": patient.pk,
        "acknowledgements-1-acknowledged_at_0": "2099-01-01",
    }  # fmt: skip
    assert staff_client.post(change, forged).status_code == 403
    delete = reverse("admin:recovery_escalation_delete", args=[escalation.pk])
    assert staff_client.post(delete, {"post": "yes"}).status_code == 403
    in_bulk = {"action": "delete_selected", "_selected_action": [escalation.pk], "post": "yes"}
    staff_client.post(reverse("admin:recovery_escalation_changelist"), in_bulk)
    assert list(Escalation.objects.values_list("pk", flat=True)) == [escalation.pk]
    assert list(escalation.acknowledgements.values_list("therapist", flat=True)) == [therapist.pk]


def test_a_plan_snapshot_cannot_be_removed(staff_client, history, patient):
    snapshot = PlanSnapshot.objects.get(patient=patient)
    delete = reverse("admin:recovery_plansnapshot_delete", args=[snapshot.pk])
    assert staff_client.post(delete, {"post": "yes"}).status_code == 403
    assert PlanSnapshot.objects.filter(patient=patient).exists()


def test_links_and_invitations_come_from_the_api_not_the_admin(staff, staff_client, patient):
    form = {"therapist": staff.pk, "patient": patient.pk, "created_at_0": "2026-01-01",
            "created_at_1": "10:00"}  # fmt: skip
    assert staff_client.post(reverse("admin:accounts_carelink_add"), form).status_code == 403
    assert staff_client.post(reverse("admin:accounts_invitation_add"), {}).status_code == 403
    link = CareLink.objects.get(patient=patient)
    delete = reverse("admin:accounts_carelink_delete", args=[link.pk])
    assert staff_client.post(delete, {"post": "yes"}).status_code == 403
    assert list(CareLink.objects.values_list("therapist", "patient")) == [
        (link.therapist_id, patient.pk)
    ]


def test_a_therapist_on_the_staff_sees_only_their_patients_records(
    client, therapist, patient, other_patient, today
):
    therapist.is_staff = True
    therapist.save()
    therapist.user_permissions.set(Permission.objects.filter(codename__startswith="view_"))
    client.force_login(therapist)
    mine, theirs = (
        services.pain_entry_create(
            patient=someone, date=today, score=3, region="neck", character="ache",
            onset="unrelated",
        )
        for someone in (patient, other_patient)
    )  # fmt: skip
    listed = client.get(reverse("admin:recovery_painentry_changelist"))
    assert [row.pk for row in listed.context["cl"].result_list] == [mine.pk]
    other = client.get(reverse("admin:recovery_painentry_change", args=[theirs.pk]))
    assert other.status_code == 302  # "does not exist", back to the admin's index
    for model in ("plansnapshot", "escalation", "workout", "clearance", "guidelineoverride"):
        response = client.get(reverse(f"admin:recovery_{model}_changelist"))
        assert {row.patient_id for row in response.context["cl"].result_list} <= {patient.pk}


@time_machine.travel(dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC), tick=False)
def test_a_time_zone_changed_in_the_admin_re_evaluates_for_the_new_today(staff_client):
    patient = make_user("moving@example.test", tz="Pacific/Pago_Pago")  # today: 1 Dec
    onset = dt.date(2026, 11, 18)  # 1 Dec is rest day 14; 2 Dec, past the longest rest
    services.pain_entry_create(
        patient=patient, date=onset, score=8, region="neck", character="sharp",
        onset="during_exercise",
    )  # fmt: skip
    url = reverse("admin:accounts_user_change", args=[patient.pk])
    form = {**_admin_form(staff_client, url), "timezone": "Pacific/Kiritimati"}

    assert staff_client.post(url, form).status_code == 302

    snapshot = PlanSnapshot.objects.get(patient=patient)
    assert (snapshot.evaluated_for, snapshot.phase) == (dt.date(2026, 12, 2), "medical_review")


def test_an_address_typed_with_capitals_in_the_admin_signs_in(staff_client, anon_client):
    form = {"email": "New.Patient@Example.TEST", "name": "New", "role": "patient",
            "timezone": "UTC", "password1": PASSWORD, "password2": PASSWORD}  # fmt: skip
    assert staff_client.post(reverse("admin:accounts_user_add"), form).status_code == 302
    assert User.objects.filter(email="new.patient@example.test").exists()
    response = anon_client.post(
        "/api/v1/auth/token/", {"email": "New.Patient@Example.TEST", "password": PASSWORD}
    )
    assert response.status_code == 200


def test_a_note_added_to_an_entry_now_past_the_window_is_saved(staff_client, patient, today):
    entry = services.pain_entry_create(
        patient=patient, date=today - dt.timedelta(days=365), score=2, region="neck",
        character="ache", onset="unrelated",
    )  # fmt: skip
    url = reverse("admin:recovery_painentry_change", args=[entry.pk])
    with time_machine.travel(dt.datetime.now(dt.UTC) + dt.timedelta(days=2)):
        form = {**_admin_form(staff_client, url), "notes": "from the clinic's paper record"}
        assert staff_client.post(url, form).status_code == 302
        moved = {**form, "date": (entry.date - dt.timedelta(days=1)).isoformat()}
        response = staff_client.post(url, moved)  # a new date is checked, as in the API
        assert list(response.context["adminform"].form.errors) == ["date"]
    entry.refresh_from_db()
    assert (entry.notes, entry.date) == (
        "from the clinic's paper record",
        today - dt.timedelta(365),
    )


def test_bounds_in_the_admin_are_named_on_their_field(staff_client, patient, today):
    form = {"patient": patient.pk, "date": today.isoformat(), "score": 11, "region": "neck",
            "character": "ache", "onset": "unrelated", "notes": ""}  # fmt: skip
    response = staff_client.post(reverse("admin:recovery_painentry_add"), form)
    assert response.context["adminform"].form.errors == {
        "score": ["Ensure this value is less than or equal to 10."]
    }
    assert not PainEntry.objects.exists()


def test_an_activity_keeps_its_slug(staff_client):
    url = reverse("admin:recovery_activity_change", args=["walking"])
    response = staff_client.post(
        url, {"slug": "walking2", "name": "Walking", "category": "low_impact"}
    )
    assert response.status_code == 302
    assert not Activity.objects.filter(slug="walking2").exists()


# --- Deletes, pickers, visibility and read-only records --------------------------------------


def _pain_form(patient, day, **fields) -> dict:
    return {
        "patient": patient.pk, "date": day.isoformat(), "score": 2, "region": "neck",
        "character": "ache", "onset": "unrelated", "notes": "", **fields,
    }  # fmt: skip


def test_an_admin_add_is_recorded_when_it_takes_the_patients_lock(
    staff_client, patient, today, monkeypatch
):
    # created_at is the order the engine replays a day's records in; an add that waited for
    # the lock while another save committed must come after it (as in the API's creates).
    locked_at = timezone.now() + dt.timedelta(minutes=5)
    lock_patients = services.lock_patients

    def lock_later(*args, **kwargs):
        traveller.move_to(locked_at)  # the form was built; the lock is granted 5 minutes on
        return lock_patients(*args, **kwargs)

    monkeypatch.setattr(services, "lock_patients", lock_later)
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        response = staff_client.post(
            reverse("admin:recovery_painentry_add"), _pain_form(patient, today)
        )
    assert response.status_code == 302
    assert PainEntry.objects.get(patient=patient).created_at == locked_at


def _red_flag_entry(patient, day):
    return services.pain_entry_create(
        patient=patient, date=day, score=5, region="neck", character="ache", onset="unrelated",
        red_flags=["night_pain"],
    )  # fmt: skip


def test_an_admin_edit_keeps_the_records_place_in_the_recorded_order(
    staff_client, patient, therapist, today
):
    # A clearance recorded after a same-day red flag clears it (GUIDELINES.md, Order); an
    # edit of the red flag later on must not move it after the clearance and reopen review.
    entry = _red_flag_entry(patient, today)
    services.clearance_record(patient=patient, cleared_on=today, therapist=therapist)
    recorded_at = PainEntry.objects.get(pk=entry.pk).created_at
    assert PlanSnapshot.objects.get(patient=patient).phase == "return"
    change = reverse("admin:recovery_painentry_change", args=[entry.pk])
    form = _pain_form(patient, today, score=5, night_pain="on", notes="woke twice")
    with time_machine.travel(timezone.now() + dt.timedelta(minutes=5)):
        assert staff_client.post(change, form).status_code == 302
    entry.refresh_from_db()
    assert (entry.notes, entry.night_pain, entry.created_at) == ("woke twice", True, recorded_at)
    assert PlanSnapshot.objects.get(patient=patient).phase == "return"


def test_an_admin_edit_adding_a_red_flag_records_the_entry_anew(
    staff_client, patient, therapist, today
):
    # As in the API (services.PAIN_REPORTED_FIELDS): the red flag is reported after the
    # clearance, so the clearance recorded before it does not clear it.
    entry = _red_flag_entry(patient, today)
    services.clearance_record(patient=patient, cleared_on=today, therapist=therapist)
    recorded_at = PainEntry.objects.get(pk=entry.pk).created_at
    change = reverse("admin:recovery_painentry_change", args=[entry.pk])
    form = _pain_form(patient, today, score=5, night_pain="on", leg_weakness="on")
    assert staff_client.post(change, form).status_code == 302
    assert PainEntry.objects.get(pk=entry.pk).created_at > recorded_at
    snapshot = PlanSnapshot.objects.get(patient=patient)
    assert (snapshot.phase, snapshot.escalation_level) == ("medical_review", "urgent")


# The admin's patient picker is limited to patients.
def test_admin_refuses_a_pain_entry_for_a_therapist(staff_client, therapist, today):
    response = staff_client.post(
        reverse("admin:recovery_painentry_add"), _pain_form(therapist, today)
    )
    assert response.status_code == 200
    assert list(response.context["adminform"].form.errors) == ["patient"]
    assert not PainEntry.objects.exists()
    assert not PlanSnapshot.objects.filter(patient=therapist).exists()


# Deleting one row from its delete page re-evaluates the plan.
def test_deleting_a_pain_entry_in_the_admin_re_evaluates(staff_client, patient, today):
    entry = _red_flag_entry(patient, today)
    assert PlanSnapshot.objects.get(patient=patient).phase == "medical_review"
    delete = reverse("admin:recovery_painentry_delete", args=[entry.pk])
    assert staff_client.post(delete, {"post": "yes"}).status_code == 302
    assert not PainEntry.objects.exists()
    assert PlanSnapshot.objects.get(patient=patient).phase == "active"


# A bulk delete that ends a review re-evaluates too.
def test_deleting_pain_entries_in_bulk_re_evaluates(staff_client, patient, today):
    entry = _red_flag_entry(patient, today)
    assert PlanSnapshot.objects.get(patient=patient).phase == "medical_review"
    in_bulk = {"action": "delete_selected", "_selected_action": [entry.pk], "post": "yes"}
    response = staff_client.post(reverse("admin:recovery_painentry_changelist"), in_bulk)
    assert response.status_code == 302
    assert not PainEntry.objects.exists()
    assert PlanSnapshot.objects.get(patient=patient).phase == "active"


# A bulk delete across patients re-evaluates each of them.
def test_deleting_two_patients_entries_in_bulk_re_evaluates_both(
    staff_client, patient, other_patient, today
):
    entries = [_red_flag_entry(patient, today), _red_flag_entry(other_patient, today)]
    in_bulk = {"action": "delete_selected", "_selected_action": [e.pk for e in entries],
               "post": "yes"}  # fmt: skip
    response = staff_client.post(reverse("admin:recovery_painentry_changelist"), in_bulk)
    assert response.status_code == 302
    assert not PainEntry.objects.exists()
    phases = PlanSnapshot.objects.filter(patient__in=[patient, other_patient]).values_list(
        "phase", flat=True
    )
    assert list(phases) == ["active", "active"]


# Moving a row to another patient checks its date in the new patient's calendar.
@time_machine.travel(dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC), tick=False)
def test_moving_an_entry_to_a_patient_for_whom_it_is_dated_tomorrow_is_refused(staff_client):
    ahead = make_user("ahead@example.test", tz="Pacific/Kiritimati")  # today: 2 Dec
    behind = make_user("behind@example.test", tz="Pacific/Pago_Pago")  # today: 1 Dec
    entry = services.pain_entry_create(
        patient=ahead, date=dt.date(2026, 12, 2), score=2, region="neck", character="ache",
        onset="unrelated",
    )  # fmt: skip
    url = reverse("admin:recovery_painentry_change", args=[entry.pk])
    response = staff_client.post(url, _pain_form(behind, entry.date))
    assert response.status_code == 200
    assert list(response.context["adminform"].form.errors) == ["date"]
    assert PainEntry.objects.get().patient == ahead


# Only a therapist adds clearances and overrides.
@pytest.mark.parametrize("model", ["clearance", "guidelineoverride"])
def test_staff_who_is_not_a_therapist_cannot_add_clinical_records(client, model):
    clerk = make_user("clerk@clinic.test", role=Role.PATIENT)
    clerk.is_staff = True
    clerk.save()
    clerk.user_permissions.set(
        Permission.objects.filter(content_type__model=model, codename__regex=r"^(add|view)_")
    )
    client.force_login(clerk)
    assert client.get(reverse(f"admin:recovery_{model}_add")).status_code == 403


# Escalations (red flags) of unlinked patients stay hidden from a therapist on the staff.
def test_a_therapist_on_the_staff_sees_only_their_patients_escalations(
    client, therapist, patient, other_patient, today
):
    therapist.is_staff = True
    therapist.save()
    therapist.user_permissions.set(Permission.objects.filter(codename__startswith="view_"))
    for someone in (patient, other_patient):
        _red_flag_entry(someone, today)
    theirs = Escalation.objects.get(patient=other_patient)
    client.force_login(therapist)
    listed = client.get(reverse("admin:recovery_escalation_changelist"))
    assert {row.patient_id for row in listed.context["cl"].result_list} == {patient.pk}
    other = client.get(reverse("admin:recovery_escalation_change", args=[theirs.pk]))
    assert other.status_code == 302  # "does not exist"


# Links and invitations are neither changed nor removed in the admin.
def test_links_and_invitations_cannot_be_changed_or_removed(
    staff, staff_client, patient, therapist
):
    link = CareLink.objects.get(patient=patient)
    invitation = Invitation.objects.create(therapist=therapist)
    change = reverse("admin:accounts_carelink_change", args=[link.pk])
    form = {"therapist": staff.pk, "patient": patient.pk, "created_at_0": "2026-01-01",
            "created_at_1": "10:00", "ended_at_0": "2026-01-02", "ended_at_1": "10:00"}  # fmt: skip
    assert staff_client.post(change, form).status_code == 403
    inv_change = reverse("admin:accounts_invitation_change", args=[invitation.pk])
    inv_form = {"therapist": staff.pk, "expires_at_0": "2099-01-01", "expires_at_1": "10:00"}
    assert staff_client.post(inv_change, inv_form).status_code == 403
    inv_delete = reverse("admin:accounts_invitation_delete", args=[invitation.pk])
    assert staff_client.post(inv_delete, {"post": "yes"}).status_code == 403
    link.refresh_from_db()
    invitation.refresh_from_db()
    assert (link.therapist, link.ended_at) == (therapist, None)
    assert invitation.therapist == therapist


# Createsuperuser and the shell go through create_user: the address must be lower case.
def test_create_user_stores_the_address_in_lower_case(db):
    user = User.objects.create_user(email="Mixed.Case@Example.TEST", password="x-y-z-1234567")
    assert User.objects.get(pk=user.pk).email == "mixed.case@example.test"


# A workout's bounds are named on their field in the admin (not a database error).
def test_workout_bounds_in_the_admin_are_named_on_their_field(staff_client, patient, today):
    form = {"patient": patient.pk, "date": today.isoformat(), "activity": "walking",
            "duration_min": 0, "rpe": 3, "notes": ""}  # fmt: skip
    response = staff_client.post(reverse("admin:recovery_workout_add"), form)
    assert response.status_code == 200
    assert list(response.context["adminform"].form.errors) == ["duration_min"]
    assert not Workout.objects.exists()


@pytest.mark.parametrize(
    ("field", "value"),
    [("duration_min", 601), ("rpe", 11), ("load_kg", "1000.01"), ("load_kg", "-0.01")],
)
def test_each_workout_bound_in_the_admin_is_named_on_its_field(
    staff_client, patient, today, field, value
):
    form = {"patient": patient.pk, "date": today.isoformat(), "activity": "walking",
            "duration_min": 30, "rpe": 3, "load_kg": "", "notes": "", field: value}  # fmt: skip
    response = staff_client.post(reverse("admin:recovery_workout_add"), form)
    assert response.status_code == 200
    assert list(response.context["adminform"].form.errors) == [field]
    assert not Workout.objects.exists()


# A second override of the same name is a form error, not a server error.
def test_a_second_override_of_the_same_name_is_refused_in_the_form(linked_staff_client, patient):
    url = reverse("admin:recovery_guidelineoverride_add")
    form = {"patient": patient.pk, "name": "stage_days", "value": 10}
    assert linked_staff_client.post(url, form).status_code == 302
    response = linked_staff_client.post(url, {**form, "value": 12})
    assert response.status_code == 200
    assert response.context["adminform"].form.errors
    assert list(GuidelineOverride.objects.values_list("value", flat=True)) == [10]


# An edit is checked against the patient's other values, not against its own old one.
def test_renaming_an_override_is_checked_without_its_old_value(linked_staff_client, patient):
    override = GuidelineOverride.objects.create(patient=patient, name="rest_max_days", value=7)
    url = reverse("admin:recovery_guidelineoverride_change", args=[override.pk])
    # rest_min_days 10 is valid with the default rest_max_days (14), not with the old 7.
    response = linked_staff_client.post(
        url, {"patient": patient.pk, "name": "rest_min_days", "value": 10}
    )
    assert response.status_code == 302
    assert list(GuidelineOverride.objects.values_list("name", "value")) == [("rest_min_days", 10)]


# --- Accounts in the admin ----------------------------------------------------------------


def test_create_user_refuses_an_empty_address(db):
    with pytest.raises(ValueError, match="email"):
        User.objects.create_user(email="", password="x-y-z-1234567")
    assert not User.objects.exists()


def test_a_therapists_time_zone_changed_in_the_admin_makes_no_plan(staff_client, therapist):
    url = reverse("admin:accounts_user_change", args=[therapist.pk])
    form = {**_admin_form(staff_client, url), "timezone": "Asia/Tokyo"}

    assert staff_client.post(url, form).status_code == 302

    therapist.refresh_from_db()
    assert therapist.timezone == "Asia/Tokyo"
    assert not PlanSnapshot.objects.filter(patient=therapist).exists()
