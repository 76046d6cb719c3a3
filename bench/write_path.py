"""What a pain entry costs over HTTP, next to the cheapest authenticated call.

    python bench/write_path.py [--patients N] [--rounds R] [--seconds S] [--connections C]

Self-contained: creates a fresh PostgreSQL database (dropped and recreated on every run),
migrates it, seeds N patients with 90 days of history each (a pain entry every day, a
workout four days a week), starts gunicorn on a free loopback port and loads it with wrk in
interleaved rounds of `POST /api/v1/pain-logs/` and `GET /api/v1/me/` (the framework's floor:
token authentication plus a one-row serializer). Prints each endpoint's request rate and
latency and the ratio write/read, target >= 0.70.

Before the load it profiles the POST in process: the SQL it runs, where its wall time goes,
and its CPU cost next to GET's, also with parts of the write path stubbed out (what-ifs,
in this process only). Its floor replays the POST's own statements raw, with no framework,
for the best ratio those statements allow on this machine. During the load it accounts
the CPU of gunicorn, of PostgreSQL's backends, of wrk and of everything else on the
machine, so a leg slowed down by somebody else's job shows, and it prints the ratio of
server CPU per request, which such noise does not move.

The comparison is kept fair: both endpoints run under the same wrk settings, the same
pre-formatted-request Lua script (rotating over every patient's token and checking every
status), the same server and the same warm-up, and the rounds alternate which endpoint goes
first. After every POST leg the entries it added are deleted (and the tables vacuumed), so
each leg starts from the same 90-day history. Any non-2xx response or socket error fails the
run (exit status 1). Gunicorn is stopped and the database dropped whatever happens.

Needs: PostgreSQL at 127.0.0.1:5432 (trust auth, user postgres) and `wrk` on PATH.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import platform
import pstats
import random
import re
import resource
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from datetime import time as dtime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LUA_SCRIPT = ROOT / "bench" / "lua" / "write_path.lua"
VENV_BIN = ROOT / ".venv" / "bin"
HOST = "127.0.0.1"
PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
POST_PATH = "/api/v1/pain-logs/"
GET_PATH = "/api/v1/me/"
TARGET_RATIO = 0.70
WORKOUT_WEEKDAYS = (0, 1, 3, 5)  # four workouts a week
# Patients live in several time zones, so "today" is each patient's own date.
TIMEZONES = ("UTC", "Europe/London", "America/New_York", "Europe/Berlin", "Asia/Tokyo")

LABELS = {"post": f"POST {POST_PATH}", "get": f"GET  {GET_PATH}"}


def log(message: str) -> None:
    print(f"… {message}", file=sys.stderr, flush=True)


class BenchError(Exception):
    """The run cannot give trustworthy figures (a failed request, a server that won't start)."""


# --- Configuration --------------------------------------------------------------------------


@dataclass(frozen=True)
class Config:
    patients: int
    days: int
    rounds: int
    seconds: int
    warmup: int
    threads: int
    connections: int
    workers: int
    db_name: str
    seed: int

    @property
    def database_url(self) -> str:
        return f"postgres://postgres@127.0.0.1:5432/{self.db_name}"


def parse_args() -> Config:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=200, help="patients seeded (default 200)")
    parser.add_argument("--days", type=int, default=90, help="days of history each (default 90)")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (default 3)")
    parser.add_argument("--seconds", type=int, default=10, help="seconds per leg (default 10)")
    parser.add_argument("--warmup", type=int, default=3, help="warm-up seconds per endpoint")
    parser.add_argument("--threads", type=int, default=1, help="wrk threads (default 1)")
    parser.add_argument("--connections", type=int, default=4, help="wrk connections (default 4)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (default 2)")
    parser.add_argument("--db-name", default="rebound_bench", help="database (dropped first!)")
    parser.add_argument("--seed", type=int, default=7, help="random seed of the history")
    args = parser.parse_args()
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", args.db_name) or args.db_name == "postgres":
        parser.error("--db-name must be a plain lower-case identifier other than postgres")
    if min(args.patients, args.days, args.rounds, args.seconds, args.threads) < 1:
        parser.error("counts and durations must be at least 1")
    if args.connections < args.threads:
        parser.error("--connections must be at least --threads")
    return Config(
        patients=args.patients,
        days=args.days,
        rounds=args.rounds,
        seconds=args.seconds,
        warmup=args.warmup,
        threads=args.threads,
        connections=args.connections,
        workers=args.workers,
        db_name=args.db_name,
        seed=args.seed,
    )


def server_env(config: Config, var_dir: Path) -> dict[str, str]:
    """The environment of migrate, the seeding/profiling process and gunicorn."""
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("DJANGO_", "EMAIL_", "REDIS_", "DATABASE_", "SITE_"))
    }
    env.update(
        DJANGO_SETTINGS_MODULE="backend.settings",
        DJANGO_DEBUG="0",
        DJANGO_HTTPS="0",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(45),  # 60 characters
        DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost",
        THROTTLE_ENABLED="0",
        DATABASE_URL=config.database_url,
        REBOUND_VAR_DIR=str(var_dir),  # mail/celery folders go to a temp dir, not var/
        PYTHONDONTWRITEBYTECODE="1",
    )
    return env


# --- Database -------------------------------------------------------------------------------


def admin_sql(statement: str) -> None:
    import psycopg

    try:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=5) as conn:
            conn.execute(statement)
    except psycopg.OperationalError as exc:
        raise BenchError(
            f"PostgreSQL at 127.0.0.1:5432 is not answering ({exc}). Start it with: "
            "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start"
        ) from None


def create_database(config: Config) -> None:
    admin_sql(f'DROP DATABASE IF EXISTS "{config.db_name}" WITH (FORCE)')
    admin_sql(f'CREATE DATABASE "{config.db_name}"')


def drop_database(config: Config) -> None:
    admin_sql(f'DROP DATABASE IF EXISTS "{config.db_name}" WITH (FORCE)')


def migrate(env: dict[str, str]) -> None:
    result = subprocess.run(
        [str(VENV_BIN / "python"), "manage.py", "migrate", "--no-input", "-v", "0"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    if result.returncode:
        raise BenchError(f"migrate failed:\n{result.stdout}{result.stderr}")


def django_setup(env: dict[str, str]) -> None:
    """Django in this process, on the bench database (seeding, profiling, resets)."""
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def close_db() -> None:
    from django.db import connections

    connections.close_all()


# --- Seeding --------------------------------------------------------------------------------


@dataclass
class Seeded:
    patient_ids: list[int]
    tokens: list[str]
    todays: list[date]
    pain_entries: int
    workouts: int
    escalations: int
    last_pain_id: int
    last_escalation_id: int
    phases: dict[str, int]


# A patient's history: a quiet baseline (scores 0-2) and, for four patients in five, one
# episode: sharp pain 7 during a heavy workout, a week of rest with falling scores, then the
# three return stages. How long ago the episode began decides the phase today.
EPISODE_DAYS_AGO = (None, 70, 30, 12, 4)  # active, active again, return 2, return 1, rest
REST_SCORES = (7, 6, 5, 4, 3, 2, 2)  # REST_EXIT on rest day 7
CATEGORIES_BY_SINCE = (  # (episode day below, categories allowed, rpe range)
    (1, ("heavy_strength",), (7, 8)),
    (6, ("mobility",), (2, 3)),
    (20, ("mobility", "core", "low_impact"), (3, 4)),
    (34, ("mobility", "core", "low_impact", "strength_light"), (3, 5)),
    (48, ("core", "low_impact", "strength_light"), (4, 6)),
)
ACTIVE_CATEGORIES = (
    "mobility", "core", "low_impact", "strength_light", "high_impact", "heavy_strength",
    "pivot_sport",
)  # fmt: skip


def day_records(rng: random.Random, since: int | None) -> tuple[tuple, tuple]:
    """(score, character, onset) of the day's entry and (categories, rpe range) of a workout."""
    if since is not None and 0 <= since < len(REST_SCORES):
        entry = (
            (REST_SCORES[since], "sharp", "during_exercise")
            if since == 0
            else (REST_SCORES[since], "ache", "unrelated")
        )
    else:
        entry = (
            rng.choice((0, 1, 1, 2, 2)),
            rng.choice(("ache", "stiffness")),
            rng.choice(("unrelated", "unrelated", "delayed")),
        )
    if since is not None and 0 <= since < CATEGORIES_BY_SINCE[-1][0]:
        workout = next((cats, rpe) for below, cats, rpe in CATEGORIES_BY_SINCE if since < below)
    else:
        workout = (ACTIVE_CATEGORIES, (3, 7))
    return entry, workout


def seed(config: Config) -> Seeded:
    """N patients, each with `days` days of history ending yesterday (their local calendar)."""
    from rest_framework.authtoken.models import Token

    from accounts.models import Role, User
    from recovery import services
    from recovery.models import Activity, Escalation, PainEntry, PlanSnapshot, Workout

    rng = random.Random(config.seed)
    slugs: dict[str, list[str]] = defaultdict(list)
    for slug, category in Activity.objects.order_by("slug").values_list("slug", "category"):
        slugs[category].append(slug)
    if not slugs:
        raise BenchError("the activity catalogue is empty after migrate")
    users = []
    for number in range(config.patients):
        user = User(
            email=f"bench-patient-{number:04d}@example.com",
            name=f"Bench patient {number}",
            role=Role.PATIENT,
            timezone=TIMEZONES[number % len(TIMEZONES)],
        )
        user.set_unusable_password()  # no hashing: the bench authenticates with tokens
        users.append(user)
    users = User.objects.bulk_create(users)
    Token.objects.bulk_create([Token(key=Token.generate_key(), user=user) for user in users])

    pains: list[PainEntry] = []
    workouts: list[Workout] = []
    todays = []
    for number, user in enumerate(users):
        today = user.local_today()
        todays.append(today)
        episode_ago = EPISODE_DAYS_AGO[number % len(EPISODE_DAYS_AGO)]
        if episode_ago is not None:
            episode_ago += rng.randint(-2, 2)
        for back in range(config.days, 0, -1):
            day = today - timedelta(days=back)
            since = None if episode_ago is None else episode_ago - back
            (score, character, onset), (categories, (low, high)) = day_records(rng, since)
            noon = datetime.combine(day, dtime(12), tzinfo=user.tzinfo)
            pains.append(
                PainEntry(
                    patient=user,
                    date=day,
                    score=score,
                    region="lower_back",
                    character=character,
                    onset=onset,
                    created_at=noon,
                )
            )
            if day.weekday() in WORKOUT_WEEKDAYS or since == 0:
                workouts.append(
                    Workout(
                        patient=user,
                        date=day,
                        activity_id=rng.choice(slugs[rng.choice(categories)]),
                        duration_min=rng.randint(20, 60),
                        rpe=rng.randint(low, high),
                        created_at=noon - timedelta(hours=3),
                    )
                )
    PainEntry.objects.bulk_create(pains, batch_size=5000)
    Workout.objects.bulk_create(workouts, batch_size=5000)
    services.plans_refresh(users)
    analyze()

    tokens = dict(Token.objects.filter(user__in=users).values_list("user_id", "key"))
    phases: dict[str, int] = defaultdict(int)
    for phase, stage in PlanSnapshot.objects.values_list("phase", "stage"):
        phases[f"{phase} {stage}" if stage else phase] += 1
    return Seeded(
        patient_ids=[user.id for user in users],
        tokens=[tokens[user.id] for user in users],
        todays=todays,
        pain_entries=len(pains),
        workouts=len(workouts),
        escalations=Escalation.objects.count(),
        last_pain_id=max(entry.id for entry in pains),
        last_escalation_id=max(Escalation.objects.values_list("id", flat=True), default=0),
        phases=dict(phases),
    )


def analyze(vacuum: bool = False) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE" if vacuum else "ANALYZE")


def reset_history(seeded: Seeded) -> int:
    """Delete what the benchmark posted, so the next leg starts from the seeded history."""
    from recovery.models import Escalation, PainEntry

    posted, _ = PainEntry.objects.filter(id__gt=seeded.last_pain_id).delete()
    Escalation.objects.filter(id__gt=seeded.last_escalation_id).delete()
    analyze(vacuum=True)
    close_db()  # no idle connection of ours while the server is under load
    return posted


# --- In-process profile of one POST ---------------------------------------------------------


@dataclass
class Profile:
    post_queries: list[tuple[str, float | None, float]]  # sql, mean ms, share of POSTs
    get_queries: list[tuple[str, float | None, float]]
    samples: int
    post_ms: float
    get_ms: float
    buckets_ms: dict[str, float]
    get_sql_ms: float
    evaluate_us: float
    evaluate_rows: tuple[int, int]
    packages: list[tuple[str, float]]
    cpu: dict[str, tuple[float, float]]  # label → (Python ms, PostgreSQL backend ms) per request
    # CPU (Python, backend) of the POST's own statements, sent raw: see `statements_cpu_ms`
    statements_cpu: tuple[float, float]
    evaluate_ms: float  # evaluate_resumable() per POST


def sql_template(sql: str) -> str:
    """A query's shape: literals and whitespace normalised, so one query type is one key."""
    sql = re.sub(r"'[^']*'", "'?'", sql)
    return re.sub(r"\s+", " ", re.sub(r"\b\d+(\.\d+)?\b", "?", sql)).strip()


class Timers:
    """Wall time of wrapped functions, of every query by shape, and of the SQL inside each."""

    def __init__(self) -> None:
        self.total: dict[str, float] = defaultdict(float)
        self.sql_in: dict[str, float] = defaultdict(float)
        self.by_query: dict[str, float] = defaultdict(float)
        self.query_count: dict[str, int] = defaultdict(int)
        self.active: list[str] = []

    def wrap(self, name: str, func: Callable) -> Callable:
        def timed(*args, **kwargs):
            self.active.append(name)
            start = time.perf_counter()
            try:
                return func(*args, **kwargs)
            finally:
                self.total[name] += time.perf_counter() - start
                self.active.pop()

        return timed

    def add_sql(self, key: str, elapsed: float) -> None:
        self.total["sql"] += elapsed
        self.by_query[key] += elapsed
        self.query_count[key] += 1
        for name in self.active:
            self.sql_in[name] += elapsed

    def sql(self, execute, sql, params, many, context):
        start = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.add_sql(sql_template(sql), time.perf_counter() - start)

    def commit(self, func: Callable) -> Callable:
        def timed():
            start = time.perf_counter()
            try:
                return func()
            finally:
                self.add_sql("COMMIT", time.perf_counter() - start)

        return timed


@contextmanager
def patched(target: object, name: str, replacement: object) -> Iterator[None]:
    had_own = name in vars(target)
    original = getattr(target, name)
    setattr(target, name, replacement)
    try:
        yield
    finally:
        if had_own:
            setattr(target, name, original)
        else:
            delattr(target, name)


def package_of(filename: str) -> str:
    if filename.startswith(("~", "<")):
        return "C built-ins (socket I/O, json, …)"
    for marker, label in (
        ("/rest_framework/", "DRF"),
        ("/django/db/", "Django ORM"),
        ("/django/", "Django (other)"),
        ("/psycopg", "psycopg"),
        ("/recovery/engine/", "engine"),
        ("/recovery/", "recovery (views, services, selectors)"),
        ("/accounts/", "accounts"),
        ("/backend/", "backend"),
    ):
        if marker in filename:
            return label
    return "stdlib/other"


def listed(captured: list[dict], keys: list[str], timers: Timers, samples: int) -> list:
    """The captured statements of one request, each with its mean time over all samples.

    `keys` are the shapes of the same request's cursor queries, in order (as the timers saw
    them); BEGIN and COMMIT are Django's own entries in the captured list.
    """
    rows = []
    remaining = iter(keys)
    for query in captured:
        if query["sql"] == "BEGIN":  # psycopg sends it before the next query, timed with it
            rows.append((query["sql"], None, 1.0))
            continue
        key = "COMMIT" if query["sql"] == "COMMIT" else next(remaining, "")
        count = timers.query_count.get(key, 0)
        mean = timers.by_query[key] / count * 1000 if count else None
        rows.append((query["sql"], mean, count / samples))
    return rows


def profile_post(seeded: Seeded, samples: int = 200) -> Profile:
    """Run POSTs and GETs through Django's test client (same settings, same database)."""
    from django.db import connections
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    import recovery.selectors as selectors_module
    import recovery.services as services_module
    from recovery.engine import evaluate, evaluate_resumable

    connection = connections["default"]
    client = Client(HTTP_HOST=HOST)
    count = len(seeded.tokens)

    def post(number: int) -> None:
        index = number % count
        body = {
            "date": seeded.todays[index].isoformat(),
            "score": number % 7,
            "region": "lower_back",
            "character": "ache",
            "onset": "unrelated",
            "red_flags": [],
            "notes": "",
        }
        response = client.post(
            POST_PATH,
            data=json.dumps(body),
            content_type="application/json",
            headers={"authorization": f"Token {seeded.tokens[index]}"},
        )
        if response.status_code != 201:
            raise BenchError(f"in-process POST answered {response.status_code}: {response.content}")

    def get(number: int) -> None:
        index = number % count
        token = seeded.tokens[index]
        response = client.get(GET_PATH, headers={"authorization": f"Token {token}"})
        if response.status_code != 200:
            raise BenchError(f"in-process GET answered {response.status_code}: {response.content}")

    # Warm up on the last patients (each sample below is a different patient's first POST
    # of the day, like the load's first pass).
    for number in range(count - 5, count):
        post(number)
        get(number)
    shapes: list[str] = []

    def record(execute, sql, params, many, context):
        shapes.append(sql_template(sql))
        return execute(sql, params, many, context)

    with CaptureQueriesContext(connection) as captured, connection.execute_wrapper(record):
        post(0)
    post_captured, post_shapes = list(captured.captured_queries), list(shapes)
    shapes.clear()
    with CaptureQueriesContext(connection) as captured, connection.execute_wrapper(record):
        get(0)
    get_captured, get_shapes = list(captured.captured_queries), list(shapes)

    samples = min(samples, count - 6)
    numbers = range(1, samples + 1)
    timers = Timers()
    with (
        patched(
            services_module,
            "evaluate_resumable",
            timers.wrap("evaluate", evaluate_resumable),
        ),
        patched(
            selectors_module,
            "records_after",
            timers.wrap("histories", selectors_module.records_after),
        ),
        patched(connection, "_commit", timers.commit(connection._commit)),
        connection.execute_wrapper(timers.sql),
    ):
        start = time.perf_counter()
        for number in numbers:
            post(number)
        post_seconds = time.perf_counter() - start
    reset_history(seeded)

    get_timers = Timers()
    with connection.execute_wrapper(get_timers.sql):
        start = time.perf_counter()
        for number in numbers:
            get(number)
        get_seconds = time.perf_counter() - start

    # CPU per request, this process and its PostgreSQL backend: unlike wall time, hardly
    # moved by other load on the machine. The what-ifs stub parts of the write path out
    # (in this process only) to show what each costs.
    def cpu_of(request: Callable[[int], None]) -> tuple[float, float]:
        connection.ensure_connection()
        backend = connection.connection.info.backend_pid
        python, postgres = time.process_time(), process_cpu(backend)
        for number in numbers:
            request(number)
        python, postgres = time.process_time() - python, process_cpu(backend) - postgres
        reset_history(seeded)
        return python * 1000 / samples, postgres * 1000 / samples

    def no_refresh(patients: object, **options: object) -> list:
        return []

    def no_lock(patient_ids: list[int], **options: object) -> dict:
        return dict.fromkeys(patient_ids)

    cpu = {"GET /me/": cpu_of(get), "POST": cpu_of(post)}
    # The same POSTs again, keeping each one's statements and parameters (keeping costs CPU,
    # so not above); then their own statements replayed from the same starting history.
    sent: list[list[tuple[str, object]]] = []

    def keep(execute, sql, params, many, context):
        sent[-1].append((sql, params))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(keep):
        for number in numbers:
            sent.append([])
            post(number)
    reset_history(seeded)
    own_statements = [
        [(sql, params) for sql, params in statements if sql_template(sql) not in get_shapes]
        for statements in sent
    ]
    statements_cpu = statements_cpu_ms(connection, own_statements, samples)
    reset_history(seeded)
    with patched(services_module, "plans_refresh", no_refresh):
        cpu["POST without plans_refresh()"] = cpu_of(post)
        with patched(services_module, "lock_patients", no_lock):
            cpu["POST without plans_refresh() and lock"] = cpu_of(post)

    profiler = cProfile.Profile()
    profiler.enable()
    for number in numbers:
        post(number)
    profiler.disable()
    reset_history(seeded)
    by_package: dict[str, float] = defaultdict(float)
    stats = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
    for (filename, _, _), (_, _, own, _, _) in stats.items():
        by_package[package_of(filename)] += own
    profiled = sum(by_package.values()) or 1.0
    packages = sorted(
        ((name, seconds / profiled) for name, seconds in by_package.items()),
        key=lambda item: -item[1],
    )

    # The engine alone on one patient's stored history (seeded days plus the posts above).
    patient_id = seeded.patient_ids[1]
    history = selectors_module.patient_histories([patient_id])[patient_id]
    guideline = selectors_module.patient_guidelines([patient_id])[patient_id]
    today = seeded.todays[1]
    evaluate(history, today, guideline)
    best = float("inf")
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(50):
            evaluate(history, today, guideline)
        best = min(best, (time.perf_counter() - start) / 50)

    per = 1000 / samples
    post_sql = timers.total["sql"]
    histories_python = timers.total["histories"] - timers.sql_in["histories"]
    buckets = {
        "SQL round trips (incl. COMMIT)": post_sql * per,
        "engine evaluate_resumable()": timers.total["evaluate"] * per,
        "records_after() Python": histories_python * per,
        "everything else (Django, DRF, …)": (
            post_seconds - post_sql - timers.total["evaluate"] - histories_python
        )
        * per,
    }
    return Profile(
        post_queries=listed(post_captured, post_shapes, timers, samples),
        get_queries=listed(get_captured, get_shapes, get_timers, samples),
        samples=samples,
        post_ms=post_seconds * per,
        get_ms=get_seconds * per,
        buckets_ms=buckets,
        get_sql_ms=get_timers.total["sql"] * per,
        evaluate_us=best * 1e6,
        evaluate_rows=(len(history.pain_entries), len(history.workouts)),
        packages=packages,
        cpu=cpu,
        statements_cpu=statements_cpu,
        evaluate_ms=timers.total["evaluate"] * per,
    )


def statements_cpu_ms(
    connection, posts: list[list[tuple[str, object]]], requests: int
) -> tuple[float, float]:
    """CPU per request (this process, its backend) of sending `posts`' statements, nothing else.

    Each POST's statements beyond GET's are sent again in a transaction of their own, with
    their parameters, on the bare psycopg connection (no Django, no DRF, no ORM). It binds
    and prepares them as the server's connections do (settings.py). So this is what the
    database work of this write path costs before any framework adds to it.
    """
    connection.ensure_connection()
    raw = connection.connection  # autocommit: transaction() sends BEGIN and COMMIT
    backend = raw.info.backend_pid
    python, postgres = time.process_time(), process_cpu(backend)
    for statements in posts:
        with raw.transaction():
            for sql, params in statements:
                cursor = raw.execute(sql, params)
                if cursor.description is not None:
                    cursor.fetchall()
    python, postgres = time.process_time() - python, process_cpu(backend) - postgres
    return python * 1000 / requests, postgres * 1000 / requests


# --- Gunicorn -------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def start_gunicorn(config: Config, env: dict[str, str], port: int, log_path: Path):
    log_file = log_path.open("w")
    command = [
        str(VENV_BIN / "gunicorn"),
        "backend.wsgi:application",
        "-b",
        f"{HOST}:{port}",
        "-w",
        str(config.workers),
        "--threads",
        "1",
        "--timeout",
        "60",
        "--error-logfile",
        "-",
    ]
    process = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=log_file, stderr=subprocess.STDOUT, text=True
    )
    log_file.close()
    return process


def stop_gunicorn(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=5)


def wait_until_up(process, port: int, token: str, log_path: Path, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    request = urllib.request.Request(
        f"http://{HOST}:{port}{GET_PATH}", headers={"Authorization": f"Token {token}"}
    )
    last_error = ""
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise BenchError(f"gunicorn exited with {process.returncode}:\n{log_path.read_text()}")
        try:
            with urllib.request.urlopen(request, timeout=2) as response:  # noqa: S310 (loopback)
                if response.status == 200:
                    return
        except OSError as exc:
            last_error = str(exc)
        time.sleep(0.2)
    raise BenchError(f"gunicorn did not answer within {timeout:.0f} s ({last_error})")


# --- CPU accounting -------------------------------------------------------------------------
# The machine is shared (the load generator, the server and the database, and possibly other
# people's jobs): each leg records the CPU time of gunicorn's processes, of the PostgreSQL
# backends serving the bench database and of wrk, and what the rest of the machine used.

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def process_cpu(pid: int) -> float:
    """User + system CPU seconds of a live process (0 if it is gone)."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    fields = text[text.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def machine_busy() -> float:
    """CPU seconds all CPUs have spent busy since boot."""
    values = [int(value) for value in Path("/proc/stat").read_text().split("\n")[0].split()[1:9]]
    user, nice, system, idle, iowait, irq, softirq, steal = values
    return (user + nice + system + irq + softirq + steal) / CLOCK_TICKS


def children_of(parent: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                text = (entry / "stat").read_text()
            except OSError:
                continue
            if int(text[text.rindex(")") + 2 :].split()[1]) == parent:
                found.append(int(entry.name))
    return found


def database_backends(db_name: str) -> list[int]:
    import psycopg

    with psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=5) as conn:
        rows = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s", (db_name,)
        ).fetchall()
    return [row[0] for row in rows]


@dataclass
class CpuProbe:
    server_pid: int
    db_name: str

    def snapshot(self) -> dict[str, object]:
        server = [self.server_pid, *children_of(self.server_pid)]
        backends = database_backends(self.db_name)
        return {
            "gunicorn": {pid: process_cpu(pid) for pid in server},
            "postgres": {pid: process_cpu(pid) for pid in backends},
            "wrk": resource.getrusage(resource.RUSAGE_CHILDREN),
            "self": resource.getrusage(resource.RUSAGE_SELF),
            "busy": machine_busy(),
        }

    @staticmethod
    def spent(before: dict, after: dict) -> dict[str, float]:
        def grown(name: str) -> float:
            # A process that started during the leg counts from zero.
            return sum(cpu - before[name].get(pid, 0.0) for pid, cpu in after[name].items())

        def rusage(name: str) -> float:
            return (after[name].ru_utime + after[name].ru_stime) - (
                before[name].ru_utime + before[name].ru_stime
            )

        spent = {
            "gunicorn": grown("gunicorn"),
            "postgres": grown("postgres"),
            "wrk": rusage("wrk"),
            "bench": rusage("self"),
        }
        spent["others"] = max(0.0, after["busy"] - before["busy"] - sum(spent.values()))
        return spent


# --- wrk ------------------------------------------------------------------------------------


@dataclass
class Leg:
    kind: str
    round: int
    requests: int
    seconds: float
    rps: float
    mean_ms: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    cpu: dict[str, float] = field(default_factory=dict)  # CPU-seconds during the leg

    def cpu_ms(self, name: str) -> float:
        """CPU milliseconds per request spent by `name` (gunicorn, postgres, wrk)."""
        return self.cpu.get(name, 0.0) * 1000 / self.requests

    @property
    def others_cores(self) -> float:
        """CPUs' worth of time used by processes outside the benchmark during the leg."""
        return self.cpu.get("others", 0.0) / self.seconds


BENCH_LINE = re.compile(r"^BENCH (.*)$", re.MULTILINE)
RPS_LINE = re.compile(r"^Requests/sec:\s+([\d.]+)", re.MULTILINE)
NON2XX_LINE = re.compile(r"Non-2xx or 3xx responses:\s+(\d+)")
SOCKET_LINE = re.compile(r"Socket errors: (.*)")


def run_wrk(
    config: Config, port: int, kind: str, seconds: int, data: Path, number: int, probe: CpuProbe
) -> Leg:
    path = POST_PATH if kind == "post" else GET_PATH
    command = [
        "wrk",
        f"-t{config.threads}",
        f"-c{config.connections}",
        f"-d{seconds}s",
        "--timeout",
        "5s",
        "--latency",
        "-s",
        str(LUA_SCRIPT),
        f"http://{HOST}:{port}{path}",
        "--",
        str(data),
        kind,
    ]
    before = probe.snapshot()
    result = subprocess.run(
        command, capture_output=True, text=True, timeout=seconds + 30, check=False
    )
    cpu = probe.spent(before, probe.snapshot())
    output = result.stdout + result.stderr
    bench = BENCH_LINE.search(output)
    rps = RPS_LINE.search(output)
    if result.returncode or not bench or not rps:
        raise BenchError(f"wrk failed ({result.returncode}):\n{output}")
    values = dict(pair.split("=") for pair in bench.group(1).split())
    figures = {name: float(value) for name, value in values.items()}
    non2xx_line = NON2XX_LINE.search(output)
    socket_line = SOCKET_LINE.search(output)
    bad = int(figures["non2xx"]) + (int(non2xx_line.group(1)) if non2xx_line else 0)
    if bad or socket_line or figures["requests"] == 0:
        first = re.search(r"^BENCH_FIRST_BAD (.*)$", output, re.MULTILINE)
        raise BenchError(
            f"{LABELS[kind]}: {int(figures['non2xx'])} non-2xx responses"
            + (f" ({socket_line.group(0)})" if socket_line else "")
            + (f"; first: {first.group(1)}" if first else "")
            + f"\nwrk output:\n{output}"
        )
    return Leg(
        kind=kind,
        round=number,
        requests=int(figures["requests"]),
        seconds=figures["duration_us"] / 1e6,
        rps=float(rps.group(1)),
        mean_ms=figures["mean_us"] / 1000,
        p50_ms=figures["p50_us"] / 1000,
        p90_ms=figures["p90_us"] / 1000,
        p99_ms=figures["p99_us"] / 1000,
        max_ms=figures["max_us"] / 1000,
        cpu=cpu,
    )


# --- Report ---------------------------------------------------------------------------------


def leg_row(label: str, leg: Leg) -> str:
    return (
        f"  {label:<4} {LABELS[leg.kind]:<24} {leg.rps:7.1f} req/s  mean {leg.mean_ms:6.2f} ms"
        f"  p50 {leg.p50_ms:6.2f}  p90 {leg.p90_ms:6.2f}  p99 {leg.p99_ms:6.2f} ms"
        f"  {leg.requests:6d} req"
    )


def cpu_row(leg: Leg) -> str:
    server = leg.cpu_ms("gunicorn") + leg.cpu_ms("postgres")
    return (
        f"       CPU per request: gunicorn {leg.cpu_ms('gunicorn'):5.2f} ms + PostgreSQL "
        f"{leg.cpu_ms('postgres'):5.2f} ms = {server:5.2f} ms; wrk {leg.cpu_ms('wrk'):4.2f} ms;"
        f" other processes on the machine used {leg.others_cores:4.2f} CPUs"
    )


def combined(legs: list[Leg]) -> Leg:
    requests = sum(leg.requests for leg in legs)
    seconds = sum(leg.seconds for leg in legs)
    cpu: dict[str, float] = defaultdict(float)
    for leg in legs:
        for name, value in leg.cpu.items():
            cpu[name] += value
    return Leg(
        kind=legs[0].kind,
        round=0,
        requests=requests,
        seconds=seconds,
        rps=requests / seconds,
        mean_ms=sum(leg.mean_ms * leg.requests for leg in legs) / requests,
        p50_ms=statistics.median(leg.p50_ms for leg in legs),
        p90_ms=statistics.median(leg.p90_ms for leg in legs),
        p99_ms=max(leg.p99_ms for leg in legs),
        max_ms=max(leg.max_ms for leg in legs),
        cpu=dict(cpu),
    )


def print_setup(config: Config, seeded: Seeded, versions: dict[str, str]) -> None:
    n = config.patients
    phases = ", ".join(f"{phase} {count}" for phase, count in sorted(seeded.phases.items()))
    print("Rebound write path: POST /api/v1/pain-logs/ against GET /api/v1/me/")
    print()
    print(
        f"history   {n} patients × {config.days} days: {seeded.pain_entries} pain entries "
        f"({seeded.pain_entries / n:.0f} each), {seeded.workouts} workouts "
        f"({seeded.workouts / n:.1f} each, 4 a week), {seeded.escalations} escalations; "
        f"phases: {phases}"
    )
    from django.conf import settings

    options = settings.DATABASES["default"].get("OPTIONS", {})
    prepared = options.get("server_side_binding") is True and options.get("prepare_threshold")
    print(
        f"server    gunicorn {versions['gunicorn']} -w {config.workers} --threads 1 (sync), "
        f"Django {versions['django']}, Python {versions['python']}, DEBUG=0, HTTPS=0, "
        "throttling off, persistent DB connections, prepared statements "
        f"{'on' if prepared else 'off'}; PostgreSQL {versions['postgres']} "
        f"at 127.0.0.1, db {config.db_name}"
    )
    print(
        f"load      wrk -t{config.threads} -c{config.connections} --latency, "
        f"{config.rounds} rounds × ({config.seconds} s POST, {config.seconds} s GET), "
        f"order alternating by round, {config.warmup} s warm-up of each first; "
        f"{os.cpu_count()} CPUs shared by wrk, gunicorn and PostgreSQL"
    )
    print(
        "fairness  same wrk settings, Lua script and token rotation for both endpoints; "
        "requests pre-formatted; every status checked; posted entries deleted after each "
        "POST leg so every leg starts from the same history"
    )


def print_queries(label: str, total_ms: float, rows: list) -> None:
    print(f"  {label}: {total_ms:.2f} ms per request, {len(rows)} statements")
    for number, (sql, ms, share) in enumerate(rows, 1):
        text = re.sub(r"\s+", " ", sql)
        text = text if len(text) <= 140 else text[:137] + "..."
        timing = "     —   " if ms is None else f"{ms:6.3f} ms"
        note = "" if share > 0.99 or ms is None else f"  [in {share:.0%} of requests]"
        print(f"    {number:2d}. {timing}  {text}{note}")


def print_profile(profile: Profile) -> None:
    print()
    print(
        f"Profile, in process (Django test client, same settings and database, mean of "
        f"{profile.samples} requests, each a different patient's first POST of the day; "
        "no HTTP, no load):"
    )
    print_queries(f"POST {POST_PATH}", profile.post_ms, profile.post_queries)
    print_queries(f"GET  {GET_PATH}", profile.get_ms, profile.get_queries)
    print(
        "  (times are client-side round trips incl. result decoding; psycopg sends BEGIN "
        "ahead of the next statement, whose time includes it)"
    )
    print("  where a POST's wall time goes:")
    for name, ms in profile.buckets_ms.items():
        print(f"    {name:<34} {ms:6.2f} ms  {ms / profile.post_ms:5.1%}")
    get_rest = profile.get_ms - profile.get_sql_ms
    print(
        f"    (GET /me/ for comparison: SQL {profile.get_sql_ms:.2f} ms, everything else "
        f"{get_rest:.2f} ms)"
    )
    pains, workouts = profile.evaluate_rows
    print(
        f"  engine alone: evaluate() on one stored history ({pains} pain entries, {workouts} "
        f"workouts) takes {profile.evaluate_us:.0f} µs"
    )
    shares = ", ".join(f"{name} {share:.0%}" for name, share in profile.packages[:7])
    print(f"  cProfile own time by package, POST: {shares}")
    get_python, get_postgres = profile.cpu["GET /me/"]
    floor = get_python + get_postgres
    print("  CPU per request in process (Python + its PostgreSQL backend; GET/x = ratio to GET):")
    for label, (python, postgres) in profile.cpu.items():
        total = python + postgres
        print(
            f"    {label:<38} {python:6.2f} + {postgres:5.2f} = {total:6.2f} ms"
            f"  GET/x {floor / total:4.2f}"
        )
    print_floor(profile, floor)


def print_floor(profile: Profile, get_cpu: float) -> None:
    """The best ratio these statements allow: a POST does at least what GET does (the
    framework, token authentication), plus its own statements and the engine."""
    python, postgres = profile.statements_cpu
    extra = len(profile.post_queries) - len(profile.get_queries)
    least = get_cpu + python + postgres + profile.evaluate_ms
    budget = get_cpu / TARGET_RATIO - get_cpu
    print(
        f"  floor: the POST's {extra} statements beyond GET's (BEGIN and COMMIT included),"
        f" replayed raw with no framework, cost {python:.2f} + {postgres:.2f} ="
        f" {python + postgres:.2f} ms of CPU (Python + backend); the engine adds"
        f" {profile.evaluate_ms:.2f} ms. A ratio of {TARGET_RATIO:.2f} leaves a POST"
        f" {budget:.2f} ms beyond GET, so even with no framework cost of its own a POST sending"
        f" these statements costs at least {least:.2f} ms: a ratio of at most"
        f" {get_cpu / least:.2f} here"
    )


NOISY_CORES = 0.25  # other processes using more than this during a leg make it suspect


def print_results(config: Config, legs: list[Leg], posted: list[int]) -> float:
    print()
    print(
        f"Results through gunicorn (req/s over the whole leg; latency as wrk measures it, "
        f"including queueing at -c{config.connections}):"
    )
    for leg in legs:
        print(leg_row(f"r{leg.round}", leg))
        print(cpu_row(leg))
    post = combined([leg for leg in legs if leg.kind == "post"])
    get = combined([leg for leg in legs if leg.kind == "get"])
    print("  all rounds (req/s and mean pooled; p50/p90 median of rounds, p99 worst round):")
    print(leg_row("all", post))
    print(leg_row("all", get))
    ratio = post.rps / get.rps
    best = max(leg.rps for leg in legs if leg.kind == "post") / max(
        leg.rps for leg in legs if leg.kind == "get"
    )
    per_round = [
        next(leg.rps for leg in legs if leg.kind == "post" and leg.round == number)
        / next(leg.rps for leg in legs if leg.kind == "get" and leg.round == number)
        for number in range(1, config.rounds + 1)
    ]
    post_cpu = post.cpu_ms("gunicorn") + post.cpu_ms("postgres")
    get_cpu = get.cpu_ms("gunicorn") + get.cpu_ms("postgres")
    verdict = "meets the target" if ratio >= TARGET_RATIO else "BELOW the target"
    print()
    print(
        f"  POST {POST_PATH:<20} {post.rps:7.1f} req/s  mean {post.mean_ms:6.2f} ms  p99 "
        f"{post.p99_ms:6.2f} ms"
    )
    print(
        f"  GET  {GET_PATH:<20} {get.rps:7.1f} req/s  mean {get.mean_ms:6.2f} ms  p99 "
        f"{get.p99_ms:6.2f} ms"
    )
    print(f"  ratio write/read  {ratio:.2f}   target ≥ {TARGET_RATIO:.2f}: {verdict}")
    print(
        f"    per round {', '.join(f'{value:.2f}' for value in per_round)}; best leg of each "
        f"{best:.2f}; by server CPU per request (gunicorn + PostgreSQL, immune to other "
        f"load) {get_cpu:.2f} / {post_cpu:.2f} ms = {get_cpu / post_cpu:.2f}"
    )
    noisy = [leg for leg in legs if leg.others_cores > NOISY_CORES]
    if noisy:
        names = ", ".join(f"r{leg.round} {leg.kind.upper()}" for leg in noisy)
        print(
            f"  WARNING: other processes used > {NOISY_CORES} CPUs during {names}; the "
            "req/s figures of those legs are depressed, the CPU-per-request ratio is not"
        )
    if ratio < TARGET_RATIO:
        budget = get_cpu / TARGET_RATIO
        print(
            f"  to reach {TARGET_RATIO:.2f} a POST may cost at most ≈ {budget:.2f} ms of server "
            f"CPU ({get_cpu:.2f} / {TARGET_RATIO:.2f}); it costs {post_cpu:.2f} ms: "
            f"{post_cpu - budget:.2f} ms too many (the profile above shows where they go)"
        )
    mean_posted = statistics.mean(posted)
    print(
        f"  each POST leg added {mean_posted:.0f} entries ({mean_posted / config.patients:.1f} "
        "per patient on top of the seeded history) and was then reset"
    )
    return ratio


# --- Main -----------------------------------------------------------------------------------


def versions() -> dict[str, str]:
    import django
    import gunicorn
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        postgres = cursor.fetchone()[0].split()[0]
    return {
        "django": django.get_version(),
        "gunicorn": gunicorn.__version__,
        "postgres": postgres,
        "python": platform.python_version(),
    }


def on_sigterm(signum, frame) -> None:
    raise SystemExit(128 + signum)


def main() -> int:
    config = parse_args()
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    if shutil.which("wrk") is None:
        print("wrk is not installed (apt-get install wrk)", file=sys.stderr)
        return 2
    signal.signal(signal.SIGTERM, on_sigterm)
    started = time.monotonic()
    server = None
    created = False
    with tempfile.TemporaryDirectory(prefix="rebound-bench-") as temp:
        temp_dir = Path(temp)
        env = server_env(config, temp_dir / "var")
        log_path = temp_dir / "gunicorn.log"
        try:
            log(f"creating database {config.db_name} and migrating")
            create_database(config)
            created = True
            migrate(env)
            django_setup(env)
            log(f"seeding {config.patients} patients × {config.days} days")
            seeded = seed(config)
            found = versions()
            log("profiling one POST in process")
            profile = profile_post(seeded)
            reset_history(seeded)

            data = temp_dir / "patients.txt"
            data.write_text(
                "".join(
                    f"{token} {today.isoformat()}\n"
                    for token, today in zip(seeded.tokens, seeded.todays, strict=True)
                )
            )
            port = free_port()
            log(f"starting gunicorn on {HOST}:{port}")
            server = start_gunicorn(config, env, port, log_path)
            wait_until_up(server, port, seeded.tokens[0], log_path)
            probe = CpuProbe(server.pid, config.db_name)

            if config.warmup:
                log("warming up")
                run_wrk(config, port, "post", config.warmup, data, 0, probe)
                reset_history(seeded)
                run_wrk(config, port, "get", config.warmup, data, 0, probe)

            legs: list[Leg] = []
            posted: list[int] = []
            for number in range(1, config.rounds + 1):
                order = ("post", "get") if number % 2 else ("get", "post")
                for kind in order:
                    log(f"round {number}/{config.rounds}: {LABELS[kind]} for {config.seconds} s")
                    leg = run_wrk(config, port, kind, config.seconds, data, number, probe)
                    legs.append(leg)
                    if kind == "post":
                        posted.append(reset_history(seeded))
                    log(f"  {leg.rps:.1f} req/s")
            if server.poll() is not None:
                raise BenchError(f"gunicorn died during the run:\n{log_path.read_text()}")

            print_setup(config, seeded, found)
            print_profile(profile)
            print_results(config, legs, posted)
            print(f"\n(total run time {time.monotonic() - started:.0f} s)")
            return 0
        except BenchError as exc:
            print(f"\nBENCHMARK FAILED: {exc}", file=sys.stderr)
            if server is not None and log_path.exists():
                tail = log_path.read_text().splitlines()[-30:]
                print("gunicorn log (tail):\n" + "\n".join(tail), file=sys.stderr)
            return 1
        finally:
            if server is not None:
                stop_gunicorn(server)
            if "django" in sys.modules and "django.db" in sys.modules:
                close_db()
            if created:
                try:
                    drop_database(config)
                except BenchError as exc:
                    print(f"could not drop {config.db_name}: {exc}", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
