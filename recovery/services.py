"""Writes. Every change to a patient's history re-evaluates their plan in the same transaction.

A pain entry travels one road: view → pain_entry_create → plans_refresh (engine) → snapshot
and escalations, all committed together or not at all.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from recovery import selectors
from recovery.engine import (
    SWEEP_ONLY_RULES,
    GuidelineError,
    Plan,
    evaluate,
    guideline_with_overrides,
)
from recovery.models import (
    Activity,
    Clearance,
    ClearanceSource,
    Escalation,
    EscalationAcknowledgement,
    GuidelineOverride,
    PainEntry,
    PlanSnapshot,
    RedFlag,
    Workout,
)
from recovery.validators import check_record_date

# --- Plan refresh -----------------------------------------------------------------------


@dataclass(frozen=True)
class Refreshed:
    patient: User
    plan: Plan
    new_escalations: list[Escalation]


def plans_refresh(
    patients: Sequence[User], *, sweep: bool = False, now: dt.datetime | None = None
) -> list[Refreshed]:
    """Re-evaluate `patients` as of each one's local today; store snapshots and escalations.

    Queries grow with calls, not with patients: histories, guidelines, existing escalations,
    the snapshot upsert and the escalation insert are one query each for the whole batch.
    Only the sweep (`sweep=True`) records the rules that fire on the absence of entries.
    """
    if not patients:
        return []
    now = now or timezone.now()
    ids = [patient.id for patient in patients]
    histories = selectors.patient_histories(ids)
    guidelines = selectors.patient_guidelines(ids)
    plans = {
        patient.id: evaluate(
            histories[patient.id], now.astimezone(patient.tzinfo).date(), guidelines[patient.id]
        )
        for patient in patients
    }
    _store_snapshots(plans)
    new_rows = _record_escalations(plans, sweep=sweep, now=now)
    return [
        Refreshed(patient, plans[patient.id], new_rows.get(patient.id, [])) for patient in patients
    ]


def plan_refresh(*, patient: User, sweep: bool = False) -> Refreshed:
    return plans_refresh([patient], sweep=sweep)[0]


def _store_snapshots(plans: Mapping[int, Plan]) -> None:
    fields = [
        "evaluated_for",
        "phase",
        "stage",
        "escalation_level",
        "clearance_required",
        "episode_start",
        "last_log_date",
        "updated_at",
    ]
    now = timezone.now()
    rows = [
        PlanSnapshot(
            patient_id=patient_id,
            evaluated_for=plan.date,
            phase=plan.phase,
            stage=plan.stage,
            escalation_level=plan.escalation_level,
            clearance_required=plan.clearance_required,
            episode_start=plan.episode.start if plan.episode else None,
            last_log_date=plan.last_log_date,
            updated_at=now,
        )
        for patient_id, plan in plans.items()
    ]
    # One upsert for the batch (INSERT … ON CONFLICT DO UPDATE on both databases).
    PlanSnapshot.objects.bulk_create(
        rows, update_conflicts=True, unique_fields=["patient"], update_fields=fields
    )


def _record_escalations(
    plans: Mapping[int, Plan], *, sweep: bool, now: dt.datetime
) -> dict[int, list[Escalation]]:
    """Insert the escalations the plans raise that are not on record yet.

    Callers hold the patients' snapshot locks, so the existence check cannot race another
    writer; the unique constraint on (patient, rule, anchor) backs it up in the database.
    """
    candidates = [
        (patient_id, raised)
        for patient_id, plan in plans.items()
        for raised in plan.escalations
        if sweep or raised.rule not in SWEEP_ONLY_RULES
    ]
    if not candidates:
        return {}
    existing = set(
        Escalation.objects.filter(patient_id__in=list(plans)).values_list(
            "patient_id", "rule", "anchor"
        )
    )
    new_rows: dict[int, list[Escalation]] = {}
    for patient_id, raised in candidates:
        if (patient_id, raised.rule, raised.anchor) not in existing:
            new_rows.setdefault(patient_id, []).append(
                Escalation(
                    patient_id=patient_id,
                    rule=raised.rule,
                    level=raised.level,
                    anchor=raised.anchor,
                    anchor_date=raised.anchor_date,
                    raised_on=raised.raised_on,
                    raised_at=now,
                    open_when_recorded=raised.is_open,
                )
            )
    rows = [row for patient_rows in new_rows.values() for row in patient_rows]
    if rows:
        Escalation.objects.bulk_create(rows)
    return new_rows


def lock_patients(patient_ids: Iterable[int]) -> None:
    """Serialise writes per patient: two saves for one patient re-evaluate one after the other.

    Locks the patients' snapshot rows, creating any that are missing, so the lock also
    guarantees a snapshot exists. SQLite ignores row locks but serialises all writers anyway.
    """
    ids = sorted(set(patient_ids))
    # Always lock in id order, so two batch writers (say, overlapping sweeps) cannot deadlock.
    locked = PlanSnapshot.objects.select_for_update().filter(patient_id__in=ids).order_by("pk")
    missing = set(ids) - set(locked.values_list("pk", flat=True))
    if missing:
        today = timezone.now().date()
        PlanSnapshot.objects.bulk_create(
            [PlanSnapshot(patient_id=patient_id, evaluated_for=today) for patient_id in missing],
            ignore_conflicts=True,
        )
        list(locked.filter(patient_id__in=missing).values_list("pk", flat=True))


@contextmanager
def history_change(patient: User) -> Iterator[None]:
    """Wrap a change to `patient`'s records: lock them, let the change happen, re-evaluate.

    All in one transaction, so the change, the snapshot and any escalation it raises are
    stored together or not at all.
    """
    with transaction.atomic():
        lock_patients([patient.id])
        yield
        plan_refresh(patient=patient)


# --- Pain entries -----------------------------------------------------------------------

_PAIN_FIELDS = {"date", "score", "region", "character", "onset", "red_flags", "notes"}


def _apply_pain_fields(entry: PainEntry, fields: Mapping[str, object]) -> None:
    unknown = set(fields) - _PAIN_FIELDS
    if unknown:
        raise ValidationError({name: ["Unknown field."] for name in sorted(unknown)})
    for name, value in fields.items():
        if name == "red_flags":
            chosen = set(value)  # type: ignore[arg-type]
            for flag in RedFlag.values:
                setattr(entry, flag, flag in chosen)
        else:
            setattr(entry, name, value)
    check_record_date(entry.date, patient=entry.patient)


def pain_entry_create(
    *,
    patient: User,
    date: dt.date,
    score: int,
    region: str,
    character: str,
    onset: str,
    red_flags: Iterable[str] = (),
    notes: str = "",
) -> PainEntry:
    entry = PainEntry(patient=patient)
    _apply_pain_fields(
        entry,
        {
            "date": date,
            "score": score,
            "region": region,
            "character": character,
            "onset": onset,
            "red_flags": red_flags,
            "notes": notes,
        },
    )
    with history_change(patient):
        entry.save()
    return entry


def pain_entry_update(*, entry: PainEntry, **fields: object) -> PainEntry:
    _apply_pain_fields(entry, fields)
    with history_change(entry.patient):
        entry.save()
    return entry


def pain_entry_delete(*, entry: PainEntry) -> None:
    with history_change(entry.patient):
        entry.delete()


# --- Workouts -----------------------------------------------------------------------------

_WORKOUT_FIELDS = {"date", "activity", "duration_min", "rpe", "load_kg", "notes"}


def _apply_workout_fields(workout: Workout, fields: Mapping[str, object]) -> None:
    unknown = set(fields) - _WORKOUT_FIELDS
    if unknown:
        raise ValidationError({name: ["Unknown field."] for name in sorted(unknown)})
    for name, value in fields.items():
        setattr(workout, name, value)
    check_record_date(workout.date, patient=workout.patient)


def workout_create(
    *,
    patient: User,
    date: dt.date,
    activity: Activity,
    duration_min: int,
    rpe: int,
    load_kg: float | None = None,
    notes: str = "",
) -> Workout:
    workout = Workout(patient=patient)
    _apply_workout_fields(
        workout,
        {
            "date": date,
            "activity": activity,
            "duration_min": duration_min,
            "rpe": rpe,
            "load_kg": load_kg,
            "notes": notes,
        },
    )
    with history_change(patient):
        workout.save()
    return workout


def workout_update(*, workout: Workout, **fields: object) -> Workout:
    _apply_workout_fields(workout, fields)
    with history_change(workout.patient):
        workout.save()
    return workout


def workout_delete(*, workout: Workout) -> None:
    with history_change(workout.patient):
        workout.delete()


# --- Clearances ---------------------------------------------------------------------------


def clearance_record(
    *,
    patient: User,
    cleared_on: dt.date,
    notes: str = "",
    therapist: User | None = None,
    clinician_name: str = "",
) -> Clearance:
    """Record a clearance: by a linked therapist, or self-reported naming the clinician."""
    check_record_date(cleared_on, patient=patient, field="cleared_on")
    if therapist is None and not clinician_name.strip():
        raise ValidationError({"clinician_name": ["Name the clinician who cleared you."]})
    clearance = Clearance(
        patient=patient,
        cleared_on=cleared_on,
        notes=notes,
        therapist=therapist,
        source=ClearanceSource.THERAPIST if therapist else ClearanceSource.SELF_REPORTED,
        clinician_name=(therapist.name if therapist else clinician_name.strip()),
    )
    with history_change(patient):
        clearance.save()
    return clearance


# --- Overrides ----------------------------------------------------------------------------


def overrides_set(
    *, patient: User, values: Mapping[str, float | None], set_by: User
) -> list[GuidelineOverride]:
    """Set (or, with None, remove) per-patient guideline values; all or nothing.

    The combined result is validated against the bounds (including rest_max_days ≥
    rest_min_days) before anything is written.
    """
    current = {o.name: o.value for o in GuidelineOverride.objects.filter(patient=patient)}
    merged = {**current, **values}
    merged = {name: value for name, value in merged.items() if value is not None}
    try:
        guideline_with_overrides(merged)
    except GuidelineError as exc:
        raise ValidationError({name: [message] for name, message in exc.errors.items()}) from None
    now = timezone.now()
    with history_change(patient):
        for name, value in values.items():
            if value is None:
                GuidelineOverride.objects.filter(patient=patient, name=name).delete()
            else:
                GuidelineOverride.objects.update_or_create(
                    patient=patient,
                    name=name,
                    defaults={"value": value, "set_by": set_by, "set_at": now},
                )
    return list(selectors.overrides_of(patient=patient))


# --- Escalations --------------------------------------------------------------------------


def escalation_acknowledge(*, escalation: Escalation, therapist: User) -> EscalationAcknowledgement:
    acknowledgement, _ = EscalationAcknowledgement.objects.get_or_create(
        escalation=escalation, therapist=therapist
    )
    return acknowledgement
