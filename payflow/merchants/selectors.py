import hmac

from django.conf import settings
from django.core.cache import cache

from .models import ApiKey
from .services import api_key_cache_key, api_key_hash


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
