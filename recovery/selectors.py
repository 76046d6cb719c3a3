"""Reads shared by views, services and jobs."""

from __future__ import annotations

import datetime as dt
import functools
import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import connection
from django.db.models import QuerySet

from accounts.models import User
from recovery.db import EpochSeconds
from recovery.engine import (
    Guideline,
    GuidelineError,
    Plan,
    Rule,
    evaluate,
    guideline_with_overrides,
)
from recovery.engine.inputs import Clearance as ClearanceInput
from recovery.engine.inputs import History
from recovery.engine.inputs import PainEntry as PainEntryInput
from recovery.engine.inputs import Workout as WorkoutInput
from recovery.engine.texts import when
from recovery.models import (
    Clearance,
    Escalation,
    GuidelineOverride,
    PainEntry,
    Phase,
    RedFlag,
    Workout,
)

logger = logging.getLogger(__name__)

_PAIN_COLUMNS = ("patient_id", "id", "date", "score", "region", "character", "onset")
_RED_FLAG_COLUMNS = tuple(RedFlag.values)


@functools.cache
def _red_flag_set(columns: tuple[bool, ...]) -> frozenset[str]:
    """The red flags set in a row's boolean columns (64 combinations, so cached)."""
    return frozenset(
        flag for flag, is_set in zip(_RED_FLAG_COLUMNS, columns, strict=True) if is_set
    )


def patient_histories(patient_ids: Iterable[int]) -> dict[int, History]:
    """The engine's input for each patient, in three queries whatever the number of patients.

    Only the columns the engine reads are loaded (no notes, no model instances).
    """
    ids = list(patient_ids)
    pains: dict[int, list[PainEntryInput]] = defaultdict(list)
    workouts: dict[int, list[WorkoutInput]] = defaultdict(list)
    clearances: dict[int, list[ClearanceInput]] = defaultdict(list)

    pain_rows = (
        PainEntry.objects.filter(patient_id__in=ids)
        .order_by()  # the engine sorts; the database need not
        .values_list(*_PAIN_COLUMNS, *_RED_FLAG_COLUMNS, EpochSeconds("created_at"))
    )
    for row in pain_rows:
        patient_id, entry_id, date, score, region, character, onset = row[:7]
        flags = _red_flag_set(row[7:-1])
        pains[patient_id].append(
            PainEntryInput(entry_id, date, score, region, character, onset, flags, row[-1])
        )

    workout_rows = Workout.objects.filter(patient_id__in=ids).order_by().values_list(
        "patient_id", "id", "date", "activity_id", "activity__category", "duration_min", "rpe",
        EpochSeconds("created_at"),
    )  # fmt: skip
    for patient_id, *fields in workout_rows:
        workouts[patient_id].append(WorkoutInput(*fields))

    clearance_rows = (
        Clearance.objects.filter(patient_id__in=ids)
        .order_by()
        .values_list("patient_id", "id", "cleared_on", EpochSeconds("created_at"))
    )
    for patient_id, *fields in clearance_rows:
        clearances[patient_id].append(ClearanceInput(*fields))

    return {
        patient_id: History(
            pain_entries=tuple(pains[patient_id]),
            workouts=tuple(workouts[patient_id]),
            clearances=tuple(clearances[patient_id]),
        )
        for patient_id in ids
    }


# The records dated after a day, from the three tables in one statement. Every save runs it
# (to resume the replay from the patient's checkpoint), and it usually finds a row or two:
# the ORM's three querysets cost several times the round trip (bench/write_path.py), so
# this one is SQL. Columns: kind, id, date, recorded, then the kind's own fields.
_RECORDS_AFTER_SQL = """
SELECT 'pain', id, date, {recorded}, score, region, "character", onset, NULL,
       bowel_bladder, saddle_numbness, leg_paralysis, leg_numbness, leg_weakness, night_pain
  FROM recovery_painentry WHERE patient_id = %s AND date > %s
UNION ALL
SELECT 'workout', w.id, w.date, {workout_recorded}, w.rpe, w.activity_id, a.category, NULL,
       w.duration_min, NULL, NULL, NULL, NULL, NULL, NULL
  FROM recovery_workout w JOIN recovery_activity a ON a.slug = w.activity_id
 WHERE w.patient_id = %s AND w.date > %s
UNION ALL
SELECT 'clearance', id, cleared_on, {recorded}, NULL, NULL, NULL, NULL,
       NULL, NULL, NULL, NULL, NULL, NULL, NULL
  FROM recovery_clearance WHERE patient_id = %s AND cleared_on > %s
"""


def _as_date(value: dt.date | str) -> dt.date:
    # SQLite hands back the dates of a compound SELECT as text.
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(value)


@functools.cache
def _records_after_sql(vendor: str) -> str:
    return _RECORDS_AFTER_SQL.format(
        recorded=EpochSeconds.sql(vendor, "created_at"),
        workout_recorded=EpochSeconds.sql(vendor, "w.created_at"),
    )


def records_after(patient_id: int, day: dt.date) -> History:
    """The patient's records dated after `day`: what a replay resuming from a checkpoint of
    `day` reads (engine/checkpoint.py)."""
    sql = _records_after_sql(connection.vendor)
    after = connection.ops.adapt_datefield_value(day)
    with connection.cursor() as cursor:
        cursor.execute(sql, [patient_id, after] * 3)
        rows = cursor.fetchall()
    pains, workouts, clearances = [], [], []
    for kind, record_id, date, recorded, *fields in rows:
        date = _as_date(date)
        if kind == "pain":
            score, region, character, onset, _, *flags = fields
            pains.append(
                PainEntryInput(record_id, date, score, region, character, onset,
                               _red_flag_set(tuple(map(bool, flags))), recorded)
            )  # fmt: skip
        elif kind == "workout":
            rpe, activity, category, _, duration = fields[:5]
            workouts.append(
                WorkoutInput(record_id, date, activity, category, duration, rpe, recorded)
            )
        else:
            clearances.append(ClearanceInput(record_id, date, recorded))
    return History(tuple(pains), tuple(workouts), tuple(clearances))


def patient_guidelines(patient_ids: Iterable[int]) -> dict[int, Guideline]:
    """Each patient's guideline: the defaults with their therapist's overrides applied."""
    ids = list(patient_ids)
    overrides: dict[int, dict[str, float]] = defaultdict(dict)
    rows = GuidelineOverride.objects.filter(patient_id__in=ids).order_by()
    for patient_id, name, value in rows.values_list("patient_id", "name", "value"):
        overrides[patient_id][name] = value
    return {patient_id: _guideline_of(patient_id, overrides[patient_id]) for patient_id in ids}


def _guideline_of(patient_id: int, overrides: dict[str, float]) -> Guideline:
    """The guideline with these overrides, leaving out any that fail together.

    Each stored value is within its bounds (a CHECK constraint), but only the services check
    pairs (rest_max_days ≥ rest_min_days). A pair stored behind their back must not stop
    the patient's plan: the failing values give way to the defaults, and it is logged.
    """
    if not overrides:
        return Guideline()
    try:
        return guideline_with_overrides(overrides)
    except GuidelineError as exc:
        logger.error(
            "Patient %d has overrides that fail together, not applied: %s", patient_id, exc
        )
        kept = {name: value for name, value in overrides.items() if name not in exc.errors}
    try:
        return guideline_with_overrides(kept)
    except GuidelineError:
        return Guideline()


def plan_for(*, patient: User, on_date: dt.date) -> Plan:
    """The plan on any date, replayed from the history (nothing is stored)."""
    history = patient_histories([patient.id])[patient.id]
    guideline = patient_guidelines([patient.id])[patient.id]
    return evaluate(history, on_date, guideline)


@dataclass(frozen=True)
class ClearanceEffect:
    """What a clearance did to the plan of its date."""

    cleared: bool
    """True when the plan on `cleared_on` is the return to exercise that CLEARANCE began."""
    phase: str
    stage: int | None
    text: str


def clearance_effect(*, patient: User, cleared_on: dt.date) -> ClearanceEffect:
    """Read back the plan of a clearance's date, so the person who recorded it learns at once
    when it changed nothing (GUIDELINES: one outside medical_review changes nothing)."""
    plan = plan_for(patient=patient, on_date=cleared_on)
    # Dates as the plan's own sentences write them, for a patient may read this too.
    day = when(cleared_on.toordinal())
    began = when(plan.date.toordinal() - (plan.day_in_phase or 1) + 1)
    if (
        plan.phase == Phase.RETURN
        and plan.day_in_phase == 1
        and Rule.CLEARANCE in {item.rule for item in plan.reasons}
    ):
        text = f"Cleared: from {day} the plan is the return to exercise, stage {plan.stage}."
        return ClearanceEffect(True, plan.phase, plan.stage, text)
    if plan.phase == Phase.MEDICAL_REVIEW:
        text = (
            f"This clearance did not end the medical review: on {day} the plan is still "
            f"medical review (since {began}). A review that begins on the "
            "clearance's own date by an over-long rest or persisting pain (REST_MAX, "
            "PERSIST_14D), or by a red flag recorded after the clearance, needs a clearance "
            "dated the next day or recorded after it."
        )
    else:
        text = (
            f"This clearance changed nothing: on {day} the patient was not in medical review "
            f"(the plan was {plan.phase}), and a clearance only ends a medical review."
        )
    return ClearanceEffect(False, plan.phase, plan.stage, text)


def overrides_of(*, patient: User) -> QuerySet[GuidelineOverride]:
    return GuidelineOverride.objects.filter(patient=patient).select_related("set_by")


def escalations_visible_to(*, user: User) -> QuerySet[Escalation]:
    """A patient's own escalations; for a therapist, those of every linked patient."""
    if user.is_therapist:
        return Escalation.objects.filter(
            patient__therapist_links__therapist=user,
            patient__therapist_links__ended_at__isnull=True,
        ).select_related("patient")
    return Escalation.objects.filter(patient=user).select_related("patient")
