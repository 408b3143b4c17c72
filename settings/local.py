"""The default for manage.py and ``make run``: everything on this machine.

AWS is the emulator on 127.0.0.1:4566 and the database is SQLite under
.state/, so no environment variable is needed.
"""

from .base import *  # noqa: F403
from .base import aws_dependent_settings, env

SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="payflow-local-development-only-not-a-secret")

AWS_ENDPOINT_URL = env.str("AWS_ENDPOINT_URL", default="http://127.0.0.1:4566")
PAYFLOW_DEMO_ALLOWED = True

AWS_ACCESS_KEY_ID = env.str("AWS_ACCESS_KEY_ID", default="test")
AWS_SECRET_ACCESS_KEY = env.str("AWS_SECRET_ACCESS_KEY", default="test")

# A cache every local process shares (web workers, worker, admin), so that a
# revoked API key stops working everywhere at once.
if not env.str("REDIS_URL", default=""):
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": env.str("PAYFLOW_CACHE_DIR", default=str(BASE_DIR / ".state" / "cache")),
        }
    }

# ACH settles in minutes locally; emails are printed; the sandbox payout
# credentials are the demo's own (make run stores them in the emulator's
# Secrets Manager).
ACH_SETTLEMENT_DELAY_SECONDS = env.int("ACH_SETTLEMENT_DELAY_SECONDS", default=120)
EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
PAYOUT_CREDENTIALS_SECRET = env.str("PAYOUT_CREDENTIALS_SECRET", default="payflow/dev/payout-providers")

# Static files are served from the apps' folders without collectstatic.
STATICFILES_BACKEND = "django.contrib.staticfiles.storage.StaticFilesStorage"
WHITENOISE_USE_FINDERS = True

WEBHOOK_ALLOW_HTTP = env.bool("WEBHOOK_ALLOW_HTTP", default=True)
WEBHOOK_ALLOW_PRIVATE_URLS = env.bool("WEBHOOK_ALLOW_PRIVATE_URLS", default=True)

globals().update(aws_dependent_settings(globals()))

# The dashboard's own origin (make run serves it on port 8000).
CORS_ALLOWED_ORIGINS = env.list(
    "DJANGO_CORS_ALLOWED_ORIGINS", default=["http://127.0.0.1:8000", "http://localhost:8000"]
)
