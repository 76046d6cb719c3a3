"""Two writers for one patient re-evaluate one after the other (real PostgreSQL row locks)."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import connection, transaction

from accounts.models import CareLink, Invitation, User
from accounts.services import invitation_accept, user_update
from recovery import jobs, selectors, services
from recovery.models import Clearance, GuidelineOverride, PainEntry, PlanSnapshot
from tests.conftest import make_user
from tests.services import needs_service

pytestmark = pytest.mark.django_db(transaction=True)


def while_the_first_holds_the_lock(
    patient: User, first: Callable[[services.HistoryChange], None], second: Callable[[], None]
) -> None:
    """Run `first` inside the patient's history_change and, while it holds the lock, start
    `second` in another thread; check that `second` waits, then let `first` commit."""

    @contextmanager
    def patients_change() -> Iterator[None]:
        with services.history_change(patient) as change:
            first(change)
            yield

    while_the_first_holds_its_locks(patients_change, second)


def while_the_first_holds_its_locks(
    first: Callable[[], AbstractContextManager[None]], second: Callable[[], None]
) -> None:
    """Enter `first`, a transaction that takes row locks, and while it is open start
    `second` in another thread; check that `second` waits, then let `first` commit."""
    needs_service("PostgreSQL", connection.vendor == "postgresql")
    first_has_lock, first_may_commit = threading.Event(), threading.Event()

    def first_writer() -> None:
        with first():
            first_has_lock.set()
            first_may_commit.wait(timeout=10)
        connection.close()

    def second_writer() -> None:
        first_has_lock.wait(timeout=10)
        second()
        connection.close()

    threads = [threading.Thread(target=first_writer), threading.Thread(target=second_writer)]
    for thread in threads:
        thread.start()
    first_has_lock.wait(timeout=10)
    # The second writer is blocked on the lock; let it wait a moment, then release the first.
    threads[1].join(timeout=0.5)
    assert threads[1].is_alive()
    first_may_commit.set()
    for thread in threads:
        thread.join(timeout=10)


def test_a_save_waits_for_the_patients_lock_and_then_sees_the_other_write(patient, today):
    def first(change: services.HistoryChange) -> None:
        PainEntry.objects.create(
            patient=patient, date=today, score=8, region="neck", character="sharp",
            onset="during_exercise",
        )  # fmt: skip

    def second() -> None:
        services.pain_entry_create(
            patient=patient, date=today, score=1, region="neck", character="ache", onset="unrelated"
        )

    while_the_first_holds_the_lock(patient, first, second)

    # The second waited (checked above), and its re-evaluation saw the first entry, committed
    # meanwhile: the acute onset put the patient in rest.
    snapshot = PlanSnapshot.objects.get(patient=patient)
    assert (snapshot.phase, snapshot.escalation_level) == ("rest", "see_doctor")
    assert PainEntry.objects.filter(patient=patient).count() == 2


def test_two_override_edits_at_once_cannot_store_a_pair_neither_allows(patient, therapist):
    """rest_min_days 14 and rest_max_days 7 are each fine alone, not together: the second
    edit is checked under the lock against the first, and refused as bad input."""
    outcome: dict[str, object] = {}

    def second() -> None:
        try:
            services.overrides_set(patient=patient, values={"rest_max_days": 7}, set_by=therapist)
            outcome["second"] = "stored"
        except ValidationError as exc:
            outcome["second"] = exc.message_dict

    while_the_first_holds_the_lock(
        patient,
        lambda change: services.overrides_set(
            patient=patient, values={"rest_min_days": 14}, set_by=therapist
        ),
        second,
    )

    assert outcome["second"] == {
        "rest_max_days": ["rest_max_days (7) must be at least rest_min_days (14)"]
    }
    stored = dict(GuidelineOverride.objects.filter(patient=patient).values_list("name", "value"))
    assert stored == {"rest_min_days": 14}


@pytest.mark.parametrize("second", ["delete", "patch score"])
def test_an_edit_loaded_before_another_moved_the_record_acts_on_the_row_as_stored(
    patient, today, second
):
    """The second request loaded the entry (dated today) before the first moved it to two
    days ago; under the lock it must act on the stored row, and re-evaluate from there."""
    entry = services.pain_entry_create(
        patient=patient, date=today, score=8, region="neck", character="sharp",
        onset="during_exercise",
    )  # fmt: skip
    loaded_early = PainEntry.objects.select_related("patient").get(pk=entry.pk)
    moved_to = today - dt.timedelta(days=2)

    def first(change: services.HistoryChange) -> None:
        PainEntry.objects.filter(pk=entry.pk).update(date=moved_to)
        change.touches(today, moved_to)

    def edit() -> None:
        if second == "delete":
            services.pain_entry_delete(entry=loaded_early)
        else:
            services.pain_entry_update(entry=loaded_early, score=1)

    while_the_first_holds_the_lock(patient, first, edit)

    stored = list(PainEntry.objects.filter(patient=patient).values_list("date", "score"))
    assert stored == ([] if second == "delete" else [(moved_to, 1)])
    snapshot = PlanSnapshot.objects.get(patient=patient)
    expected = selectors.plan_for(patient=patient, on_date=today)
    assert (snapshot.phase, snapshot.escalation_level, snapshot.episode_start) == (
        expected.phase, expected.escalation_level,
        expected.episode.start if expected.episode else None,
    )  # fmt: skip
    if second == "delete":
        assert (snapshot.phase, snapshot.escalation_level) == ("active", "none")


@time_machine.travel(dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC), tick=False)
def test_a_save_waiting_on_a_time_zone_change_checks_its_date_in_the_new_zone():
    """12:00 UTC is 2 December in Kiritimati and 1 December in Pago Pago. A save loaded
    before the patient moved west waits for the move's lock, then refuses 2 December."""
    patient = make_user("mover@example.test", tz="Pacific/Kiritimati")
    loaded_before = User.objects.get(pk=patient.pk)
    outcome: dict[str, object] = {}

    def first(change: services.HistoryChange) -> None:
        user_update(user=patient, timezone="Pacific/Pago_Pago")

    def second() -> None:
        try:
            services.pain_entry_create(
                patient=loaded_before, date=dt.date(2026, 12, 2), score=3, region="neck",
                character="ache", onset="unrelated",
            )  # fmt: skip
        except ValidationError as exc:
            outcome["refused"] = exc.message_dict

    while_the_first_holds_the_lock(patient, first, second)

    assert "date" in outcome["refused"]
    assert not PainEntry.objects.filter(patient=patient).exists()
    assert PlanSnapshot.objects.get(patient=patient).evaluated_for == dt.date(2026, 12, 1)


def test_a_sweep_waits_for_a_save_and_then_replays_its_entry(patient, today):
    # A committed entry makes the patient a sweep candidate before the save begins.
    services.pain_entry_create(
        patient=patient, date=today - dt.timedelta(days=1), score=1, region="neck",
        character="ache", onset="unrelated",
    )  # fmt: skip

    def first(change: services.HistoryChange) -> None:
        PainEntry.objects.create(
            patient=patient, date=today, score=8, region="neck", character="sharp",
            onset="during_exercise",
        )  # fmt: skip
        change.touches(today)

    while_the_first_holds_the_lock(patient, first, jobs.sweep)

    # The sweep replayed after the save committed, so it stored the rest the entry began,
    # not the plan of the history it would have read without the lock.
    snapshot = PlanSnapshot.objects.get(patient=patient)
    assert (snapshot.phase, snapshot.sweep_pending) == ("rest", False)


def test_two_patients_accepting_one_code_at_once_link_only_the_first(therapist):
    alice, bob = make_user("alice@example.test"), make_user("bob@example.test")
    code = Invitation.objects.create(therapist=therapist).code
    outcome: dict[str, object] = {}

    @contextmanager
    def alice_accepts() -> Iterator[None]:
        with transaction.atomic():
            invitation_accept(patient=alice, code=code)
            yield

    def bob_accepts() -> None:
        try:
            invitation_accept(patient=bob, code=code)
            outcome["bob"] = "linked"
        except ValidationError as exc:
            outcome["bob"] = exc.message_dict

    while_the_first_holds_its_locks(alice_accepts, bob_accepts)

    assert outcome["bob"] == {"code": ["This code is not valid, already used, or expired."]}
    assert list(CareLink.objects.values_list("patient_id", flat=True)) == [alice.id]


def test_a_red_flag_saved_after_a_clearance_committed_is_replayed_after_it(
    patient, therapist, today
):
    """Within a day the engine replays records in the order they were recorded (created_at).
    A red flag whose save waited for the patient's lock while a therapist's clearance was
    recorded and committed is recorded after the clearance: the review it starts must stand
    (GUIDELINES: a clearance recorded before a red flag does not clear it)."""
    services.pain_entry_create(
        patient=patient, date=today - dt.timedelta(days=1), score=5, region="lower_back",
        character="ache", onset="unrelated", red_flags=["leg_numbness"],
    )  # fmt: skip
    assert PlanSnapshot.objects.get(patient=patient).phase == "medical_review"

    @contextmanager
    def clearance_while_the_red_flag_waits() -> Iterator[None]:
        with transaction.atomic():
            services.lock_patients([patient.id])
            yield  # the red flag's save is now waiting on the lock
            services.clearance_record(patient=patient, cleared_on=today, therapist=therapist)

    def red_flag() -> None:
        services.pain_entry_create(
            patient=patient, date=today, score=5, region="lower_back", character="ache",
            onset="unrelated", red_flags=["leg_weakness"],
        )  # fmt: skip

    while_the_first_holds_its_locks(clearance_while_the_red_flag_waits, red_flag)

    clearance = Clearance.objects.get(patient=patient)
    entry = PainEntry.objects.get(patient=patient, date=today)
    assert entry.created_at > clearance.created_at  # committed after it, so recorded after it
    snapshot = PlanSnapshot.objects.get(patient=patient)
    replayed = selectors.plan_for(patient=patient, on_date=today)
    assert (snapshot.phase, snapshot.escalation_level) == ("medical_review", "urgent")
    assert (replayed.phase, replayed.escalation_level) == ("medical_review", "urgent")
