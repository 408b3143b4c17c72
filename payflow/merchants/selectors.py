import hmac

from django.conf import settings
from django.core.cache import cache

from .models import ApiKey, Merchant
from .services import (
    api_key_cache_key,
    api_key_hash,
    merchant_rate_limit_cache_key,
    merchant_routing_cache_key,
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


def merchant_routing_rules(*, merchant_id: str) -> list[dict]:
    """The merchant's own routing rules (operators set them), through the cache."""
    cache_key = merchant_routing_cache_key(merchant_id)
    rules = cache.get(cache_key)
    if rules is None:
        rules = Merchant.objects.filter(pk=merchant_id).values_list("routing_rules", flat=True).first() or []
        cache.set(cache_key, rules, settings.API_KEY_CACHE_SECONDS)
    return rules


def merchant_rate_limit(*, merchant_id: str) -> tuple[int, int]:
    """(requests per second, burst) for each of the merchant's keys: its own, else the default."""
    cache_key = merchant_rate_limit_cache_key(merchant_id)
    limits = cache.get(cache_key)
    if limits is None:
        own = (
            Merchant.objects.filter(pk=merchant_id)
            .values_list("rate_limit_per_second", "rate_limit_burst")
            .first()
        ) or (None, None)
        limits = (
            own[0] or settings.RATE_LIMIT_PER_SECOND,
            own[1] or settings.RATE_LIMIT_BURST,
        )
        cache.set(cache_key, limits, settings.API_KEY_CACHE_SECONDS)
    return limits


def merchant_choices() -> list[tuple[str, str]]:
    """(id, "name (id)") of every merchant, by name: the operator console's merchant filters."""
    merchants = Merchant.objects.order_by("name").values_list("id", "name")
    return [(merchant_id, f"{name} ({merchant_id})") for merchant_id, name in merchants]
