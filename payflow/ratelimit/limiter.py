"""Per API key rate limits: the merchant's own, or the platform's default."""

import logging
from functools import cache

from django.conf import settings

from payflow.merchants.selectors import merchant_rate_limit

from .stores import Decision, RedisStore, SqliteStore

logger = logging.getLogger(__name__)


@cache
def _store(url: str, prefix: str):
    if url.startswith(("redis://", "rediss://")):
        return RedisStore(url, prefix)
    if url.startswith("sqlite:///"):
        return SqliteStore(url.removeprefix("sqlite:///"))
    raise ValueError(f"RATE_LIMIT_STORE_URL must be redis:// or sqlite:///, not {url!r}.")


def rate_limit_take(*, api_key_id: int, merchant_id: str) -> Decision | None:
    """Spend one request of the key's bucket; None when the store cannot answer (fail open, logged)."""
    rate, burst = merchant_rate_limit(merchant_id=merchant_id)
    try:
        store = _store(settings.RATE_LIMIT_STORE_URL, f"payflow-{settings.PAYFLOW_ENV}")
        return store.take(f"{merchant_id}:{api_key_id}", rate, burst)
    except Exception as exc:  # noqa: BLE001 - a limiter outage must not take the API down
        logger.warning("rate limiter unavailable, request let through: %s: %s", exc.__class__.__name__, exc)
        return None
