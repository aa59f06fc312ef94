"""Settings for the skincare platform, read from the environment (django-environ).

With no environment at all the project runs on embedded parts: SQLite, a local-memory
cache, Celery tasks run eagerly in process and a console e-mail backend. Setting
DATABASE_URL, REDIS_URL, CELERY_BROKER_URL and EMAIL_URL swaps in the real servers.
Every variable is listed with its meaning in .env.example.
"""

import os
from datetime import timedelta
from pathlib import Path

import environ
from corsheaders.defaults import default_headers as cors_default_headers
from django.core.exceptions import ImproperlyConfigured
from kombu import Queue

from skincare.storage_url import storages_for

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

# ------------------------------------------------------------------------------
# Core
# ------------------------------------------------------------------------------
# Production mode unless DJANGO_DEBUG=true says otherwise: a forgotten variable must
# never run a real deployment in debug mode. `make run` and the tests set it.
DEBUG = env.bool("DJANGO_DEBUG", default=False)
INSECURE_DEV_SECRET_KEY = "django-insecure-dev-only-key-never-use-in-production"  # noqa: S105
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default=INSECURE_DEV_SECRET_KEY)
ALLOWED_HOSTS = env.list(
    "DJANGO_ALLOWED_HOSTS",
    default=["127.0.0.1", "localhost", "testserver"] if DEBUG else [],
)

if not DEBUG:
    if SECRET_KEY == INSECURE_DEV_SECRET_KEY or SECRET_KEY.startswith(
        "django-insecure"
    ):
        raise ImproperlyConfigured("DJANGO_SECRET_KEY must be set in production mode.")
    if len(SECRET_KEY) < 50 or len(set(SECRET_KEY)) < 5:
        raise ImproperlyConfigured("DJANGO_SECRET_KEY is too short or too simple.")
    if not ALLOWED_HOSTS or "*" in ALLOWED_HOSTS:
        raise ImproperlyConfigured("DJANGO_ALLOWED_HOSTS must name the served hosts.")

ROOT_URLCONF = "skincare.urls"
WSGI_APPLICATION = "skincare.wsgi.application"
ASGI_APPLICATION = "skincare.asgi.application"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "corsheaders",
    "rest_framework",
    "rest_framework_simplejwt.token_blacklist",
    "django_filters",
    "drf_spectacular",
    "drf_standardized_errors",
    "accounts",
    "notifications",
    "analysis",
    "routines",
    "consultations",
    "push",
    "operations",
    "idempotency",
    "django_prometheus",
]

MIDDLEWARE = [
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "skincare.logging.RequestLogMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # ETag on GET answers and 304 for If-None-Match (README "Retries and sync").
    "django.middleware.http.ConditionalGetMiddleware",
    # Frees each DRF request's objects without the cyclic collector; inside
    # ConditionalGetMiddleware, which may swap the answer for a 304.
    "skincare.http.ReleaseViewMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "skincare.versioning.DeprecationMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
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

# ------------------------------------------------------------------------------
# Database: PostgreSQL via DATABASE_URL (psycopg 3), SQLite file otherwise
# ------------------------------------------------------------------------------
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")
}
DATABASE_IS_POSTGRES = DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"
# PostgreSQL connections come from a psycopg pool in each process (Django's "pool"
# option): a thread takes one per request or task and gives it back at the end, so a
# process holds at most DATABASE_POOL_MAX_SIZE connections. Size it to the threads
# that use the database at once (gunicorn threads, a threaded worker's concurrency);
# docs/scaling.md has the budget. A request that finds no free connection within
# DATABASE_POOL_TIMEOUT seconds answers 503. DATABASE_POOL=false (e.g. behind
# PgBouncer in transaction mode) falls back to DATABASE_CONN_MAX_AGE connections.
# https://docs.djangoproject.com/en/5.2/ref/databases/#connection-pool
DATABASE_POOL = DATABASE_IS_POSTGRES and env.bool("DATABASE_POOL", default=True)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASE_IS_POSTGRES:
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("connect_timeout", 3)
if DATABASE_POOL:
    if env.int("DATABASE_CONN_MAX_AGE", default=0):
        raise ImproperlyConfigured(
            "DATABASE_CONN_MAX_AGE must be 0 with the connection pool (the pool keeps "
            "connections); set DATABASE_POOL=false to keep connections per thread."
        )
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"]["pool"] = {
        "min_size": env.int("DATABASE_POOL_MIN_SIZE", default=1),
        "max_size": env.int("DATABASE_POOL_MAX_SIZE", default=4),
        "timeout": env.float("DATABASE_POOL_TIMEOUT", default=5.0),
        # a connection idle this long is closed (down to min_size), none lives longer
        # than max_lifetime: PostgreSQL restarts and failovers are shed over time
        "max_idle": 300,
        "max_lifetime": 1800,
    }
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
# /health/ready/ waits at most this for a pooled connection, then reports the database
# down and says why (pool exhausted, or no connection): well inside a probe's timeout.
HEALTH_DATABASE_TIMEOUT = env.float("HEALTH_DATABASE_TIMEOUT", default=1.0)
# PgBouncer in transaction mode (DATABASE_POOL=false): a server-side cursor would not
# survive the transaction that opened it; psycopg's prepared statements are off
# already (Django's default for psycopg 3).
DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = env.bool(
    "DATABASE_DISABLE_SERVER_SIDE_CURSORS", default=False
)
# django-prometheus wrappers time every query (django_db_* metrics); same behaviour.
DATABASES["default"]["ENGINE"] = {
    "django.db.backends.postgresql": "django_prometheus.db.backends.postgresql",
    "django.db.backends.sqlite3": "django_prometheus.db.backends.sqlite3",
}.get(DATABASES["default"]["ENGINE"], DATABASES["default"]["ENGINE"])

# ------------------------------------------------------------------------------
# Cache: Redis via REDIS_URL (django-redis), local memory otherwise.
# An unreachable Redis is ignored (logged) so the API keeps answering; throttles then
# fail open. See https://github.com/jazzband/django-redis#memcached-exceptions-behavior
# ------------------------------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
# Redis Sentinel instead (README "Workers and scaling"): the sentinels say which node is
# the primary; after a failover the cache and the throttles follow the new one.
REDIS_SENTINELS = env.list("REDIS_SENTINELS", default=[])
REDIS_SENTINEL_MASTER = env.str("REDIS_SENTINEL_MASTER", default="")


def _sentinel_addresses(items: list[str]) -> list[tuple[str, int]]:
    addresses = []
    for item in items:
        host, _, port = item.strip().rpartition(":")
        if not host or not port.isdigit():
            raise ImproperlyConfigured(
                f"REDIS_SENTINELS takes host:port entries, not {item!r}."
            )
        addresses.append((host.strip("[]"), int(port)))
    return addresses


def redis_cache(location: str, **options) -> dict:
    """The Redis cache: unreachable Redis is ignored, so the API keeps answering."""
    return {
        # django_redis.cache.RedisCache counting hits and misses (django_cache_*)
        "BACKEND": "django_prometheus.cache.backends.redis.RedisCache",
        "LOCATION": location,
        # Parallel test workers share one Redis; each keeps its own key space.
        "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", default="skincare")
        + os.environ.get("PYTEST_XDIST_WORKER", ""),
        "OPTIONS": {
            "CLIENT_CLASS": "django_redis.client.DefaultClient",
            "SOCKET_CONNECT_TIMEOUT": 0.5,
            "SOCKET_TIMEOUT": 0.5,
            "IGNORE_EXCEPTIONS": True,
            **options,
        },
    }


def redis_sentinel_cache(
    sentinels: list[tuple[str, int]], master: str, db: int, password: str = ""
) -> dict:
    """The Redis cache through Sentinel, every read and write on the primary.

    Reading from a replica could lag behind a write just made: a throttle would
    under-count and a catalogue version could be stale. The replicas are there to
    take over, not to serve reads.
    """
    auth = f":{password}@" if password else ""
    # one URL marked is_master: django-redis' SentinelClient would otherwise add a
    # replica pool and send reads there.
    return redis_cache(
        [f"redis://{auth}{master}/{db}?is_master=1"],
        CLIENT_CLASS="django_redis.client.SentinelClient",
        CONNECTION_FACTORY="django_redis.pool.SentinelConnectionFactory",
        SENTINELS=sentinels,
        SENTINEL_KWARGS={"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
    )


if REDIS_SENTINELS:
    if REDIS_URL:
        raise ImproperlyConfigured("Set REDIS_URL or REDIS_SENTINELS, not both.")
    if not REDIS_SENTINEL_MASTER:
        raise ImproperlyConfigured(
            "REDIS_SENTINELS needs REDIS_SENTINEL_MASTER (the master's name in the "
            "sentinels' configuration)."
        )
    CACHES = {
        "default": redis_sentinel_cache(
            _sentinel_addresses(REDIS_SENTINELS),
            REDIS_SENTINEL_MASTER,
            env.int("REDIS_SENTINEL_DB", default=1),
            env.str("REDIS_PASSWORD", default=""),
        )
    }
elif REDIS_URL:
    CACHES = {"default": redis_cache(REDIS_URL)}
CACHE_IS_REDIS = bool(REDIS_SENTINELS or REDIS_URL)
if CACHE_IS_REDIS:
    DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = True
    DJANGO_REDIS_LOGGER = "skincare.cache"
    SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
else:
    CACHES = {
        "default": {"BACKEND": "django_prometheus.cache.backends.locmem.LocMemCache"}
    }

# ------------------------------------------------------------------------------
# Celery: Redis broker via CELERY_BROKER_URL, tasks run eagerly otherwise
# https://docs.celeryq.dev/en/stable/userguide/configuration.html
# ------------------------------------------------------------------------------
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="")
CELERY_TASK_ALWAYS_EAGER = env.bool(
    "CELERY_TASK_ALWAYS_EAGER", default=not CELERY_BROKER_URL
)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": 3600,
    "socket_timeout": 2,
    "socket_connect_timeout": 2,
}
# A broker outage must not hold a web request for long: rows stay pending and the
# dispatch commands re-drive them.
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 2,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.5,
}
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
# Queues by the work they do, each with its own workers (README "Workers and scaling"):
# "analysis" is CPU-bound photo analysis (prefork, one process per core);
# "notifications" is I/O-bound sending, e-mail and push (threads, many at once), so a
# burst of uploads never holds up a password-reset e-mail; "default" takes scheduled
# and maintenance work and anything not routed. Routes match task names, so a new
# task named "notifications.*" (every task in notifications/tasks.py) or "analysis.*"
# lands on its queue without another entry here.
CELERY_TASK_DEFAULT_QUEUE = "default"
# A worker started without -Q (`make worker`, docker/entrypoint.sh worker) serves all.
CELERY_TASK_QUEUES = [Queue("analysis"), Queue("notifications"), Queue("default")]
CELERY_TASK_ROUTES = {
    "analysis.*": {"queue": "analysis"},
    "notifications.*": {"queue": "notifications"},
    "push.*": {"queue": "notifications"},
    # account e-mails (password reset) are sends too: they must leave at once
    "accounts.send_*": {"queue": "notifications"},
}
# The broker's high availability (docs/scaling.md): Redis Sentinel through Celery's
# "sentinel://" transport, CELERY_BROKER_URL=sentinel://h1:26379;sentinel://h2:26379
# naming the master CELERY_BROKER_SENTINEL_MASTER. Lost messages are re-driven from the
# database (outbox rows, pending analyses), which stays the one source of truth.
CELERY_BROKER_SENTINEL_MASTER = env.str("CELERY_BROKER_SENTINEL_MASTER", default="")
if CELERY_BROKER_URL.startswith("sentinel://"):
    if not CELERY_BROKER_SENTINEL_MASTER:
        raise ImproperlyConfigured(
            "A sentinel:// CELERY_BROKER_URL needs CELERY_BROKER_SENTINEL_MASTER "
            "(the master's name in the sentinels' configuration)."
        )
    CELERY_BROKER_TRANSPORT_OPTIONS["master_name"] = CELERY_BROKER_SENTINEL_MASTER

# ------------------------------------------------------------------------------
# E-mail: SMTP via EMAIL_URL (e.g. smtp://user:pass@host:587/?tls=True)
# ------------------------------------------------------------------------------
_email = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(_email)
# Mail that goes nowhere would swallow verification, reset and security e-mails.
UNDELIVERED_EMAIL_BACKENDS = {
    "django.core.mail.backends.console.EmailBackend",
    "django.core.mail.backends.dummy.EmailBackend",
    "django.core.mail.backends.locmem.EmailBackend",
    "django.core.mail.backends.filebased.EmailBackend",
}
if not DEBUG and _email["EMAIL_BACKEND"] in UNDELIVERED_EMAIL_BACKENDS:
    raise ImproperlyConfigured(
        "EMAIL_URL must name an SMTP server in production mode (the console, file, "
        "memory and dummy backends deliver nothing)."
    )
DEFAULT_FROM_EMAIL = env.str(
    "DEFAULT_FROM_EMAIL", default="Skincare <no-reply@skincare.local>"
)
SERVER_EMAIL = DEFAULT_FROM_EMAIL
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)

# ------------------------------------------------------------------------------
# Notifications
# ------------------------------------------------------------------------------
NOTIFICATION_EMAIL_MAX_ATTEMPTS = env.int("NOTIFICATION_EMAIL_MAX_ATTEMPTS", default=6)
NOTIFICATION_RETRY_BASE_SECONDS = env.int("NOTIFICATION_RETRY_BASE_SECONDS", default=30)
# A delivery in "sending" longer than this is taken to belong to a dead worker.
NOTIFICATION_SENDING_TIMEOUT_SECONDS = env.int(
    "NOTIFICATION_SENDING_TIMEOUT_SECONDS", default=600
)
# A pending delivery enqueued longer ago than this is enqueued again.
NOTIFICATION_REQUEUE_AFTER_SECONDS = env.int(
    "NOTIFICATION_REQUEUE_AFTER_SECONDS", default=120
)
NOTIFICATION_UNREAD_CACHE_SECONDS = 300

# ------------------------------------------------------------------------------
# Push: FCM HTTP v1 (Android) and APNs (iOS), push/senders.py. Each service is off
# until its settings are present; with DJANGO_DEBUG=true an unconfigured one writes
# its pushes to the log instead. Half a setup refuses to start in production.
# https://firebase.google.com/docs/cloud-messaging/send/v1-api
# https://developer.apple.com/documentation/usernotifications/sending-notification-requests-to-apns
# ------------------------------------------------------------------------------
# Service-account key (JSON) of the Firebase project; FCM_PROJECT_ID defaults to its.
FCM_SERVICE_ACCOUNT_FILE = env.str("FCM_SERVICE_ACCOUNT_FILE", default="")
FCM_PROJECT_ID = env.str("FCM_PROJECT_ID", default="")
FCM_BASE_URL = env.str("FCM_BASE_URL", default="https://fcm.googleapis.com")
FCM_TOKEN_URL = env.str("FCM_TOKEN_URL", default="https://oauth2.googleapis.com/token")
# Token-based APNs: the .p8 signing key, its key id, the team id, the app's bundle id.
APNS_KEY_FILE = env.str("APNS_KEY_FILE", default="")
APNS_KEY_ID = env.str("APNS_KEY_ID", default="")
APNS_TEAM_ID = env.str("APNS_TEAM_ID", default="")
APNS_TOPIC = env.str("APNS_TOPIC", default="")
# https://api.sandbox.push.apple.com for development builds of the app.
APNS_HOST = env.str("APNS_HOST", default="https://api.push.apple.com")
PUSH_TIMEOUT_SECONDS = env.float("PUSH_TIMEOUT_SECONDS", default=10.0)
PUSH_MAX_ATTEMPTS = env.int("PUSH_MAX_ATTEMPTS", default=6)
if not DEBUG:
    _push_parts = {
        "FCM": {"FCM_SERVICE_ACCOUNT_FILE": FCM_SERVICE_ACCOUNT_FILE},
        "APNs": {
            "APNS_KEY_FILE": APNS_KEY_FILE,
            "APNS_KEY_ID": APNS_KEY_ID,
            "APNS_TEAM_ID": APNS_TEAM_ID,
            "APNS_TOPIC": APNS_TOPIC,
        },
    }
    if FCM_PROJECT_ID and not FCM_SERVICE_ACCOUNT_FILE:
        raise ImproperlyConfigured(
            "FCM_PROJECT_ID is set without FCM_SERVICE_ACCOUNT_FILE."
        )
    for _service, _values in _push_parts.items():
        _missing = [name for name, value in _values.items() if not value]
        if _missing and len(_missing) < len(_values):
            raise ImproperlyConfigured(
                f"{_service} push is half configured: set {', '.join(_missing)} too."
            )
    for _name, _values in _push_parts.items():
        _path = next(iter(_values.values()))
        if _path and not Path(_path).is_file():
            raise ImproperlyConfigured(f"The {_name} push key file {_path} is missing.")

# ------------------------------------------------------------------------------
# Analysis: photo + questionnaire skin analysis (engine in analysis/engine/)
# ------------------------------------------------------------------------------
# MediaPipe face landmarker, fetched by `make install` (scripts/fetch_landmark_model.py)
# and verified by sha256; /health/ready/ reports it as "landmark_model". The face
# detector's model (face_detection_full_range.tflite, "face_detector") sits beside it.
LANDMARK_MODEL_PATH = env.str("LANDMARK_MODEL_PATH", default="") or str(
    BASE_DIR / "var" / "models" / "face_landmarker.task"
)
# Larger uploads answer 413 (file_too_large) before they are read to the end. 64 MB
# holds a 48 MP phone JPEG or HEIC (5-25 MB) and a 16-bit PNG of one (~55 MB in
# bench/upload_memory.py). The web request reads only the header; the worker decodes.
ANALYSIS_PHOTO_MAX_BYTES = env.int("ANALYSIS_PHOTO_MAX_BYTES", default=64 * 1024 * 1024)
# Analyses a user may start per day (their time zone's calendar day); more answer 429
# analysis_daily_limit with Retry-After. Deleting analyses does not free the allowance.
ANALYSIS_MAX_PER_DAY = env.int("ANALYSIS_MAX_PER_DAY", default=20)
# Lifetime in seconds of the signed photo links in the account export.
ANALYSIS_PHOTO_LINK_MAX_AGE = env.int("ANALYSIS_PHOTO_LINK_MAX_AGE", default=900)
# Stored photos are re-encoded (no EXIF) with their longest side at most this.
ANALYSIS_STORED_PHOTO_MAX_SIDE = env.int("ANALYSIS_STORED_PHOTO_MAX_SIDE", default=2048)
# Days after which `purge_old_photos` deletes photo files (scores stay); unset = keep.
ANALYSIS_PHOTO_RETENTION_DAYS = env.int("ANALYSIS_PHOTO_RETENTION_DAYS", default=None)
# An analysis pending or processing longer than this is re-driven by
# `redrive_stuck_analyses`; after ANALYSIS_MAX_ATTEMPTS runs it fails.
ANALYSIS_STUCK_AFTER_MINUTES = env.int("ANALYSIS_STUCK_AFTER_MINUTES", default=10)
ANALYSIS_MAX_ATTEMPTS = env.int("ANALYSIS_MAX_ATTEMPTS", default=3)
# `sweep_orphan_media` deletes media files no row names once they are older than this,
# so an upload whose row is not committed yet is never swept.
MEDIA_ORPHAN_GRACE_HOURS = env.int("MEDIA_ORPHAN_GRACE_HOURS", default=24)
if MEDIA_ORPHAN_GRACE_HOURS < 1:
    raise ImproperlyConfigured("MEDIA_ORPHAN_GRACE_HOURS must be at least 1.")

# ------------------------------------------------------------------------------
# Routines (routines/; catalogue cache in routines/catalogue_cache.py)
# ------------------------------------------------------------------------------
# Catalogue responses are cached this long; any catalogue change invalidates at once.
ROUTINES_CATALOGUE_CACHE_SECONDS = env.int(
    "ROUTINES_CATALOGUE_CACHE_SECONDS", default=3600
)
ROUTINES_MAX_PER_USER = env.int("ROUTINES_MAX_PER_USER", default=20)
# How many days back a check-in may be recorded (today is day 0).
ROUTINES_CHECKIN_MAX_DAYS_BACK = env.int("ROUTINES_CHECKIN_MAX_DAYS_BACK", default=7)
# A reminder whose time passed longer ago than this (e.g. set in the evening for the
# morning) waits for the next day instead of arriving late.
ROUTINES_REMINDER_GRACE_MINUTES = env.int(
    "ROUTINES_REMINDER_GRACE_MINUTES", default=180
)
# The bare comparison views of bench/api_bench.py live in bench/urls.py, mounted only by
# bench/settings.py. The old switch must not silently do nothing in production.
if not DEBUG and env.bool("BENCH_VIEWS", default=False):
    raise ImproperlyConfigured(
        "BENCH_VIEWS is not a production setting: the bench views are served only "
        "with DJANGO_SETTINGS_MODULE=bench.settings."
    )

# ------------------------------------------------------------------------------
# Consultations
# ------------------------------------------------------------------------------
# A patient may cancel or reschedule up to this many hours before the start.
CONSULTATION_CHANGE_WINDOW_HOURS = env.int(
    "CONSULTATION_CHANGE_WINDOW_HOURS", default=24
)
# Upcoming requested/confirmed bookings a patient may hold at once, in all and with
# one dermatologist; more answer 409 (consultations.services.book_consultation).
CONSULTATION_MAX_ACTIVE_PER_PATIENT = env.int(
    "CONSULTATION_MAX_ACTIVE_PER_PATIENT", default=5
)
CONSULTATION_MAX_ACTIVE_PER_PAIR = env.int(
    "CONSULTATION_MAX_ACTIVE_PER_PAIR", default=2
)

# ------------------------------------------------------------------------------
# Idempotent creates (idempotency/; README "Retries and sync")
# ------------------------------------------------------------------------------
# How long an Idempotency-Key's first answer is replayed; purge_idempotency_keys
# deletes older ones.
IDEMPOTENCY_KEY_HOURS = env.int("IDEMPOTENCY_KEY_HOURS", default=24)
# How long a retry waits for a still-running request with its key before answering
# 409 idempotency_key_in_progress (PostgreSQL lock_timeout on the key's row).
IDEMPOTENCY_WAIT_SECONDS = env.float("IDEMPOTENCY_WAIT_SECONDS", default=5.0)

# ------------------------------------------------------------------------------
# Authentication
# ------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
# authenticate() goes through accounts/signin.py: its limits and lockout for everyone.
AUTHENTICATION_BACKENDS = ["accounts.backends.SignInBackend"]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.BCryptSHA256PasswordHasher",
    "django.contrib.auth.hashers.BCryptPasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation"
        ".UserAttributeSimilarityValidator"
    },
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "/dermatologist/login/"

# https://django-rest-framework-simplejwt.readthedocs.io/en/latest/settings.html
SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(
        minutes=env.int("JWT_ACCESS_MINUTES", default=10)
    ),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=env.int("JWT_REFRESH_DAYS", default=14)),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": True,
    "ALGORITHM": "HS256",
    "SIGNING_KEY": SECRET_KEY,
    "LEEWAY": 0,
    # A password change invalidates every token issued before it, access tokens too.
    "CHECK_REVOKE_TOKEN": True,
    "USER_AUTHENTICATION_RULE": "accounts.auth.can_authenticate",
    # Counts failed sign-ins and enforces the lockout below.
    "TOKEN_OBTAIN_SERIALIZER": "accounts.serializers.SignInSerializer",
}

# ------------------------------------------------------------------------------
# Account lifecycle (accounts/; README "Accounts")
# ------------------------------------------------------------------------------
ACCOUNT_EMAIL_VERIFICATION_HOURS = env.int(
    "ACCOUNT_EMAIL_VERIFICATION_HOURS", default=48
)
ACCOUNT_PASSWORD_RESET_HOURS = env.int("ACCOUNT_PASSWORD_RESET_HOURS", default=2)
# Links put in the e-mails, "{token}" replaced by the code; empty: the code alone.
ACCOUNT_EMAIL_VERIFY_URL = env.str("ACCOUNT_EMAIL_VERIFY_URL", default="")
ACCOUNT_PASSWORD_RESET_URL = env.str("ACCOUNT_PASSWORD_RESET_URL", default="")
# Failed sign-ins in a row that lock an account, and for how long.
ACCOUNT_LOCKOUT_THRESHOLD = env.int("ACCOUNT_LOCKOUT_THRESHOLD", default=10)
ACCOUNT_LOCKOUT_MINUTES = env.int("ACCOUNT_LOCKOUT_MINUTES", default=15)
# Days a soft-deleted account can be restored before purge_deleted_accounts erases it.
ACCOUNT_PURGE_AFTER_DAYS = env.int("ACCOUNT_PURGE_AFTER_DAYS", default=30)

# ------------------------------------------------------------------------------
# REST API
# ------------------------------------------------------------------------------
# How many proxies in front of the app append to X-Forwarded-For (and set
# X-Forwarded-Proto). 0: the socket's address is the client, forwarded headers are
# ignored, since a client can write them. skincare/http.py client_ip() reads it.
TRUSTED_PROXIES = env.int("TRUSTED_PROXIES", default=0)
if TRUSTED_PROXIES < 0:
    raise ImproperlyConfigured("TRUSTED_PROXIES counts proxies: 0 or more.")
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["accounts.auth.JWTAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # orjson behind DRF's JSONRenderer: same bytes, less CPU (bench/api_bench.py)
    "DEFAULT_RENDERER_CLASSES": ["skincare.renderers.ORJSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_PAGINATION_CLASS": "skincare.pagination.PageNumberPagination",
    "PAGE_SIZE": 20,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "skincare.schema.AutoSchema",
    "EXCEPTION_HANDLER": "drf_standardized_errors.handler.exception_handler",
    "DEFAULT_THROTTLE_CLASSES": [
        "skincare.throttling.AnonRateThrottle",
        "skincare.throttling.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env.str("THROTTLE_ANON", default="120/min"),
        "user": env.str("THROTTLE_USER", default="600/min"),
        "auth": env.str("THROTTLE_AUTH", default="10/min"),
        "register": env.str("THROTTLE_REGISTER", default="5/hour"),
        # accounts/throttles.py: per IP and per account (e-mail in the body or user)
        "register_account": env.str("THROTTLE_REGISTER_ACCOUNT", default="3/hour"),
        "sign_in_account": env.str("THROTTLE_SIGN_IN_ACCOUNT", default="5/min"),
        "password_reset": env.str("THROTTLE_PASSWORD_RESET", default="10/hour"),
        "password_reset_account": env.str(
            "THROTTLE_PASSWORD_RESET_ACCOUNT", default="3/hour"
        ),
        "token": env.str("THROTTLE_TOKEN", default="10/min"),
        "verify_email_resend": env.str(
            "THROTTLE_VERIFY_EMAIL_RESEND", default="3/hour"
        ),
        "verify_email_resend_ip": env.str(
            "THROTTLE_VERIFY_EMAIL_RESEND_IP", default="10/hour"
        ),
        "password_check": env.str("THROTTLE_PASSWORD_CHECK", default="10/hour"),
        # accounts/signin.py: password confirmations per client IP
        "password_check_ip": env.str("THROTTLE_PASSWORD_CHECK_IP", default="30/hour"),
        "export": env.str("THROTTLE_EXPORT", default="10/hour"),
    },
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    # Our throttles key on skincare.http.client_ip; DRF's own get_ident, used by none
    # of them, is given the same proxy count.
    # https://www.django-rest-framework.org/api-guide/throttling/#how-clients-are-identified
    "NUM_PROXIES": TRUSTED_PROXIES,
}
if DEBUG:
    REST_FRAMEWORK["DEFAULT_RENDERER_CLASSES"].append(
        "rest_framework.renderers.BrowsableAPIRenderer"
    )

DRF_STANDARDIZED_ERRORS = {
    "ENABLE_IN_DEBUG_FOR_UNHANDLED_EXCEPTIONS": True,
    "EXCEPTION_HANDLER_CLASS": "skincare.errors.ExceptionHandler",
    # simplejwt's own 401 codes (token_not_valid, ...) are part of the contract.
    "ERROR_SCHEMAS": {
        "401": "skincare.api.ErrorResponse401Serializer",
        "429": "skincare.api.RateLimitErrorResponseSerializer",
    },
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Skincare API",
    "DESCRIPTION": "REST API of the skincare platform for the mobile app.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        f"{name}Enum": f"drf_standardized_errors.openapi_serializers.{name}Enum.choices"
        for name in [
            "ValidationError",
            "ClientError",
            "ServerError",
            *(f"ErrorCode{code}" for code in (401, 403, 404, 405, 406, 415, 429, 500)),
        ]
    },
    "POSTPROCESSING_HOOKS": [
        "drf_standardized_errors.openapi_hooks.postprocess_schema_enums",
        "skincare.api.index_attrs_as_patterns",
        "skincare.api.query_strings_without_nul",
        "skincare.schema.discriminators_with_string_values",
        "skincare.schema.multipart_bodies_of_their_own",
        "skincare.schema.defaults_satisfy_their_schema",
        "skincare.schema.deprecated_operations",
        "idempotency.schema.document_idempotency",
        # after idempotency: its codes join those a description names
        "skincare.schema.error_bodies_for_described_errors",
        "skincare.schema.main_flow_examples",
        "skincare.schema.describe_api",
        "skincare.schema.sorted_components",
    ],
}
SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"]["ConsultationKindEnum"] = (
    "consultations.models.ConsultationType.Kind"
)
# Enums named after a bare field name (band, category, ...) get the owner's name, so
# generated client types read well and another app's `category` cannot collide.
SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"].update(
    {
        "ConcernBandEnum": "analysis.serializers.BAND_CHOICES",
        "ProductCategoryEnum": "routines.layering.PRODUCT_CATEGORIES",
        "RoutinePeriodEnum": "routines.layering.PERIODS",
        "RoutineSourceEnum": "routines.models.Routine.Source",
        "ConflictSeverityEnum": ["info", "warning", "severe"],
    }
)

# Operations scheduled to go, as the schema lists them, e.g.
# {"GET /api/v1/analyses/progress/": {"deprecated": "2027-01-04",
#   "sunset": "2027-07-05", "link": "https://docs.example.com/api/v2"}}: `deprecated:
# true` in the schema, Deprecation/Sunset/Link on its responses (skincare/versioning.py;
# README, "API versioning"). Nothing is deprecated today.
API_DEPRECATIONS: dict[str, dict[str, str]] = {}

CORS_ALLOWED_ORIGINS = env.list("CORS_ALLOWED_ORIGINS", default=[])
CORS_URLS_REGEX = r"^/api/.*$"
# Browser clients may send the retry and sync headers and read the answers' ones
# (README "Retries and sync").
CORS_ALLOW_HEADERS = (*cors_default_headers, "idempotency-key", "if-none-match")
CORS_EXPOSE_HEADERS = ["ETag", "Idempotent-Replayed", "Location", "Retry-After"]

# ------------------------------------------------------------------------------
# Security
# ------------------------------------------------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
# Forwarded headers are believed only from the proxies TRUSTED_PROXIES declares;
# without proxies a client could claim https. (Production with TRUSTED_PROXIES=0 behind
# a TLS proxy then redirect-loops: set TRUSTED_PROXIES.)
if TRUSTED_PROXIES:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
USE_X_FORWARDED_HOST = env.bool("USE_X_FORWARDED_HOST", default=False)
USE_X_FORWARDED_PORT = env.bool("USE_X_FORWARDED_PORT", default=False)
if not DEBUG:
    if "THROTTLE_NUM_PROXIES" in os.environ:
        raise ImproperlyConfigured(
            "THROTTLE_NUM_PROXIES was replaced by TRUSTED_PROXIES (the number of "
            "proxies in front of the app); set that instead."
        )
    if (USE_X_FORWARDED_HOST or USE_X_FORWARDED_PORT) and not TRUSTED_PROXIES:
        raise ImproperlyConfigured(
            "USE_X_FORWARDED_HOST/PORT trust headers that only a proxy sets: set "
            "TRUSTED_PROXIES to the number of proxies in front of the app."
        )
if not DEBUG:
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_REDIRECT_EXEMPT = [r"^health/", r"^metrics$"]
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True

DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=2_621_440)
FILE_UPLOAD_MAX_MEMORY_SIZE = env.int("FILE_UPLOAD_MAX_MEMORY_SIZE", default=2_621_440)
# No endpoint takes more than a photo and a few fields.
DATA_UPLOAD_MAX_NUMBER_FIELDS = 200
DATA_UPLOAD_MAX_NUMBER_FILES = 5
# Uploads spooled to disk and stored photos are readable by the app's user only.
FILE_UPLOAD_PERMISSIONS = 0o600
FILE_UPLOAD_DIRECTORY_PERMISSIONS = 0o700

# ------------------------------------------------------------------------------
# Internationalisation and time
# ------------------------------------------------------------------------------
LANGUAGE_CODE = "en"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# ------------------------------------------------------------------------------
# Static files (WhiteNoise) and media (private storage, never served publicly)
# ------------------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "var" / "static"
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / "var" / "media")
# Photos, raw uploads and backups (README "Object storage and more web hosts"): with
# STORAGE_URL, e.g. s3://KEY:SECRET@s3.example.com/bucket?region=eu-west-1, a private
# S3-compatible bucket through django-storages (media under media/, backups under
# backups/, or in BACKUP_STORAGE_URL's bucket); without it MEDIA_ROOT and BACKUP_DIR.
# https://django-storages.readthedocs.io/en/latest/backends/amazon-S3.html
STORAGE_URL = env.str("STORAGE_URL", default="")
BACKUP_STORAGE_URL = env.str("BACKUP_STORAGE_URL", default="")
STORAGES = {
    **storages_for(
        storage_url=STORAGE_URL,
        backup_storage_url=BACKUP_STORAGE_URL,
        backup_dir=str(env.path("BACKUP_DIR", default=BASE_DIR / "var" / "backups")),
    ),
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# ------------------------------------------------------------------------------
# Logging: one JSON (or plain) line per request and per log record
# ------------------------------------------------------------------------------
LOG_FORMAT = env.str("LOG_FORMAT", default="plain" if DEBUG else "json")
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
# configure() also redacts secrets, tokens and bytes from every record it creates.
LOGGING_CONFIG = "skincare.logging.configure"
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "request_id": {"()": "skincare.logging.RequestIdFilter"},
        "redact": {"()": "skincare.logging.RedactFilter"},
    },
    "formatters": {
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s",
            "rename_fields": {
                "asctime": "time",
                "levelname": "level",
                "name": "logger",
            },
        },
        "plain": {
            "format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["request_id", "redact"],
        }
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.server": {"level": "WARNING"},
        "django.request": {"level": "ERROR"},
        # httpx logs each request's URL at INFO; an APNs URL holds the device token.
        "httpx": {"level": "WARNING"},
        "httpcore": {"level": "WARNING"},
    },
}

# ------------------------------------------------------------------------------
# Operations: metrics (skincare/metrics.py), backups (operations/); README "Operations"
# ------------------------------------------------------------------------------
# Bearer token Prometheus sends to /metrics; unset, /metrics answers 404.
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
# Optional comma-separated addresses or networks allowed to scrape (others: 404).
METRICS_ALLOWED_IPS = env.list("METRICS_ALLOWED_IPS", default=[])
# Where `manage.py backup` writes without STORAGE_URL (STORAGES["backups"] above), and
# how many it keeps.
BACKUP_DIR = env.path("BACKUP_DIR", default=BASE_DIR / "var" / "backups")
BACKUP_KEEP = env.int("BACKUP_KEEP", default=14)
