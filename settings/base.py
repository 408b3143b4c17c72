"""Settings shared by every environment.

This package is the only place that reads the environment (through the one
``env`` object below). ``local``, ``test`` and ``production`` override as little
as they can and finish with ``globals().update(aws_dependent_settings(globals()))``
so that the broker URL, the S3 storage and the queue names always follow the
AWS settings they were given.
"""

from pathlib import Path
from urllib.parse import quote, urlsplit

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
env = environ.Env()

# Every AWS resource name starts with "payflow-<PAYFLOW_ENV>-", so several
# environments can share one AWS account (and tests never touch dev data).
PAYFLOW_ENV = env.str("PAYFLOW_ENV", default="dev")

DEBUG = env.bool("DJANGO_DEBUG", default=False)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])

INSTALLED_APPS = [
    # Before the admin: its templates extend and override the admin's.
    "payflow.console",
    "payflow.console.site.ConsoleAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "corsheaders",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "payflow.aws",
    "payflow.audit",
    "payflow.auth",
    "payflow.balances",
    "payflow.events",
    "payflow.idempotency",
    "payflow.merchants",
    "payflow.outbox",
    "payflow.observability",
    "payments",
    "customers",
    "webhooks",
]

MIDDLEWARE = [
    "payflow.observability.middleware.RequestMiddleware",
    "payflow.ratelimit.middleware.RateLimitHeadersMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Before anything that may answer: a preflight gets its CORS headers (API paths only).
    "corsheaders.middleware.CorsMiddleware",
    # After CORS, so a browser can read the 413.
    "payflow.api.middleware.RequestSizeLimitMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

# ensure_demo refuses to create a demo merchant and operator where this is False.
PAYFLOW_DEMO_ALLOWED = False

ROOT_URLCONF = "payflow.urls"
WSGI_APPLICATION = "payflow.wsgi.application"
APPEND_SLASH = False

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

# SQLite in WAL mode with IMMEDIATE transactions lets web, worker and beat share
# the local database file without "database is locked" errors.
SQLITE_OPTIONS = {
    "init_command": "PRAGMA journal_mode=WAL;",
    "transaction_mode": "IMMEDIATE",
    "timeout": 20,
}
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / '.state' / 'payflow.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = SQLITE_OPTIONS
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
if env.str("REDIS_URL", default=""):
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": env.str("REDIS_URL"),
            "KEY_PREFIX": f"payflow-{PAYFLOW_ENV}",
        }
    }

# Idempotency keys are kept 24 h; an in-progress claim older than the lock
# belongs to a crashed request and may be taken over.
IDEMPOTENCY_RETENTION_SECONDS = env.int("IDEMPOTENCY_RETENTION_SECONDS", default=24 * 3600)
IDEMPOTENCY_LOCK_SECONDS = env.int("IDEMPOTENCY_LOCK_SECONDS", default=60)

# --- Payments ------------------------------------------------------------------
# Providers by rule (first match wins), else the default; the fallbacks are
# tried in order when the chosen provider is definitely unavailable.
PAYMENTS_ROUTING_RULES = [
    {"name": "inr-to-razorpay", "provider": "razorpay_mock", "currencies": ["INR"]},
    {"name": "high-value-to-cashfree", "provider": "cashfree_mock", "min_amount": "10000"},
]
PAYMENTS_DEFAULT_PROVIDER = "mock"
PAYMENTS_PROVIDER_FALLBACKS = ["mock", "razorpay_mock", "cashfree_mock"]
# Largest amount accepted, in minor units.
PAYMENTS_MAX_AMOUNT_MINOR = 99_999_999_999
PAYMENTS_MAX_RETRIES = env.int("PAYMENTS_MAX_RETRIES", default=3)
PAYMENTS_RETRY_BACKOFF_SECONDS = env.float("PAYMENTS_RETRY_BACKOFF_SECONDS", default=2.0)
# How often operators may retry a failed payment (card networks limit reattempts).
PAYMENTS_OPERATOR_RETRY_LIMIT = env.int("PAYMENTS_OPERATOR_RETRY_LIMIT", default=3)
# Sandbox providers: share of payments without a test outcome that succeed,
# and a factor on their simulated latency (0 = none).
PAYMENTS_SANDBOX_SUCCESS_RATE = env.float("PAYMENTS_SANDBOX_SUCCESS_RATE", default=0.85)
PAYMENTS_PROVIDER_LATENCY_SCALE = env.float("PAYMENTS_PROVIDER_LATENCY_SCALE", default=1.0)

# Settlement fees per captured payment: a percentage plus a fixed part in the
# currency's major unit (rounded half-even to minor units).
SETTLEMENT_FEE_PERCENT = env.str("SETTLEMENT_FEE_PERCENT", default="2.9")
SETTLEMENT_FEE_FIXED = env.str("SETTLEMENT_FEE_FIXED", default="0.30")

# --- Disbursements ----------------------------------------------------------------
# Payout provider credentials: a Secrets Manager secret (JSON
# {"paypal": {"client_id": …, "secret": …}, …}) when named, else the same JSON
# in PAYOUT_CREDENTIALS.
PAYOUT_CREDENTIALS_SECRET = env.str("PAYOUT_CREDENTIALS_SECRET", default="")
PAYOUT_CREDENTIALS = env.str("PAYOUT_CREDENTIALS", default="")
# ACH payouts complete (or come back) only after this delay.
ACH_SETTLEMENT_DELAY_SECONDS = env.int("ACH_SETTLEMENT_DELAY_SECONDS", default=3 * 24 * 3600)
# Notifications of finished disbursements: email, and an SNS topic if set.
DISBURSEMENT_SNS_TOPIC_ARN = env.str("DISBURSEMENT_SNS_TOPIC_ARN", default="")
EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.smtp.EmailBackend")
EMAIL_FILE_PATH = env.str("EMAIL_FILE_PATH", default=str(BASE_DIR / ".state" / "mail"))
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="payouts@payflow.invalid")
EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=587)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=True)
EMAIL_TIMEOUT = 10

# --- Webhooks -------------------------------------------------------------------
# Production: https only, and never to loopback, private, link-local or
# reserved addresses. Local settings allow http://127.0.0.1 for developers.
WEBHOOK_ALLOW_HTTP = env.bool("WEBHOOK_ALLOW_HTTP", default=False)
WEBHOOK_ALLOW_PRIVATE_URLS = env.bool("WEBHOOK_ALLOW_PRIVATE_URLS", default=False)
# After a rotation the old secret signs too, for this long.
WEBHOOK_SECRET_OVERLAP_SECONDS = 24 * 3600
# Waits before each attempt of a delivery (Standard Webhooks' example schedule:
# immediately, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h, 24 h), times
# WEBHOOK_TIME_SCALE (tests compress it). After the last, the delivery is failed.
WEBHOOK_RETRY_SCHEDULE = env.list(
    "WEBHOOK_RETRY_SCHEDULE", cast=int, default=[0, 5, 300, 1800, 7200, 18000, 36000, 50400, 72000, 86400]
)
WEBHOOK_TIME_SCALE = env.float("WEBHOOK_TIME_SCALE", default=1.0)
# A receiver has this long to answer 2xx; redirects are failures, never followed.
WEBHOOK_TIMEOUT_SECONDS = env.float("WEBHOOK_TIMEOUT_SECONDS", default=15.0)
# Waits up to this long are a task countdown; longer ones are kept in DynamoDB
# (next_attempt_at) for the dispatcher that beat runs every few seconds.
WEBHOOK_COUNTDOWN_MAX_SECONDS = env.float("WEBHOOK_COUNTDOWN_MAX_SECONDS", default=10.0)
# An endpoint failing without a success for this long is disabled.
WEBHOOK_DISABLE_AFTER_DAYS = env.float("WEBHOOK_DISABLE_AFTER_DAYS", default=5.0)
# Attempts in flight to one endpoint per worker process; the rest wait, so a
# slow or dead endpoint never takes every worker thread.
WEBHOOK_ENDPOINT_CONCURRENCY = env.int("WEBHOOK_ENDPOINT_CONCURRENCY", default=4)
WEBHOOK_MAX_ENDPOINTS_PER_MERCHANT = 16
WEBHOOK_DISPATCH_SHARDS = 4
WEBHOOK_DISPATCH_BATCH = 200
# Where a recorded event goes on from, in the event's own transaction.
EVENT_SUBSCRIBERS = ["webhooks.services.deliveries_add"]

# Uncaptured authorizations are canceled (reason "expired") after this.
AUTHORIZATION_TTL_DAYS = env.int("AUTHORIZATION_TTL_DAYS", default=7)

# Transactional outbox: an entry not taken by a worker this long after its
# write is re-published by the sweeper (beat, every minute).
OUTBOX_GRACE_SECONDS = env.int("OUTBOX_GRACE_SECONDS", default=30)
OUTBOX_SHARDS = 4
OUTBOX_SWEEP_BATCH = 500

# How long an API key lookup is cached; a revoked key is evicted at once.
API_KEY_CACHE_SECONDS = env.int("API_KEY_CACHE_SECONDS", default=30)

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"

# --- CORS ----------------------------------------------------------------------
# Browsers may call the API only from these origins (the dashboard's own, by
# default); merchants' servers do not need CORS. Never with cookies.
CORS_ALLOWED_ORIGINS = env.list("DJANGO_CORS_ALLOWED_ORIGINS", default=[])
CORS_URLS_REGEX = r"^/v1/.*$"
CORS_ALLOW_CREDENTIALS = False
CORS_ALLOW_HEADERS = ("accept", "authorization", "content-type", "idempotency-key", "x-request-id")
CORS_EXPOSE_HEADERS = (
    "X-Request-ID",
    "Idempotent-Replayed",
    "RateLimit-Limit",
    "RateLimit-Remaining",
    "RateLimit-Reset",
    "Retry-After",
)
CORS_PREFLIGHT_MAX_AGE = 600

# --- Django REST framework and the OpenAPI document -------------------------
REST_FRAMEWORK = {
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_THROTTLE_CLASSES": ["payflow.ratelimit.throttling.ApiKeyThrottle"],
    "DEFAULT_AUTHENTICATION_CLASSES": ["payflow.auth.authentication.ApiKeyAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PARSER_CLASSES": ["payflow.money.parsers.DecimalJSONParser"],
    "UNAUTHENTICATED_USER": None,
    "EXCEPTION_HANDLER": "payflow.errors.handlers.api_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "payflow.api.schema.AutoSchema",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "PayFlow API",
    "DESCRIPTION": (
        "Payments, refunds, customers, disbursements and webhooks. Amounts are "
        "decimal strings in the currency's major unit; every error has one shape."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "payflow.errors.schema.document_errors",
        "payflow.api.schema.document_parameters",
    ],
}

# --- AWS ---------------------------------------------------------------------
# No endpoint means real AWS; credentials left unset mean boto3's own chain
# (instance profile, task role, environment).
AWS_REGION = env.str("AWS_REGION", default="us-east-1")
AWS_ENDPOINT_URL = env.str("AWS_ENDPOINT_URL", default=None)
AWS_ACCESS_KEY_ID = env.str("AWS_ACCESS_KEY_ID", default=None)
AWS_SECRET_ACCESS_KEY = env.str("AWS_SECRET_ACCESS_KEY", default=None)
AWS_STORAGE_BUCKET_NAME = env.str("AWS_STORAGE_BUCKET_NAME", default=None)
# The queues every worker may consume; each gets "<name>-dlq".
PAYFLOW_QUEUES = ("payments", "webhooks", "settlement")
SQS_DLQ_MAX_RECEIVE_COUNT = 3
SQS_DLQ_RETENTION_SECONDS = 14 * 24 * 3600
# In production Celery neither lists nor creates queues: provision_aws does.
SQS_PREDEFINED_QUEUES = env.bool("SQS_PREDEFINED_QUEUES", default=False)
SQS_QUEUE_URL_BASE = env.str("SQS_QUEUE_URL_BASE", default=None)
AWS_CALL_TIMEOUT_SECONDS = env.float("AWS_CALL_TIMEOUT_SECONDS", default=5.0)
HEALTH_CHECK_TIMEOUT_SECONDS = env.float("HEALTH_CHECK_TIMEOUT_SECONDS", default=1.5)
# Bearer token for /v1/health?deep=1 and /metrics besides an operator's admin session
# (for probes and scrapers). Empty: sessions only.
OPERATIONS_TOKEN = env.str("PAYFLOW_OPERATIONS_TOKEN", default="")
# Request bodies of /v1/: bytes (413 beyond), nesting depth and keys plus array items in all.
API_MAX_BODY_BYTES = env.int("API_MAX_BODY_BYTES", default=64 * 1024)
API_MAX_URL_BYTES = env.int("API_MAX_URL_BYTES", default=8 * 1024)
API_MAX_JSON_DEPTH = env.int("API_MAX_JSON_DEPTH", default=10)
API_MAX_JSON_ITEMS = env.int("API_MAX_JSON_ITEMS", default=1000)
# A Celery worker on a host without a web server serves /metrics on this port
# (0: off), to callers with OPERATIONS_TOKEN, which must then be set.
WORKER_METRICS_PORT = env.int("WORKER_METRICS_PORT", default=0)
if WORKER_METRICS_PORT and not OPERATIONS_TOKEN:
    raise ImproperlyConfigured("WORKER_METRICS_PORT needs PAYFLOW_OPERATIONS_TOKEN: metrics are not public.")
if WORKER_METRICS_PORT and not env.str("PROMETHEUS_MULTIPROC_DIR", default=""):
    # prometheus_client reads it itself; without it a prefork worker's children count alone.
    raise ImproperlyConfigured("WORKER_METRICS_PORT needs PROMETHEUS_MULTIPROC_DIR (the image sets it).")
# Each API key's token bucket: requests per second sustained, and at once.
# A merchant's own figures (set in the admin) win. The buckets live in Redis
# when REDIS_URL is set, else in a SQLite file every local process shares.
RATE_LIMIT_PER_SECOND = env.int("RATE_LIMIT_PER_SECOND", default=100)
RATE_LIMIT_BURST = env.int("RATE_LIMIT_BURST", default=200)
RATE_LIMIT_STORE_URL = env.str(
    "RATE_LIMIT_STORE_URL",
    default=env.str("REDIS_URL", default="") or f"sqlite:///{BASE_DIR / '.state' / 'ratelimit.sqlite3'}",
)

# How often each process writes its dashboard counters (0: only when told to, as in unit tests).
METRICS_FLUSH_SECONDS = env.float("METRICS_FLUSH_SECONDS", default=10.0)

# --- Celery --------------------------------------------------------------------
CELERY_TASK_SERIALIZER = "json"
# Workers and beat log through LOGGING above (JSON, scrubbed), not Celery's own handler.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_TIMEZONE = "UTC"
# A message is acknowledged only when its task finished; a crash or a failure
# leaves it on SQS, which redelivers it and, after SQS_DLQ_MAX_RECEIVE_COUNT
# receives, moves it to the dead-letter queue.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_TASK_ACKS_ON_FAILURE_OR_TIMEOUT = False
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=100)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=120)
SQS_VISIBILITY_TIMEOUT = env.int("SQS_VISIBILITY_TIMEOUT", default=180)
CELERY_TASK_DEFAULT_QUEUE = "payments"
CELERY_TASK_ROUTES = {
    "payflow.outbox.tasks.*": {"queue": "payments"},
    "payments.tasks.settle*": {"queue": "settlement"},
    "payments.tasks.*": {"queue": "payments"},
    "customers.tasks.*": {"queue": "payments"},
    "webhooks.tasks.*": {"queue": "webhooks"},
}
CELERY_WORKER_PREFETCH_MULTIPLIER = env.int("CELERY_WORKER_PREFETCH_MULTIPLIER", default=4)
# SQS supports neither broadcast nor event queues.
CELERY_WORKER_ENABLE_REMOTE_CONTROL = False
CELERY_WORKER_SEND_TASK_EVENTS = False
CELERY_TASK_SEND_SENT_EVENT = False
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# kombu's SQS transport with a poll loop that survives SQS outages (payflow/aws/broker.py).
CELERY_BROKER_TRANSPORT = "payflow.aws.broker:Transport"
# Long poll for up to this many seconds; between empty polls wait this long.
SQS_WAIT_TIME_SECONDS = env.int("SQS_WAIT_TIME_SECONDS", default=10)
SQS_POLLING_INTERVAL = env.float("SQS_POLLING_INTERVAL", default=0.01)
# A queue whose poll loop completed no poll for this long: the worker reconnects to SQS.
SQS_POLL_STALL_SECONDS = env.float("SQS_POLL_STALL_SECONDS", default=120)

# One JSON object a line (timestamp, level, logger, event, request_id, merchant_id,
# payment_id, task …), secrets scrubbed: payflow/observability/logs.py.
# LOG_FORMAT=plain gives one readable line instead, scrubbed the same way.
LOG_FORMAT = env.str("LOG_FORMAT", default="json")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "json": {"()": "payflow.observability.logs.JsonFormatter"},
        "plain": {
            "()": "payflow.observability.logs.ScrubbingFormatter",
            "format": "%(asctime)s %(levelname)s %(name)s %(message)s",
        },
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "botocore": {"level": "WARNING"},
        "boto3": {"level": "WARNING"},
        "pynamodb": {"level": "WARNING"},
    },
}


def aws_dependent_settings(ns: dict) -> dict:
    """Settings derived from the AWS primitives in ``ns`` (a settings module's globals)."""
    if ns["SQS_VISIBILITY_TIMEOUT"] <= ns["CELERY_TASK_TIME_LIMIT"]:
        raise ImproperlyConfigured(
            "SQS_VISIBILITY_TIMEOUT must exceed CELERY_TASK_TIME_LIMIT, or SQS "
            "redelivers tasks that are still running."
        )
    if ns["WEBHOOK_TIMEOUT_SECONDS"] >= ns["CELERY_TASK_SOFT_TIME_LIMIT"]:
        raise ImproperlyConfigured(
            "WEBHOOK_TIMEOUT_SECONDS must be shorter than CELERY_TASK_SOFT_TIME_LIMIT."
        )
    if ns["WEBHOOK_COUNTDOWN_MAX_SECONDS"] + ns["CELERY_TASK_TIME_LIMIT"] >= ns["SQS_VISIBILITY_TIMEOUT"]:
        raise ImproperlyConfigured(
            "SQS_VISIBILITY_TIMEOUT must exceed WEBHOOK_COUNTDOWN_MAX_SECONDS + CELERY_TASK_TIME_LIMIT: a "
            "countdown is held by the worker while SQS keeps the message invisible."
        )
    if ns["SQS_POLL_STALL_SECONDS"] <= ns["SQS_WAIT_TIME_SECONDS"] + ns["SQS_POLLING_INTERVAL"]:
        raise ImproperlyConfigured(
            "SQS_POLL_STALL_SECONDS must exceed SQS_WAIT_TIME_SECONDS + SQS_POLLING_INTERVAL: a healthy "
            "poll loop completes a poll that often."
        )
    prefix = f"payflow-{ns['PAYFLOW_ENV']}"
    endpoint = ns["AWS_ENDPOINT_URL"]
    key, secret = ns["AWS_ACCESS_KEY_ID"], ns["AWS_SECRET_ACCESS_KEY"]

    broker_url = "sqs://"
    if key and secret:
        broker_url = f"sqs://{quote(key, safe='')}:{quote(secret, safe='')}@"
    transport = {
        "region": ns["AWS_REGION"],
        "queue_name_prefix": f"{prefix}-",
        "visibility_timeout": ns["SQS_VISIBILITY_TIMEOUT"],
        "wait_time_seconds": ns["SQS_WAIT_TIME_SECONDS"],
        "polling_interval": ns["SQS_POLLING_INTERVAL"],
        "poll_stall_seconds": ns["SQS_POLL_STALL_SECONDS"],
    }
    if endpoint:
        # kombu takes a custom endpoint from the broker URL's host and port.
        parts = urlsplit(endpoint)
        broker_url += parts.netloc
        transport["is_secure"] = parts.scheme == "https"
    if ns["SQS_PREDEFINED_QUEUES"]:
        if not ns["SQS_QUEUE_URL_BASE"]:
            raise ImproperlyConfigured("SQS_PREDEFINED_QUEUES needs SQS_QUEUE_URL_BASE.")
        base = ns["SQS_QUEUE_URL_BASE"].rstrip("/")
        transport["predefined_queues"] = {
            # kombu looks predefined queues up by their prefixed name.
            f"{prefix}-{queue}": {"url": f"{base}/{prefix}-{queue}"}
            for queue in ns["PAYFLOW_QUEUES"]
        }

    s3_options = {
        "bucket_name": ns["AWS_STORAGE_BUCKET_NAME"] or f"{prefix}-files",
        "region_name": ns["AWS_REGION"],
        "signature_version": "s3v4",
        "default_acl": None,
        "file_overwrite": False,
    }
    if endpoint:
        s3_options |= {"endpoint_url": endpoint, "addressing_style": "path"}
    if key and secret:
        s3_options |= {"access_key": key, "secret_key": secret}

    return {
        "AWS_RESOURCE_PREFIX": prefix,
        "CELERY_BROKER_URL": broker_url,
        "CELERY_BROKER_TRANSPORT_OPTIONS": transport,
        "STORAGES": {
            "default": {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": s3_options},
            "staticfiles": {"BACKEND": ns["STATICFILES_BACKEND"]},
        },
    }


STATICFILES_BACKEND = "whitenoise.storage.CompressedManifestStaticFilesStorage"
