"""Periodic work: the escalation sweep (reminders and email come with the jobs layer).

`run_jobs` and the Celery beat schedule call the same functions, so a foreground run and a
scheduled run do exactly the same thing. Both are idempotent.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import Role, User
from recovery import services
from recovery.models import Clearance, PainEntry, Workout

# A patient is swept while an episode is open or anything was recorded this recently:
# CHRONIC_3M looks back 13 weeks (91 days). One more day covers time zones ahead of UTC.
SWEEP_LOOKBACK_DAYS = 92
SWEEP_BATCH_SIZE = 200


@dataclass(frozen=True)
class SweepResult:
    patients: int
    batches: int
    escalations: int


def sweep_candidate_ids(*, now: dt.datetime) -> list[int]:
    since = now.date() - dt.timedelta(days=SWEEP_LOOKBACK_DAYS)
    recent = (
        Q(id__in=PainEntry.objects.filter(date__gte=since).values("patient_id"))
        | Q(id__in=Workout.objects.filter(date__gte=since).values("patient_id"))
        | Q(id__in=Clearance.objects.filter(cleared_on__gte=since).values("patient_id"))
    )
    open_episode = Q(plan_snapshot__episode_start__isnull=False)
    patients = User.objects.filter(role=Role.PATIENT, is_active=True).filter(recent | open_episode)
    return list(patients.order_by("id").values_list("id", flat=True))


def _batches(ids: list[int], size: int) -> Iterator[list[int]]:
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


def sweep(*, now: dt.datetime | None = None, batch_size: int = SWEEP_BATCH_SIZE) -> SweepResult:
    """Re-evaluate every candidate as of their local today and record missing escalations.

    Each batch is its own transaction, so a failure part-way keeps the batches before it;
    running the sweep again simply finds their escalations already recorded.
    """
    now = now or timezone.now()
    ids = sweep_candidate_ids(now=now)
    recorded = batches = 0
    for batch in _batches(ids, batch_size):
        with transaction.atomic():
            services.lock_patients(batch)
            patients = list(User.objects.filter(id__in=batch).order_by("id"))
            refreshed = services.plans_refresh(patients, sweep=True, now=now)
        recorded += sum(len(result.new_escalations) for result in refreshed)
        batches += 1
    return SweepResult(patients=len(ids), batches=batches, escalations=recorded)
