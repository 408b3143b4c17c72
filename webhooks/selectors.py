import logging

from django.core.cache import cache

from payflow.aws.dynamodb import owned_get
from payflow.aws.pagination import Page, query_page

from .tables import WebhookDelivery, WebhookEndpoint

logger = logging.getLogger(__name__)

SUBSCRIPTIONS_CACHE_SECONDS = 300


def endpoint_get(*, merchant_id: str, endpoint_id: str) -> WebhookEndpoint:
    return owned_get(
        WebhookEndpoint, endpoint_id, merchant_id=merchant_id, noun="webhook endpoint", consistent=True
    )


def endpoint_or_none(endpoint_id: str) -> WebhookEndpoint | None:
    try:
        return WebhookEndpoint.get(endpoint_id, consistent_read=True)
    except WebhookEndpoint.DoesNotExist:
        return None


def endpoint_list(*, merchant_id: str, limit: int = 10, starting_after: str | None = None) -> Page:
    return query_page(
        WebhookEndpoint.by_merchant, "merchant_id", merchant_id, limit=limit, starting_after=starting_after
    )


def endpoints_of(merchant_id: str) -> list[WebhookEndpoint]:
    """All of a merchant's endpoints (there are at most WEBHOOK_MAX_ENDPOINTS_PER_MERCHANT)."""
    return list(WebhookEndpoint.by_merchant.query(merchant_id))


def subscribes(endpoint: WebhookEndpoint, event_type: str) -> bool:
    return endpoint.status == "enabled" and (
        "*" in endpoint.enabled_events or event_type in endpoint.enabled_events
    )


def subscriptions_generation_key(merchant_id: str) -> str:
    return f"webhooks:generation:{merchant_id}"


def _subscriptions(merchant_id: str) -> list[tuple[str, tuple[str, ...]]]:
    """(endpoint id, event types) of the merchant's enabled endpoints, cached.

    Every event write asks, so the answer is cached in the shared cache under
    a generation that each endpoint change bumps: a reader that filled the
    cache from a read older than the change wrote under a generation no one
    reads any more.
    """
    try:
        generation = cache.get(subscriptions_generation_key(merchant_id), 0)
        key = f"webhooks:subscriptions:{merchant_id}:{generation}"
        cached = cache.get(key)
    except Exception:
        logger.warning("the cache is unavailable; reading webhook endpoints from DynamoDB", exc_info=True)
        generation = key = cached = None
    if cached is not None:
        return cached
    found = [(e.id, tuple(e.enabled_events)) for e in endpoints_of(merchant_id) if e.status == "enabled"]
    if key is not None:
        try:
            cache.set(key, found, SUBSCRIPTIONS_CACHE_SECONDS)
        except Exception:
            logger.warning("could not cache webhook subscriptions", exc_info=True)
    return found


def endpoints_subscribed(*, merchant_id: str, event_type: str) -> list[str]:
    """Ids of the merchant's enabled endpoints that take ``event_type``."""
    return [
        endpoint_id
        for endpoint_id, events in _subscriptions(merchant_id)
        if "*" in events or event_type in events
    ]


def delivery_get(*, merchant_id: str, delivery_id: str) -> WebhookDelivery:
    return owned_get(
        WebhookDelivery, delivery_id, merchant_id=merchant_id, noun="webhook delivery", consistent=True
    )


def delivery_list_for_event(*, event_id: str, limit: int = 10, starting_after: str | None = None) -> Page:
    return query_page(
        WebhookDelivery.by_event, "event_id", event_id, limit=limit, starting_after=starting_after
    )


def delivery_list_for_endpoint(
    *, endpoint_id: str, status: str | None = None, limit: int = 10, starting_after: str | None = None
) -> Page:
    if status is None:
        index, hash_name, hash_value = WebhookDelivery.by_endpoint, "endpoint_id", endpoint_id
    else:
        index, hash_name, hash_value = (
            WebhookDelivery.by_endpoint_status,
            "endpoint_status",
            f"{endpoint_id}#{status}",
        )
    return query_page(index, hash_name, hash_value, limit=limit, starting_after=starting_after)
