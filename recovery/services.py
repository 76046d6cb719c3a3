"""Writes. Every change to a patient's history re-evaluates their plan in the same transaction.

A pain entry travels one road: view → pain_entry_create → plans_refresh (engine) → snapshot
and escalations, all committed together or not at all.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TypeVar

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from accounts.services import user_update
from backend.exceptions import RecordGone
from recovery import selectors
from recovery.engine import (
    SWEEP_ONLY_RULES,
    Checkpoint,
    Evaluation,
    GuidelineError,
    Plan,
    evaluate_resumable,
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
    RecordedModel,
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
    patients: Sequence[User],
    *,
    sweep: bool = False,
    now: dt.datetime | None = None,
    checkpoints: Mapping[int, Checkpoint | None] | None = None,
) -> list[Refreshed]:
    """Re-evaluate `patients` as of each one's local today; store snapshots and escalations.

    A patient given a usable checkpoint (see `history_change`) is replayed from it, loading
    only the records dated after it; the others are replayed in full. Either way the snapshot
    keeps a new checkpoint, of the patient's yesterday, for the next save. Queries grow with
    calls, not with patients: histories, guidelines, existing escalations, the snapshot
    upsert and the escalation insert are one query each for the batch of full replays.
    Only the sweep (`sweep=True`) records the rules that fire on the absence of entries.
    """
    if not patients:
        return []
    now = now or timezone.now()
    todays = {patient.id: now.astimezone(patient.tzinfo).date() for patient in patients}
    # Only forward: a patient who moved to a time zone behind the old one can have a "today"
    # that is the checkpoint's own day.
    resume = {
        patient_id: checkpoint
        for patient_id, checkpoint in (checkpoints or {}).items()
        if checkpoint is not None and checkpoint.day < todays[patient_id]
    }
    full = [patient_id for patient_id in todays if patient_id not in resume]
    histories = selectors.patient_histories(full) if full else {}
    guidelines = selectors.patient_guidelines(full) if full else {}
    for patient_id, checkpoint in resume.items():
        histories[patient_id] = selectors.records_after(patient_id, checkpoint.day)
        guidelines[patient_id] = checkpoint.made_with()
    evaluations = {
        patient_id: evaluate_resumable(
            histories[patient_id],
            today,
            guidelines[patient_id],
            resume=resume.get(patient_id),
            checkpoint_on=today - dt.timedelta(days=1),
        )
        for patient_id, today in todays.items()
    }
    _store_snapshots(evaluations, resumed=resume, sweep=sweep)
    # Escalations raised on or before a resumed checkpoint's day were recorded by the save
    # that made it; only the days replayed since can raise new ones.
    raised_after = {patient_id: checkpoint.day for patient_id, checkpoint in resume.items()}
    plans = {patient_id: evaluation.plan for patient_id, evaluation in evaluations.items()}
    new_rows = _record_escalations(plans, sweep=sweep, now=now, raised_after=raised_after)
    return [
        Refreshed(patient, plans[patient.id], new_rows.get(patient.id, [])) for patient in patients
    ]


_SNAPSHOT_FIELDS = [
    "evaluated_for",
    "sweep_pending",
    "phase",
    "stage",
    "escalation_level",
    "clearance_required",
    "episode_start",
    "last_log_date",
    "updated_at",
]


def _store_snapshots(
    evaluations: Mapping[int, Evaluation], *, resumed: Mapping[int, Checkpoint], sweep: bool
) -> None:
    """Upsert the snapshots; a checkpoint that is still the one the replay resumed from (a
    second save on the same day) is not written again. A save leaves the patient pending
    for the sweep; the sweep clears it."""
    now = timezone.now()
    with_checkpoint, plan_only = [], []
    for patient_id, evaluation in evaluations.items():
        plan, checkpoint = evaluation.plan, evaluation.checkpoint
        unchanged = checkpoint is not None and checkpoint is resumed.get(patient_id)
        row = PlanSnapshot(
            patient_id=patient_id,
            evaluated_for=plan.date,
            phase=plan.phase,
            stage=plan.stage,
            escalation_level=plan.escalation_level,
            clearance_required=plan.clearance_required,
            episode_start=plan.episode.start if plan.episode else None,
            last_log_date=plan.last_log_date,
            checkpoint=checkpoint.to_data() if checkpoint and not unchanged else None,
            sweep_pending=not sweep,
            updated_at=now,
        )
        (plan_only if unchanged else with_checkpoint).append(row)
    # One upsert per group (INSERT … ON CONFLICT DO UPDATE on both databases).
    for rows, fields in (
        (with_checkpoint, [*_SNAPSHOT_FIELDS, "checkpoint"]),
        (plan_only, _SNAPSHOT_FIELDS),
    ):
        if rows:
            PlanSnapshot.objects.bulk_create(
                rows, update_conflicts=True, unique_fields=["patient"], update_fields=fields
            )


def _record_escalations(
    plans: Mapping[int, Plan],
    *,
    sweep: bool,
    now: dt.datetime,
    raised_after: Mapping[int, dt.date],
) -> dict[int, list[Escalation]]:
    """Insert the escalations the plans raise that are not on record yet.

    `raised_after` limits a patient's candidates to those raised after that day. Callers
    hold the patients' snapshot locks, so the existence check cannot race another writer;
    the unique constraint on (patient, rule, anchor) backs it up in the database.
    """
    candidates = [
        (patient_id, raised)
        for patient_id, plan in plans.items()
        for raised in plan.escalations
        if (sweep or raised.rule not in SWEEP_ONLY_RULES)
        and (patient_id not in raised_after or raised.raised_on > raised_after[patient_id])
    ]
    if not candidates:
        return {}
    existing = set(
        Escalation.objects.filter(patient_id__in={patient_id for patient_id, _ in candidates})
        .order_by()
        .values_list("patient_id", "rule", "anchor")
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


def lock_patients(
    patient_ids: Iterable[int], *, read_checkpoints: bool = False
) -> dict[int, Checkpoint | None]:
    """Serialise writes per patient: two saves for one patient re-evaluate one after the other.

    Locks the patients' snapshot rows, creating any that are missing, so the lock also
    guarantees a snapshot exists. With `read_checkpoints`, returns each patient's stored
    checkpoint (else None for each). SQLite ignores row locks but serialises all writers.
    """
    ids = sorted(set(patient_ids))
    # Always lock in id order, so two batch writers (say, overlapping sweeps) cannot deadlock.
    locked = PlanSnapshot.objects.select_for_update().filter(patient_id__in=ids).order_by("pk")
    if read_checkpoints:
        stored = {
            patient_id: Checkpoint.from_data(data)
            for patient_id, data in locked.values_list("pk", "checkpoint")
        }
    else:
        stored = dict.fromkeys(locked.values_list("pk", flat=True))
    missing = set(ids) - set(stored)
    if missing:
        today = timezone.now().date()
        PlanSnapshot.objects.bulk_create(
            [PlanSnapshot(patient_id=patient_id, evaluated_for=today) for patient_id in missing],
            ignore_conflicts=True,
        )
        list(locked.filter(patient_id__in=missing).values_list("pk", flat=True))
        stored.update(dict.fromkeys(missing))
    return stored


class HistoryChange:
    """The dates of the records a change adds, moves or removes: given to `history_change`
    up front, or told with `touches` once the lock is held and the rows are read afresh."""

    def __init__(self, dated: Collection[dt.date]) -> None:
        self.dates = list(dated)

    def touches(self, *dates: dt.date) -> None:
        self.dates.extend(dates)


@contextmanager
def history_change(patient: User, *, dated: Collection[dt.date] = ()) -> Iterator[HistoryChange]:
    """Wrap a change to `patient`'s records: lock them, let the change happen, re-evaluate.

    All in one transaction, so the change, the snapshot and any escalation it raises are
    stored together or not at all. When every date the change touches comes after the
    stored checkpoint's day, the re-evaluation resumes from the checkpoint. A change that
    touches no date (an override, an admin edit) replays the whole history.
    """
    with transaction.atomic():
        checkpoint = lock_patients([patient.id], read_checkpoints=True)[patient.id]
        _time_zones_as_stored([patient])
        change = HistoryChange(dated)
        yield change
        if not change.dates or checkpoint is None or min(change.dates) <= checkpoint.day:
            checkpoint = None
        plans_refresh([patient], checkpoints={patient.id: checkpoint})


@contextmanager
def histories_change(patients: Iterable[User]) -> Iterator[None]:
    """Like `history_change` for any number of patients (say, a record moved from one to
    another), replaying each in full: lock them, let the change happen, re-evaluate."""
    ordered = sorted({patient.id: patient for patient in patients}.values(), key=lambda p: p.id)
    with transaction.atomic():
        lock_patients([patient.id for patient in ordered])
        _time_zones_as_stored(ordered)
        yield
        plans_refresh(ordered)


def _time_zones_as_stored(patients: Sequence[User]) -> None:
    """Call under the patients' lock. The caller loaded them before it, and a change of time
    zone committed meanwhile (it takes the same lock) moves each one's today: which dates
    they may log, and the day the plan is for."""
    stored = dict(
        User.objects.filter(id__in=[patient.id for patient in patients]).values_list(
            "id", "timezone"
        )
    )
    for patient in patients:
        patient.timezone = stored.get(patient.id, patient.timezone)


_Record = TypeVar("_Record", PainEntry, Workout)


def _record_create(
    record: _Record,
    fields: Mapping[str, object],
    apply: Callable[[_Record, Mapping[str, object]], None],
) -> _Record:
    """Apply `fields` to the new record and save it. Applied under the lock, so the date is
    checked against the patient's today as stored then (see `_time_zones_as_stored`), and
    the record is stamped recorded then (see `stamp_if_recorded_anew`)."""
    with history_change(record.patient, dated=[fields["date"]]):  # type: ignore[list-item]
        apply(record, fields)
        stamp_if_recorded_anew(record)
        record.save()
    return record


def stamp_if_recorded_anew(record: object, *, changed: Collection[str] | None = None) -> None:
    """Call under the patient's lock, just before saving `record` (new when `changed` is
    None, else the names of the fields an edit changed): set `created_at`, the recorded
    order the engine replays within a day, to now for a new record and for a pain entry
    whose report changed (`PAIN_REPORTED_FIELDS`) or that moved to another patient.

    The model's default is the moment the row was built, before the request waited for the
    lock: a request that built its row earlier but took the lock later (a red flag saved
    just after a clearance committed) would be replayed before a record that committed first.
    """
    if not isinstance(record, RecordedModel):
        return
    if changed is None or (
        isinstance(record, PainEntry) and not {"patient", *PAIN_REPORTED_FIELDS}.isdisjoint(changed)
    ):
        record.created_at = timezone.now()


def _record_update(
    record: _Record,
    fields: Mapping[str, object],
    apply: Callable[[_Record, Mapping[str, object]], None],
) -> _Record:
    """Apply `fields` (with `apply`) to the record as stored under the lock, and return it."""
    with history_change(record.patient) as change:
        record = _as_stored(record)
        change.touches(record.date)
        before = _field_values(record)
        apply(record, fields)
        after = _field_values(record)
        stamp_if_recorded_anew(
            record, changed=[name for name in after if after[name] != before[name]]
        )
        change.touches(record.date)
        record.save()
    return record


def _record_delete(record: _Record) -> None:
    with history_change(record.patient) as change:
        record = _as_stored(record)
        change.touches(record.date)
        record.delete()


def _field_values(record: RecordedModel) -> dict[str, object]:
    return {field.name: getattr(record, field.attname) for field in record._meta.concrete_fields}


def _check_date_sent(record: _Record, fields: Mapping[str, object]) -> None:
    """Check the date only when the change sets it: a note added to an entry now more than
    365 days old, or dated the patient's "tomorrow" since they moved west, is still fine."""
    if "date" in fields:
        check_record_date(record.date, patient=record.patient)


def _as_stored(record: _Record) -> _Record:
    """`record` as stored now; call it under the patient's lock. The caller loaded it before
    the lock, and a request holding the lock meanwhile may have moved or removed it."""
    stored = type(record).objects.filter(pk=record.pk, patient_id=record.patient_id).first()
    if stored is None:
        raise RecordGone(f"{type(record).__name__} {record.pk} no longer exists.")
    stored.patient = record.patient  # the same patient, already loaded
    return stored


def checkpoints_forget() -> int:
    """Drop every patient's checkpoint, so each next save replays in full, and leave every
    patient pending for the next sweep, which replays them all.

    For a change that alters the meaning of every history at once (an activity moved to
    another category): a checkpoint and a snapshot hold what the replay concluded from the
    old meaning.
    """
    return PlanSnapshot.objects.update(checkpoint=None, sweep_pending=True)


# --- Pain entries -----------------------------------------------------------------------

_PAIN_FIELDS = {"date", "score", "region", "character", "onset", "red_flags", "notes"}
# What the rules read of an entry. An edit to any of these reports the pain anew, so it is
# recorded at the edit: GUIDELINES orders a day's records by when they were recorded, and a
# red flag added to this morning's entry after a clearance was recorded after it, so that
# clearance must not clear it (the safer reading). An edit of the notes or region alone
# keeps the entry's place.
PAIN_REPORTED_FIELDS = ("date", "score", "character", "onset", *RedFlag.values)


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
    _check_date_sent(entry, fields)


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
    fields = {
        "date": date,
        "score": score,
        "region": region,
        "character": character,
        "onset": onset,
        "red_flags": red_flags,
        "notes": notes,
    }
    return _record_create(PainEntry(patient=patient), fields, _apply_pain_fields)


def pain_entry_update(*, entry: PainEntry, **fields: object) -> PainEntry:
    return _record_update(entry, fields, _apply_pain_fields)


def pain_entry_delete(*, entry: PainEntry) -> None:
    _record_delete(entry)


# --- Workouts -----------------------------------------------------------------------------

_WORKOUT_FIELDS = {"date", "activity", "duration_min", "rpe", "load_kg", "notes"}


def _apply_workout_fields(workout: Workout, fields: Mapping[str, object]) -> None:
    unknown = set(fields) - _WORKOUT_FIELDS
    if unknown:
        raise ValidationError({name: ["Unknown field."] for name in sorted(unknown)})
    for name, value in fields.items():
        setattr(workout, name, value)
    _check_date_sent(workout, fields)


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
    fields = {
        "date": date,
        "activity": activity,
        "duration_min": duration_min,
        "rpe": rpe,
        "load_kg": load_kg,
        "notes": notes,
    }
    return _record_create(Workout(patient=patient), fields, _apply_workout_fields)


def workout_update(*, workout: Workout, **fields: object) -> Workout:
    return _record_update(workout, fields, _apply_workout_fields)


def workout_delete(*, workout: Workout) -> None:
    _record_delete(workout)


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
    with history_change(patient, dated=[cleared_on]):
        check_record_date(cleared_on, patient=patient, field="cleared_on")  # today as stored
        stamp_if_recorded_anew(clearance)
        clearance.save()
    return clearance


# --- Settings -----------------------------------------------------------------------------


def patient_update(*, patient: User, **fields: object) -> User:
    """A patient's own settings (PATCH /me/). A new time zone moves their today, so the plan
    is re-evaluated for it at once."""
    with transaction.atomic():
        user_update(user=patient, **fields)
        if "timezone" in fields:
            plan_reevaluate(patient=patient)
    return patient


def plan_reevaluate(*, patient: User) -> None:
    """Replay the patient's whole history for their today, under their lock: after a change
    outside their records that moves their today (a new time zone). A save waiting on the
    lock meanwhile then reads the new zone."""
    with history_change(patient):
        pass


# --- Overrides ----------------------------------------------------------------------------


def overrides_set(
    *, patient: User, values: Mapping[str, float | None], set_by: User
) -> list[GuidelineOverride]:
    """Set (or, with None, remove) per-patient guideline values; all or nothing.

    The combined result is validated against the bounds (including rest_max_days ≥
    rest_min_days) before anything is written.
    """
    now = timezone.now()
    # Checked under the patient's lock, against what is stored then: two edits at once
    # (rest_min_days up, rest_max_days down) cannot together store a pair neither allows.
    with history_change(patient):
        stored = GuidelineOverride.objects.filter(patient=patient).exclude(name__in=list(values))
        kept = dict(stored.values_list("name", "value"))
        sent = {name: value for name, value in values.items() if value is not None}
        try:
            # The values sent over those that stay, so that an error names a value sent.
            guideline_with_overrides(sent, base=guideline_with_overrides(kept))
        except GuidelineError as exc:
            errors = {name: [message] for name, message in exc.errors.items()}
            raise ValidationError(errors) from None
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
