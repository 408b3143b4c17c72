"""Settings for the test suite.

Unit tests run against moto's in-process AWS (no endpoint); the end-to-end
tier points AWS_ENDPOINT_URL at an emulator it starts itself. The
production-profile run sets DATABASE_URL (PostgreSQL) and REDIS_URL.
"""

import tempfile
from pathlib import Path

from .base import *  # noqa: F403
from .base import aws_dependent_settings, env

SECRET_KEY = "payflow-test-only-not-a-secret"
PAYFLOW_ENV = env.str("PAYFLOW_ENV", default="test")

PAYFLOW_DEMO_ALLOWED = True

AWS_ACCESS_KEY_ID = env.str("AWS_ACCESS_KEY_ID", default="test")
AWS_SECRET_ACCESS_KEY = env.str("AWS_SECRET_ACCESS_KEY", default="test")

DATABASES = {"default": env.db("DATABASE_URL", default="sqlite://:memory:")}
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STATICFILES_BACKEND = "django.contrib.staticfiles.storage.StaticFilesStorage"
WHITENOISE_USE_FINDERS = True

# Short enough that redelivery and dead-lettering happen within a test.
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=8)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=10)
SQS_VISIBILITY_TIMEOUT = env.int("SQS_VISIBILITY_TIMEOUT", default=12)
SQS_WAIT_TIME_SECONDS = env.int("SQS_WAIT_TIME_SECONDS", default=1)

# Buckets are keyed by merchant and key, so test runs can share one file.
RATE_LIMIT_STORE_URL = env.str(
    "RATE_LIMIT_STORE_URL",
    default=env.str("REDIS_URL", default="")
    or f"sqlite:///{Path(tempfile.gettempdir()) / 'payflow-test-ratelimit.sqlite3'}",
)

# Unit tests flush the dashboard's counters themselves; end-to-end tests that
# read the dashboard set an interval.
METRICS_FLUSH_SECONDS = env.float("METRICS_FLUSH_SECONDS", default=0)

PAYMENTS_SANDBOX_SUCCESS_RATE = 1.0
PAYMENTS_PROVIDER_LATENCY_SCALE = env.float("PAYMENTS_PROVIDER_LATENCY_SCALE", default=0.0)
PAYMENTS_RETRY_BACKOFF_SECONDS = env.float("PAYMENTS_RETRY_BACKOFF_SECONDS", default=0.1)

ACH_SETTLEMENT_DELAY_SECONDS = env.int("ACH_SETTLEMENT_DELAY_SECONDS", default=1)
EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.locmem.EmailBackend")
PAYOUT_CREDENTIALS = env.str(
    "PAYOUT_CREDENTIALS",
    default='{"paypal": {"client_id": "test-paypal", "secret": "test-paypal-secret"}, '
    '"stripe": {"client_id": "test-stripe", "secret": "test-stripe-secret"}, '
    '"ach": {"client_id": "test-ach", "secret": "test-ach-secret"}}',
)

WEBHOOK_ALLOW_HTTP = env.bool("WEBHOOK_ALLOW_HTTP", default=True)
WEBHOOK_ALLOW_PRIVATE_URLS = env.bool("WEBHOOK_ALLOW_PRIVATE_URLS", default=True)
WEBHOOK_TIMEOUT_SECONDS = env.float("WEBHOOK_TIMEOUT_SECONDS", default=2.0)
WEBHOOK_COUNTDOWN_MAX_SECONDS = env.float("WEBHOOK_COUNTDOWN_MAX_SECONDS", default=1.0)
# A cache the test's processes share when it names a folder (the end-to-end
# tier does, as production shares Redis); otherwise this process's memory.
if env.str("PAYFLOW_CACHE_DIR", default="") and not env.str("REDIS_URL", default=""):
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": env.str("PAYFLOW_CACHE_DIR"),
        }
    }

globals().update(aws_dependent_settings(globals()))
