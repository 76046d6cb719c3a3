"""Random sequences of saves, edits, deletions, clearances, overrides, sweeps and days passing
(hypothesis.stateful), through the services: after every write or sweep the stored snapshot
is the plan a full replay of the whole history gives, and every escalation that replay raises
is on record, once.

Set REBOUND_STATEFUL_EXAMPLES (say, 300) to hunt for what the usual examples miss.
"""

from __future__ import annotations

import datetime as dt
import os

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import transaction
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    initialize,
    rule,
    run_state_machine_as_test,
)

from accounts.models import CareLink, Role
from recovery import jobs, selectors, services
from recovery.engine import DEFAULT_GUIDELINE, OVERRIDE_BOUNDS, SWEEP_ONLY_RULES, Plan
from recovery.engine.inputs import ACTIVITIES
from recovery.models import Activity, Character, Escalation, Onset, PlanSnapshot, RedFlag
from tests.conftest import make_user

pytestmark = pytest.mark.django_db

START = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
EXAMPLES = int(os.environ.get("REBOUND_STATEFUL_EXAMPLES", "30"))
ZONES = ("UTC", "Pacific/Kiritimati", "America/Los_Angeles", "Asia/Kolkata")
SNAPSHOT_FIELDS = (
    "phase",
    "stage",
    "escalation_level",
    "clearance_required",
    "last_log_date",
    "episode_start",
)

# Days before the patient's local today: often today, sometimes back-filled up to 20 days.
DAYS_BACK = st.one_of(st.just(0), st.integers(0, 2), st.integers(0, 20))
# A red flag on about one entry in twenty: each one sends the patient to review, where an
# example would otherwise spend most of its steps.
RED_FLAGS = st.one_of(*[st.just(())] * 19, st.tuples(st.sampled_from(RedFlag.values)))
# Mostly mild scores, so that rests end and returns go on; sometimes anything.
SCORES = st.one_of(st.integers(0, 3), st.integers(0, 3), st.integers(0, 10))


def _override_values(name: str) -> st.SearchStrategy:
    low, high = OVERRIDE_BOUNDS[name]
    if isinstance(getattr(DEFAULT_GUIDELINE, name), int):
        values = st.integers(int(low), int(high))
    else:
        values = st.sampled_from((low, 0.1, 0.15, high))
    return st.none() | values  # None clears the override


# (name, value or None); rest_max_days may fail against rest_min_days, which must refuse it.
OVERRIDES = st.sampled_from(sorted(OVERRIDE_BOUNDS)).flatmap(
    lambda name: st.tuples(st.just(name), _override_values(name))
)


def _stored(snapshot: PlanSnapshot) -> dict:
    return {field: getattr(snapshot, field) for field in SNAPSHOT_FIELDS}


def _replayed(plan: Plan) -> dict:
    return {
        "phase": plan.phase,
        "stage": plan.stage,
        "escalation_level": plan.escalation_level,
        "clearance_required": plan.clearance_required,
        "last_log_date": plan.last_log_date,
        "episode_start": plan.episode.start if plan.episode else None,
    }


class SavesAndSweeps(RuleBasedStateMachine):
    """One patient (fresh per example, in a savepoint rolled back afterwards), a linked
    therapist, and a frozen clock that only `time_passes` and `log_days` move."""

    entries = Bundle("entries")
    workouts = Bundle("workouts")

    def __init__(self) -> None:
        super().__init__()
        self._savepoint = transaction.atomic()
        self._savepoint.__enter__()
        self._travel = time_machine.travel(START, tick=False)
        self.clock = self._travel.start()
        self.overrides: dict[str, int | float] = {}

    def teardown(self) -> None:
        self._travel.stop()
        transaction.set_rollback(True)
        self._savepoint.__exit__(None, None, None)

    @initialize(zone=st.sampled_from(ZONES), short_stages=st.booleans())
    def patient_and_therapist(self, zone: str, short_stages: bool) -> None:
        self.therapist = make_user("theo@clinic.test", role=Role.THERAPIST, name="Theo")
        self.patient = make_user("alice@example.test", name="Alice", tz=zone)
        CareLink.objects.create(therapist=self.therapist, patient=self.patient)
        self.activities = {activity.slug: activity for activity in Activity.objects.all()}
        if short_stages:  # the shortest rest and stages, so that an example sees them end
            self.overrides = {"rest_min_days": 3, "stage_days": 7}
            services.overrides_set(
                patient=self.patient, values=self.overrides, set_by=self.therapist
            )
            self.check_write()

    def day(self, back: int) -> dt.date:
        return self.patient.local_today() - dt.timedelta(days=back)

    def check(self, *, swept: bool = False) -> None:
        """The invariants: (1) stored snapshot == full replay of today; (2) every escalation
        that replay raises is on record (the sweep-only ones after a sweep); (3) once."""
        today = self.patient.local_today()
        plan = selectors.plan_for(patient=self.patient, on_date=today)
        snapshot = PlanSnapshot.objects.get(patient=self.patient)
        assert _stored(snapshot) == _replayed(plan)
        recorded = list(
            Escalation.objects.filter(patient=self.patient).values_list("rule", "anchor")
        )
        assert len(recorded) == len(set(recorded)), sorted(recorded)
        due = {
            (raised.rule, raised.anchor)
            for raised in plan.escalations
            if swept or raised.rule not in SWEEP_ONLY_RULES
        }
        missing = due - set(recorded)
        assert not missing, f"raised by the replay but not on record: {sorted(missing)}"

    def check_write(self) -> None:
        assert PlanSnapshot.objects.get(patient=self.patient).evaluated_for == (
            self.patient.local_today()
        )
        self.check()

    @rule(hours=st.integers(0, 72))
    def time_passes(self, hours: int) -> None:
        self.clock.shift(dt.timedelta(hours=hours))

    @rule(
        target=entries,
        back=DAYS_BACK,
        score=SCORES,
        character=st.sampled_from(Character.values),
        onset=st.sampled_from(Onset.values),
        red_flags=RED_FLAGS,
    )
    def log_pain(self, back, score, character, onset, red_flags):
        entry = services.pain_entry_create(
            patient=self.patient,
            date=self.day(back),
            score=score,
            region="lower_back",
            character=character,
            onset=onset,
            red_flags=red_flags,
        )
        self.check_write()
        return entry

    @rule(
        days=st.integers(1, 7),
        score=st.one_of(st.integers(0, 2), st.integers(0, 6)),
        character=st.sampled_from(Character.values),
    )
    def log_days(self, days: int, score: int, character: str) -> None:
        """Day after day, one entry a day: the streaks, rests and stages that time builds."""
        for _ in range(days):
            self.clock.shift(dt.timedelta(days=1))
            services.pain_entry_create(
                patient=self.patient,
                date=self.day(0),
                score=score,
                region="lower_back",
                character=character,
                onset="unrelated",
            )
            self.check_write()

    @rule(entry=entries, score=st.none() | st.integers(0, 10), back=st.none() | DAYS_BACK)
    def edit_pain(self, entry, score, back) -> None:
        fields = {} if score is None else {"score": score}
        if back is not None:
            fields["date"] = self.day(back)
        services.pain_entry_update(entry=entry, **fields)
        self.check_write()

    @rule(entry=consumes(entries))
    def delete_pain(self, entry) -> None:
        services.pain_entry_delete(entry=entry)
        self.check_write()

    @rule(
        target=workouts,
        back=DAYS_BACK,
        activity=st.sampled_from([activity.slug for activity in ACTIVITIES]),
        duration=st.integers(5, 120),
        rpe=st.integers(0, 10),
    )
    def log_workout(self, back, activity, duration, rpe):
        workout = services.workout_create(
            patient=self.patient,
            date=self.day(back),
            activity=self.activities[activity],
            duration_min=duration,
            rpe=rpe,
        )
        self.check_write()
        return workout

    @rule(workout=workouts, rpe=st.none() | st.integers(0, 10), back=st.none() | DAYS_BACK)
    def edit_workout(self, workout, rpe, back) -> None:
        fields = {} if rpe is None else {"rpe": rpe}
        if back is not None:
            fields["date"] = self.day(back)
        services.workout_update(workout=workout, **fields)
        self.check_write()

    @rule(workout=consumes(workouts))
    def delete_workout(self, workout) -> None:
        services.workout_delete(workout=workout)
        self.check_write()

    @rule(back=st.integers(0, 3))
    def clearance(self, back: int) -> None:
        services.clearance_record(
            patient=self.patient, cleared_on=self.day(back), therapist=self.therapist
        )
        self.check_write()

    @rule(change=OVERRIDES)
    def override(self, change: tuple[str, int | float | None]) -> None:
        name, value = change
        merged = {**self.overrides, name: value}
        merged = {key: number for key, number in merged.items() if number is not None}
        rest_min = merged.get("rest_min_days", DEFAULT_GUIDELINE.rest_min_days)
        if merged.get("rest_max_days", DEFAULT_GUIDELINE.rest_max_days) < rest_min:
            with pytest.raises(ValidationError):
                services.overrides_set(
                    patient=self.patient, values={name: value}, set_by=self.therapist
                )
            return  # nothing written: the snapshot may be of an earlier day
        services.overrides_set(patient=self.patient, values={name: value}, set_by=self.therapist)
        self.overrides = merged
        self.check_write()

    @rule()
    def sweep(self) -> None:
        assert jobs.sweep().failed == ()
        if PlanSnapshot.objects.filter(patient=self.patient).exists():  # else nothing written
            self.check(swept=True)


def test_every_write_and_sweep_stores_what_a_full_replay_gives() -> None:
    run_state_machine_as_test(
        SavesAndSweeps,
        settings=settings(
            max_examples=EXAMPLES,
            stateful_step_count=25,
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),  # built here, after --hypothesis-profile=ci is loaded: it keeps derandomize
    )
