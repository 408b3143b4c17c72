"""Production: real AWS unless AWS_ENDPOINT_URL is set, PostgreSQL, Redis.

Secrets have no default: a missing one stops the process at start-up.
"""

from .base import *  # noqa: F403
from .base import aws_dependent_settings, env

PAYFLOW_ENV = env.str("PAYFLOW_ENV", default="prod")
SECRET_KEY = env.str("DJANGO_SECRET_KEY")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS")
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

DATABASES = {"default": env.db("DATABASE_URL")}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": env.str("REDIS_URL"),
        "KEY_PREFIX": f"payflow-{PAYFLOW_ENV}",
    }
}

SQS_PREDEFINED_QUEUES = env.bool("SQS_PREDEFINED_QUEUES", default=True)
SQS_QUEUE_URL_BASE = env.str("SQS_QUEUE_URL_BASE")

# Filled by collectstatic when the image is built.
STATIC_ROOT = BASE_DIR / "staticfiles"

# Behind a TLS-terminating load balancer that sets X-Forwarded-Proto.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
# The load balancer probes /v1/health over plain HTTP.
SECURE_REDIRECT_EXEMPT = [r"^v1/health$"]
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_CONTENT_TYPE_NOSNIFF = True

globals().update(aws_dependent_settings(globals()))
