"""Periodic work: the escalation sweep (reminders and email come with the jobs layer).

`run_jobs` and the Celery beat schedule call the same functions, so a foreground run and a
scheduled run do exactly the same thing. Both are idempotent.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator
from dataclasses import dataclass

from django.db import InterfaceError, OperationalError, transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import Role, User
from recovery import services
from recovery.models import Clearance, PainEntry, Workout

logger = logging.getLogger(__name__)

# A patient is swept while an episode is open or anything was recorded this recently:
# CHRONIC_3M looks back 13 weeks (91 days). One more day covers time zones ahead of UTC.
SWEEP_LOOKBACK_DAYS = 92
SWEEP_BATCH_SIZE = 200

# The database or its connection is down: no patient can be swept, so the sweep stops and
# its caller (the Celery task) retries it later. Any other error is one patient's.
UNAVAILABLE = (OperationalError, InterfaceError)


@dataclass(frozen=True)
class SweepResult:
    patients: int
    batches: int
    escalations: int
    failed: tuple[int, ...] = ()  # patients whose re-evaluation raised (logged)


def sweep_candidate_ids(*, now: dt.datetime) -> list[int]:
    since = now.date() - dt.timedelta(days=SWEEP_LOOKBACK_DAYS)
    recent = (
        Q(id__in=PainEntry.objects.filter(date__gte=since).values("patient_id"))
        | Q(id__in=Workout.objects.filter(date__gte=since).values("patient_id"))
        | Q(id__in=Clearance.objects.filter(cleared_on__gte=since).values("patient_id"))
    )
    open_episode = Q(plan_snapshot__episode_start__isnull=False)
    pending = Q(plan_snapshot__sweep_pending=True)
    patients = User.objects.filter(role=Role.PATIENT, is_active=True).filter(
        recent | open_episode | pending
    )
    return list(patients.order_by("id").values_list("id", flat=True))


def _batches(ids: list[int], size: int) -> Iterator[list[int]]:
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


def sweep(*, batch_size: int = SWEEP_BATCH_SIZE) -> SweepResult:
    """Re-evaluate every candidate as of their local today and record missing escalations.

    Each batch is its own transaction, so a failure part-way keeps the batches before it;
    running the sweep again simply finds their escalations already recorded. A batch that
    fails is retried patient by patient, so one patient's bad data (logged, and reported in
    `failed`) never keeps the others from being swept.
    """
    ids = sweep_candidate_ids(now=timezone.now())
    recorded = batches = 0
    failed: list[int] = []
    for batch in _batches(ids, batch_size):
        batches += 1
        try:
            recorded += _sweep_batch(batch)
            continue
        except UNAVAILABLE:
            raise
        except Exception:
            logger.exception("Sweep batch of %d patients failed; retrying one by one", len(batch))
        for patient_id in batch:
            try:
                recorded += _sweep_batch([patient_id])
            except UNAVAILABLE:
                raise
            except Exception:
                logger.exception("Sweep could not re-evaluate patient %d", patient_id)
                failed.append(patient_id)
    return SweepResult(
        patients=len(ids), batches=batches, escalations=recorded, failed=tuple(failed)
    )


def _sweep_batch(patient_ids: list[int]) -> int:
    """Sweep these patients in one transaction; returns how many escalations it recorded."""
    with transaction.atomic():
        # A patient deleted since the candidates were listed has nothing left to sweep (and
        # locking would give them a snapshot again).
        existing = list(User.objects.filter(id__in=patient_ids).values_list("id", flat=True))
        services.lock_patients(existing)
        # Read after the lock, like a save: a time zone changed meanwhile is the one used.
        patients = list(User.objects.filter(id__in=existing).order_by("id"))
        # The clock too is read only now, so a save committed before the lock is never older
        # than this sweep's today: the sweep cannot store an older day's plan over it.
        refreshed = services.plans_refresh(patients, sweep=True, now=timezone.now())
    return sum(len(result.new_escalations) for result in refreshed)
