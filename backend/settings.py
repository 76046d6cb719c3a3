"""Rebound's one settings module.

Everything comes from the environment (the variables are listed in README.md). Unset
variables fall back to embedded defaults that need no server: SQLite, a filesystem Celery
broker and mail written to files, all under var/. A value that is set but malformed stops
start-up with ImproperlyConfigured naming it.
"""

from __future__ import annotations

from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from backend.env import env_bool, env_int, env_list, env_str, env_url

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("REBOUND_VAR_DIR") or BASE_DIR / "var")
for _folder in ("mail", "static"):
    (VAR_DIR / _folder).mkdir(parents=True, exist_ok=True)

# --- Core -----------------------------------------------------------------------------
DEBUG = env_bool("DJANGO_DEBUG", default=True)
SECRET_KEY = env_str("DJANGO_SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("DJANGO_SECRET_KEY must be set when DJANGO_DEBUG=0")
    SECRET_KEY = "development-only-secret-key-not-for-production-use-0123456789"  # noqa: S105
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
SITE_URL = env_url("SITE_URL", ("http", "https")) or "http://localhost:8000"
SITE_URL = SITE_URL.rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "accounts",
    "recovery",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "backend.middleware.CommonMiddleware",
    "backend.middleware.NoStoreMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "backend.urls"
WSGI_APPLICATION = "backend.wsgi.application"
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------
# SQLite, whether the embedded default or a sqlite:// URL: the web server, worker and beat
# share one file. WAL lets them read while one writes. IMMEDIATE: a save takes the write
# lock when its transaction begins, so two saves queue (up to the timeout) instead of one
# failing with "database is locked" when both try to upgrade a read lock.
SQLITE_OPTIONS = {
    "init_command": "PRAGMA journal_mode=WAL;",
    "timeout": 20,
    "transaction_mode": "IMMEDIATE",
}
DATABASE_URL = env_url("DATABASE_URL", ("postgres", "postgresql", "sqlite"))
if DATABASE_URL:
    # Persistent connections: the write path re-evaluates a plan on every save, and a
    # new connection per request would cost more than the evaluation itself.
    DATABASES = {
        "default": dj_database_url.parse(DATABASE_URL, conn_max_age=600, conn_health_checks=True)
    }
    options = DATABASES["default"].setdefault("OPTIONS", {})
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        # Prepared statements: each connection plans a statement it has sent a few times once,
        # then reuses the plan. Planning the save's records_after() query cost PostgreSQL
        # several times as much as running it (bench/write_path.py). Preparing needs
        # server-side binding; behind a pooler in transaction mode that cannot keep
        # prepared statements, turn it off in the URL: ...?server_side_binding=false
        options.setdefault("server_side_binding", True)
        options.setdefault("prepare_threshold", 5)  # psycopg's own default; Django's is off
    else:
        options.update({**SQLITE_OPTIONS, **options})  # what the URL sets wins
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": VAR_DIR / "rebound.sqlite3",
            "OPTIONS": dict(SQLITE_OPTIONS),
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: cache and Celery broker ----------------------------------------------------
REDIS_URL = env_url("REDIS_URL", ("redis", "rediss", "unix"))
if REDIS_URL:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    }
    CELERY_BROKER_URL = REDIS_URL
    # A task not acknowledged within this time is handed to another worker; longer
    # than any task of ours takes.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    _broker_dir = VAR_DIR / "celery"
    for _folder in ("queue", "processed", "control"):
        (_broker_dir / _folder).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }

CELERY_TASK_IGNORE_RESULT = True
# Acknowledge after the task ran, so a worker that dies mid-task leaves it queued.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE = {
    # The sweep records what only it may raise (MISSED_LOGS, REST_MAX) and anything a save
    # missed; it is idempotent, so a frequent schedule costs queries, never duplicates.
    "sweep-escalations": {"task": "recovery.tasks.sweep_escalations", "schedule": 15 * 60},
}

# --- Email ----------------------------------------------------------------------------
EMAIL_HOST = env_str("EMAIL_HOST")
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL") or "Rebound <rebound@localhost>"
SERVER_EMAIL = DEFAULT_FROM_EMAIL
if EMAIL_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_PORT = env_int("EMAIL_PORT", 25, minimum=1)
    EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
    EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
    EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", default=False)
    EMAIL_TIMEOUT = 30
else:
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = VAR_DIR / "mail"

# --- Security -------------------------------------------------------------------------
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "accounts.passwords.NotOnlySpacesValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

HTTPS = env_bool("DJANGO_HTTPS", default=not DEBUG)
SECURE_SSL_REDIRECT = HTTPS
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_HSTS_SECONDS = 31_536_000 if HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = HTTPS
BEHIND_PROXY = env_bool("DJANGO_BEHIND_PROXY", default=False)
if BEHIND_PROXY:
    # Only behind a proxy that sets this header itself; otherwise a client could forge it.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", [])
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"

# --- Internationalisation ---------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Static files ---------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
# Serve straight from the apps' folders too, so a fresh clone needs no collectstatic.
WHITENOISE_USE_FINDERS = True

# --- REST API -------------------------------------------------------------------------
THROTTLE_ENABLED = env_bool("THROTTLE_ENABLED", default=True)
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["backend.parsers.JSONParser"],
    "DEFAULT_PAGINATION_CLASS": "backend.pagination.Pagination",
    "DEFAULT_SCHEMA_CLASS": "backend.schema.AutoSchema",
    "EXCEPTION_HANDLER": "backend.exceptions.exception_handler",
    "DEFAULT_THROTTLE_CLASSES": (
        [
            "rest_framework.throttling.AnonRateThrottle",
            "rest_framework.throttling.UserRateThrottle",
            "rest_framework.throttling.ScopedRateThrottle",
        ]
        if THROTTLE_ENABLED
        else []
    ),
    "DEFAULT_THROTTLE_RATES": {"anon": "60/minute", "user": "600/minute", "auth": "10/minute"},
    # The throttles count per client address: the connection's own, or behind the proxy the
    # one it added last to X-Forwarded-For. Never what a client writes in that header itself,
    # or one could reset the sign-in limit with every guess.
    "NUM_PROXIES": 1 if BEHIND_PROXY else 0,
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    "DATE_INPUT_FORMATS": ["iso-8601"],
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Rebound API",
    "DESCRIPTION": "Recovery and return-to-exercise tracking after back pain.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "backend.schema.bodies_as_sent",
    ],
    # One name per choice set, whichever field uses it.
    "ENUM_NAME_OVERRIDES": {
        "CategoryEnum": "recovery.models.Category",
        "PhaseEnum": "recovery.models.Phase",
        "LevelEnum": "recovery.models.Level",
        "EscalationLevelEnum": "recovery.models.EscalationLevel",
        "RuleEnum": "recovery.api.serializers.RULE_CHOICES",
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "INFO"},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
