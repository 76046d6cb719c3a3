"""docker-compose.yml and the Procfile describe the same three processes over real services.

`docker-compose config` validates the file and resolves its anchors; it needs no Docker
engine, only the docker-compose program.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.services import needs_service

ROOT = Path(__file__).resolve().parent.parent
APP_SERVICES = ("web", "worker", "beat")


@pytest.fixture(scope="module")
def compose() -> dict:
    program = shutil.which("docker-compose")
    needs_service("docker-compose", program is not None)
    result = subprocess.run(  # noqa: S603
        [program, "--file", str(ROOT / "docker-compose.yml"), "config"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return yaml.safe_load(result.stdout)


def test_compose_runs_the_app_beside_its_services(compose):
    assert set(compose["services"]) == {"db", "redis", "mail", *APP_SERVICES}


@pytest.mark.parametrize("name", ["db", "redis", "mail", "web"])
def test_each_service_others_wait_for_has_a_health_check(compose, name):
    assert compose["services"][name]["healthcheck"]["test"]


def test_web_health_check_fetches_the_schema_over_http(compose):
    command = " ".join(compose["services"]["web"]["healthcheck"]["test"])
    assert "http://localhost:8000/api/v1/schema/" in command


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_processes_use_postgres_redis_and_mailpit(compose, name):
    env = compose["services"][name]["environment"]
    assert env["DATABASE_URL"].startswith("postgres://")
    assert "@db:5432/" in env["DATABASE_URL"]
    assert env["REDIS_URL"].startswith("redis://redis:6379/")
    assert env["EMAIL_HOST"] == "mail"
    assert str(env["EMAIL_PORT"]) == "1025"
    assert str(env["DJANGO_DEBUG"]) == "0"
    assert env["DJANGO_SECRET_KEY"]


def test_web_waits_for_healthy_services_and_the_others_for_web(compose):
    services = compose["services"]
    assert services["web"]["depends_on"] == {
        name: {"condition": "service_healthy"} for name in ("db", "redis", "mail")
    }
    for name in ("worker", "beat"):
        assert services[name]["depends_on"] == {"web": {"condition": "service_healthy"}}


def test_web_and_the_mail_inbox_are_published(compose):
    def published(name: str) -> set[int]:
        return {int(port["published"]) for port in compose["services"][name]["ports"]}

    assert published("web") == {8000}
    assert published("mail") == {8025}


def test_procfile_names_web_worker_and_beat():
    lines = (ROOT / "Procfile").read_text().splitlines()
    processes = dict(line.split(":", 1) for line in lines if line.strip())
    assert set(processes) == set(APP_SERVICES)
    assert "runserver 0.0.0.0:$PORT" in processes["web"]
    assert re.search(r"celery -A backend worker\b", processes["worker"])
    assert re.search(r"celery -A backend beat\b", processes["beat"])


def test_makefile_has_the_documented_targets():
    targets = set(re.findall(r"^([a-z]+):", (ROOT / "Makefile").read_text(), re.MULTILINE))
    assert {"run", "test", "lint", "fmt", "bench", "demo"} <= targets
