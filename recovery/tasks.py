"""Celery tasks: thin wrappers that call the same job code as `manage.py run_jobs`."""

from __future__ import annotations

from celery import shared_task

from recovery import jobs


@shared_task(acks_late=True, autoretry_for=(Exception,), retry_backoff=True, max_retries=5)
def sweep_escalations() -> int:
    """Re-evaluate patients and record missing escalations; returns how many were recorded."""
    return jobs.sweep().escalations
