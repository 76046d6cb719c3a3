"""Two writers for one patient re-evaluate one after the other (real PostgreSQL row locks)."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from recovery import selectors, services
from recovery.models import GuidelineOverride, PainEntry, PlanSnapshot
from tests.services import needs_service


@pytest.mark.django_db(transaction=True)
def test_a_save_waits_for_the_patients_lock_and_then_sees_the_other_write(patient, today):
    needs_service("PostgreSQL", connection.vendor == "postgresql")
    first_has_lock, first_may_commit = threading.Event(), threading.Event()
    order: list[str] = []

    def first_writer() -> None:
        with services.history_change(patient):
            PainEntry.objects.create(
                patient=patient, date=today, score=8, region="neck", character="sharp",
                onset="during_exercise",
            )  # fmt: skip
            first_has_lock.set()
            first_may_commit.wait(timeout=10)
            order.append("first committed")
        connection.close()

    def second_writer() -> None:
        first_has_lock.wait(timeout=10)
        services.pain_entry_create(
            patient=patient, date=today, score=1, region="neck", character="ache", onset="unrelated"
        )
        order.append("second committed")
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

    assert order == ["first committed", "second committed"]
    # The second re-evaluation saw the first entry: the acute onset put the patient in rest.
    snapshot = PlanSnapshot.objects.get(patient=patient)
    assert (snapshot.phase, snapshot.escalation_level) == ("rest", "see_doctor")
    assert PainEntry.objects.filter(patient=patient).count() == 2


@pytest.mark.django_db(transaction=True)
def test_two_override_edits_at_once_cannot_store_a_pair_neither_allows(patient, therapist):
    """rest_min_days 14 and rest_max_days 7 are each fine alone, not together: the second
    edit is checked under the lock against the first, and refused as bad input."""
    needs_service("PostgreSQL", connection.vendor == "postgresql")
    first_has_lock, first_may_commit = threading.Event(), threading.Event()
    outcome: dict[str, object] = {}

    def first_editor() -> None:
        with services.history_change(patient):
            services.overrides_set(patient=patient, values={"rest_min_days": 14}, set_by=therapist)
            first_has_lock.set()
            first_may_commit.wait(timeout=10)
        connection.close()

    def second_editor() -> None:
        first_has_lock.wait(timeout=10)
        try:
            services.overrides_set(patient=patient, values={"rest_max_days": 7}, set_by=therapist)
            outcome["second"] = "stored"
        except ValidationError as exc:
            outcome["second"] = exc.message_dict
        connection.close()

    threads = [threading.Thread(target=first_editor), threading.Thread(target=second_editor)]
    for thread in threads:
        thread.start()
    first_has_lock.wait(timeout=10)
    threads[1].join(timeout=0.5)
    assert threads[1].is_alive()  # waiting for the patient's lock
    first_may_commit.set()
    for thread in threads:
        thread.join(timeout=10)

    assert outcome["second"] == {
        "rest_max_days": ["rest_max_days (7) must be at least rest_min_days (14)"]
    }
    stored = dict(GuidelineOverride.objects.filter(patient=patient).values_list("name", "value"))
    assert stored == {"rest_min_days": 14}


@pytest.mark.parametrize("second", ["delete", "patch score"])
@pytest.mark.django_db(transaction=True)
def test_an_edit_loaded_before_another_moved_the_record_acts_on_the_row_as_stored(
    patient, today, second
):
    """The second request loaded the entry (dated today) before the first moved it to two
    days ago; under the lock it must act on the stored row, and re-evaluate from there."""
    needs_service("PostgreSQL", connection.vendor == "postgresql")
    entry = services.pain_entry_create(
        patient=patient, date=today, score=8, region="neck", character="sharp",
        onset="during_exercise",
    )  # fmt: skip
    loaded_early = PainEntry.objects.select_related("patient").get(pk=entry.pk)
    moved_to = today - dt.timedelta(days=2)
    first_has_lock, first_may_commit = threading.Event(), threading.Event()

    def first_writer() -> None:
        with services.history_change(patient) as change:
            PainEntry.objects.filter(pk=entry.pk).update(date=moved_to)
            change.touches(today, moved_to)
            first_has_lock.set()
            first_may_commit.wait(timeout=10)
        connection.close()

    def second_writer() -> None:
        first_has_lock.wait(timeout=10)
        if second == "delete":
            services.pain_entry_delete(entry=loaded_early)
        else:
            services.pain_entry_update(entry=loaded_early, score=1)
        connection.close()

    threads = [threading.Thread(target=first_writer), threading.Thread(target=second_writer)]
    for thread in threads:
        thread.start()
    first_has_lock.wait(timeout=10)
    threads[1].join(timeout=0.5)
    assert threads[1].is_alive()
    first_may_commit.set()
    for thread in threads:
        thread.join(timeout=10)

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
