import hmac

from django.conf import settings
from django.core.cache import cache

from .models import ApiKey, Merchant
from .services import (
    api_key_cache_key,
    api_key_hash,
    merchant_settings_cache_key,
)


def api_key_get_active(*, secret: str) -> ApiKey | None:
    return (
        ApiKey.objects.select_related("merchant")
        .filter(secret_hash=api_key_hash(secret), revoked_at__isnull=True)
        .first()
    )


def api_key_identity(*, secret: str) -> dict | None:
    """``{"merchant_id", "api_key_id"}`` of an active key, from the cache when possible.

    Unknown keys are cached too (as an empty dict), so a client hammering
    with a bad key does not reach the database on every request.
    """
    if not secret.startswith("sk_") or len(secret) > 128:
        return None
    digest = api_key_hash(secret)
    cache_key = api_key_cache_key(digest)
    identity = cache.get(cache_key)
    if identity is None:
        key = (
            ApiKey.objects.filter(secret_hash=digest, revoked_at__isnull=True)
            .values("id", "merchant_id", "secret_hash")
            .first()
        )
        found = key is not None and hmac.compare_digest(key["secret_hash"], digest)
        identity = {"merchant_id": key["merchant_id"], "api_key_id": key["id"]} if found else {}
        cache.set(cache_key, identity, settings.API_KEY_CACHE_SECONDS)
    return identity or None


def _merchant_settings(merchant_id: str) -> dict:
    """What operators set on a merchant that the API reads on its requests, through the cache."""
    cache_key = merchant_settings_cache_key(merchant_id)
    found = cache.get(cache_key)
    if found is None:
        row = Merchant.objects.filter(pk=merchant_id).values(
            "routing_rules", "rate_limit_per_second", "rate_limit_burst"
        )
        found = row.first() or {}
        cache.set(cache_key, found, settings.API_KEY_CACHE_SECONDS)
    return found


def merchant_routing_rules(*, merchant_id: str) -> list[dict]:
    """The merchant's own routing rules (operators set them)."""
    return _merchant_settings(merchant_id).get("routing_rules") or []


def merchant_rate_limit(*, merchant_id: str) -> tuple[int, int]:
    """(requests per second, burst) for each of the merchant's keys: its own, else the default."""
    found = _merchant_settings(merchant_id)
    return (
        found.get("rate_limit_per_second") or settings.RATE_LIMIT_PER_SECOND,
        found.get("rate_limit_burst") or settings.RATE_LIMIT_BURST,
    )


def merchant_choices() -> list[tuple[str, str]]:
    """(id, "name (id)") of every merchant, by name: the operator console's merchant filters."""
    merchants = Merchant.objects.order_by("name").values_list("id", "name")
    return [(merchant_id, f"{name} ({merchant_id})") for merchant_id, name in merchants]
