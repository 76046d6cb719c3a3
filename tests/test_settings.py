"""The settings module is strict about the environment, and its defaults need no server.

Settings are read once per process, so every case starts a fresh Python with a clean copy of
the environment: only the variables a test sets reach it.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# Every variable the settings read; none leaks in from the shell that runs the suite.
CONFIG_VARIABLES = {
    "DATABASE_URL",
    "REDIS_URL",
    "DEFAULT_FROM_EMAIL",
    "SITE_URL",
    "THROTTLE_ENABLED",
    "REBOUND_VAR_DIR",
}
CONFIG_PREFIXES = ("DJANGO_", "EMAIL_")

SETUP = "import django; django.setup()"
PRINT_SETTINGS = """
import json
from django.conf import settings
db = settings.DATABASES["default"]
print(json.dumps({
    "db_engine": db["ENGINE"],
    "db_name": str(db["NAME"]),
    "db_host": db.get("HOST", ""),
    "db_options": db.get("OPTIONS", {}),
    "broker": settings.CELERY_BROKER_URL,
    "broker_queue": settings.CELERY_BROKER_TRANSPORT_OPTIONS.get("data_folder_in"),
    "beat_schedule": settings.CELERY_BEAT_SCHEDULE_FILENAME,
    "cache": settings.CACHES["default"]["BACKEND"],
    "email_backend": settings.EMAIL_BACKEND,
    "email_file_path": str(getattr(settings, "EMAIL_FILE_PATH", "")),
    "email_host": settings.EMAIL_HOST,
    "email_port": settings.EMAIL_PORT,
    "site_url": settings.SITE_URL,
    "debug": settings.DEBUG,
    "ssl_redirect": settings.SECURE_SSL_REDIRECT,
    "hsts_seconds": settings.SECURE_HSTS_SECONDS,
    "throttles": settings.REST_FRAMEWORK["DEFAULT_THROTTLE_CLASSES"],
}))
"""


def run_python(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {
        key: value
        for key, value in os.environ.items()
        if key not in CONFIG_VARIABLES and not key.startswith(CONFIG_PREFIXES)
    }
    clean |= {
        "DJANGO_SETTINGS_MODULE": "backend.settings",
        "REBOUND_VAR_DIR": str(tmp_path),
        **env,
    }
    return subprocess.run(  # noqa: S603
        [sys.executable, *args],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def settings_with(tmp_path: Path, **env: str) -> dict:
    result = run_python(tmp_path, "-c", PRINT_SETTINGS, **env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def last_line(text: str) -> str:
    return text.strip().splitlines()[-1]


@pytest.mark.parametrize(
    ("variable", "env"),
    [
        ("DJANGO_DEBUG", {"DJANGO_DEBUG": "maybe"}),
        ("EMAIL_PORT", {"EMAIL_HOST": "smtp.example", "EMAIL_PORT": "abc"}),
        ("DATABASE_URL", {"DATABASE_URL": "mysql://x"}),
        ("THROTTLE_ENABLED", {"THROTTLE_ENABLED": "2"}),
        ("EMAIL_PORT", {"EMAIL_HOST": "smtp.example", "EMAIL_PORT": "65536"}),
        ("EMAIL_PORT", {"EMAIL_HOST": "smtp.example", "EMAIL_PORT": "0"}),
        ("DATABASE_URL", {"DATABASE_URL": "sqlite:relative.sqlite3"}),  # not sqlite://
    ],
)
def test_a_malformed_variable_stops_startup_naming_it(tmp_path, variable, env):
    result = run_python(tmp_path, "-c", SETUP, **env)

    assert result.returncode != 0
    assert "ImproperlyConfigured" in last_line(result.stderr)
    assert variable in last_line(result.stderr)


def test_production_refuses_to_start_without_a_secret_key(tmp_path):
    result = run_python(tmp_path, "-c", SETUP, DJANGO_DEBUG="0")

    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in last_line(result.stderr)


def test_production_settings_pass_the_deploy_check(tmp_path):
    result = run_python(
        tmp_path,
        "manage.py",
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DJANGO_DEBUG="0",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(45),  # 60 characters
        DJANGO_ALLOWED_HOSTS="rebound.example",
    )

    assert result.returncode == 0, result.stdout + result.stderr


def test_embedded_defaults_need_no_server(tmp_path):
    values = settings_with(tmp_path)

    assert values["db_engine"] == "django.db.backends.sqlite3"
    assert values["db_name"] == str(tmp_path / "rebound.sqlite3")
    assert values["broker"] == "filesystem://"
    assert Path(values["broker_queue"]).is_relative_to(tmp_path)
    assert Path(values["broker_queue"]).is_dir()
    assert Path(values["beat_schedule"]).is_relative_to(tmp_path)
    assert values["cache"] == "django.core.cache.backends.locmem.LocMemCache"
    assert values["email_backend"] == "django.core.mail.backends.filebased.EmailBackend"
    assert values["email_file_path"] == str(tmp_path / "mail")
    assert values["site_url"] == "http://localhost:8000"
    # Development: DEBUG on, so plain HTTP; throttles on.
    assert values["debug"] is True
    assert values["ssl_redirect"] is False
    assert values["throttles"]


def test_urls_switch_to_postgres_redis_and_smtp(tmp_path):
    values = settings_with(
        tmp_path,
        DATABASE_URL="postgres://rebound@db.example:5432/rebound",
        REDIS_URL="redis://cache.example:6379/3",
        EMAIL_HOST="smtp.example",
        EMAIL_PORT="2525",
        DJANGO_DEBUG="0",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(45),
        THROTTLE_ENABLED="0",
    )

    assert values["db_engine"] == "django.db.backends.postgresql"
    assert values["db_host"] == "db.example"
    assert values["db_name"] == "rebound"
    assert values["db_options"] == {"server_side_binding": True, "prepare_threshold": 5}
    assert values["broker"] == "redis://cache.example:6379/3"
    assert values["cache"] == "django.core.cache.backends.redis.RedisCache"
    assert values["email_backend"] == "django.core.mail.backends.smtp.EmailBackend"
    assert values["email_host"] == "smtp.example"
    assert values["email_port"] == 2525
    # DJANGO_DEBUG=0 turns HTTPS on unless DJANGO_HTTPS says otherwise.
    assert values["ssl_redirect"] is True
    assert values["hsts_seconds"] > 0
    assert values["throttles"] == []


def test_prepared_statements_can_be_turned_off_in_the_database_url(tmp_path):
    # Behind a pooler in transaction mode, which cannot keep a connection's prepared statements.
    values = settings_with(
        tmp_path,
        DATABASE_URL="postgres://rebound@db.example:5432/rebound?server_side_binding=false",
    )

    assert values["db_options"]["server_side_binding"] is False


def test_sqlite_urls_get_the_embedded_databases_options_and_no_postgresql_ones(tmp_path):
    values = settings_with(tmp_path, DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}")

    assert values["db_engine"] == "django.db.backends.sqlite3"
    assert values["db_options"] == {
        "init_command": "PRAGMA journal_mode=WAL;",
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
    }


CONCURRENT_SAVES = """
import datetime as dt, threading
import django; django.setup()
from django.core.management import call_command
from django.db import connections
from accounts.models import Role, User
from recovery import services
from recovery.models import PainEntry

call_command("migrate", verbosity=0)
patient = User.objects.create(email="race@example.test", name="Race", role=Role.PATIENT)
errors = []

def writer():
    for score in range(25):
        try:
            services.pain_entry_create(
                patient=patient, date=dt.date.today(), score=score % 5, region="neck",
                character="ache", onset="unrelated",
            )
        except Exception as exc:
            errors.append(repr(exc))
    connections.close_all()

threads = [threading.Thread(target=writer) for _ in range(4)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
print(len(errors), PainEntry.objects.count(), errors[:1])
"""


@pytest.mark.parametrize("url", [None, "sqlite:///{tmp}/chosen.sqlite3"], ids=["embedded", "url"])
def test_sqlite_queues_concurrent_saves_instead_of_failing_them(tmp_path, url):
    """Four writers saving at once into one database file (the web server, the worker and
    beat share it): every save waits its turn, none fails as "locked"."""
    env = {"DATABASE_URL": url.format(tmp=tmp_path)} if url else {}
    result = run_python(tmp_path, "-c", CONCURRENT_SAVES, **env)
    assert result.returncode == 0, result.stderr
    assert last_line(result.stdout) == "0 100 []"


# --- Environment variables: ranges, schemes, case and blanks ------------------------------


def test_switches_take_any_case_and_lists_drop_blanks(tmp_path):
    script = (
        "import json; from django.conf import settings; print(json.dumps("
        "[settings.DEBUG, settings.ALLOWED_HOSTS, settings.EMAIL_PORT]))"
    )
    env = {
        "DJANGO_DEBUG": " TRUE ",
        "DJANGO_ALLOWED_HOSTS": " a.example , ,b.example,",
        "EMAIL_HOST": "smtp.example",
        "EMAIL_PORT": "65535",
    }
    result = run_python(tmp_path, "-c", f"{SETUP}\n{script}", **env)

    assert result.returncode == 0, result.stderr
    assert json.loads(last_line(result.stdout)) == [True, ["a.example", "b.example"], 65535]
    production = {**env, "DJANGO_DEBUG": "No", "DJANGO_SECRET_KEY": secrets.token_urlsafe(50)}
    off = run_python(tmp_path, "-c", f"{SETUP}\n{script}", **production)
    assert off.returncode == 0, off.stderr
    assert json.loads(last_line(off.stdout))[0] is False
