"""The configured database, cache and Celery broker are the real ones, and they work.

Under CI's REQUIRE_SERVICES=1 run, DATABASE_URL and REDIS_URL point at the machine's
PostgreSQL and Redis; there a missing service fails these tests instead of skipping them.
"""

from __future__ import annotations

import datetime as dt
import time
import uuid
from pathlib import Path

import pytest
from celery.contrib.testing.worker import start_worker
from django.conf import settings
from django.core.cache import cache
from django.core.management import call_command
from django.db import connection

from backend.celery import app as celery_app
from recovery import services, tasks
from recovery.models import Escalation
from tests.services import services_required


def test_database_is_postgresql_when_configured(db):
    if services_required() or settings.DATABASE_URL:
        assert settings.DATABASE_URL, "REQUIRE_SERVICES=1 needs DATABASE_URL"
        assert connection.vendor == "postgresql"
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_setting('server_version_num')::int")
            assert cursor.fetchone()[0] >= 130000
    else:
        assert connection.vendor == "sqlite"


def test_cache_round_trips_through_the_configured_backend():
    key, value = f"probe-{uuid.uuid4()}", {"n": 1}
    cache.set(key, value, timeout=30)
    assert cache.get(key) == value
    if services_required() or settings.REDIS_URL:
        assert settings.REDIS_URL, "REQUIRE_SERVICES=1 needs REDIS_URL"
        client = cache._cache.get_client(key)  # the redis-py client behind Django's cache
        assert client.exists(cache.make_and_validate_key(key)) == 1


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_runs_the_sweep_from_the_broker(patient):
    """Publish through the configured broker; a real Celery worker consumes and runs it."""
    today = patient.local_today()
    services.pain_entry_create(
        patient=patient, date=today - dt.timedelta(days=20), score=8, region="lower_back",
        character="sharp", onset="during_exercise",
    )  # fmt: skip
    assert not Escalation.objects.filter(rule="REST_MAX").exists()  # only the sweep raises it

    with start_worker(celery_app, perform_ping_check=False, pool="solo", shutdown_timeout=10):
        result = tasks.sweep_escalations.apply_async(ignore_result=False)
        # The embedded broker keeps no results, so wait for the effect in the database.
        for _ in range(300):  # up to 30 s on a busy machine
            if Escalation.objects.filter(patient=patient, rule="REST_MAX").exists():
                break
            time.sleep(0.1)
    assert result.id
    assert Escalation.objects.filter(patient=patient, rule="REST_MAX").count() == 1
    expected_transport = "redis" if settings.REDIS_URL else "filesystem"
    assert celery_app.connection_for_write().transport_cls == expected_transport


def test_the_suite_keeps_its_broker_mail_and_schedule_out_of_the_projects_var():
    # A `make run` beside the suite uses var/; its worker would take this suite's tasks.
    shared = settings.BASE_DIR / "var"
    own = [Path(settings.VAR_DIR), Path(settings.CELERY_BEAT_SCHEDULE_FILENAME)]
    if not settings.REDIS_URL:
        own.append(Path(settings.CELERY_BROKER_TRANSPORT_OPTIONS["data_folder_in"]))
    if not settings.EMAIL_HOST:
        own.append(Path(settings.EMAIL_FILE_PATH))
    assert [path for path in own if path.resolve().is_relative_to(shared.resolve())] == []


def test_the_models_have_no_change_without_its_migration(db):
    # The test database is built by the migrations, so a constraint or validator added to a
    # model alone would go untested; makemigrations --check fails on any such change.
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)
