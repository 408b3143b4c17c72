import logging
from collections.abc import Callable

from django.core.cache import cache

from payflow.aws.dynamodb import item_or_none, owned_get
from payflow.aws.pagination import Page, cursor_decode, cursor_encode, query_page, query_page_bounded
from payflow.errors import ApplicationError, ErrorCode

from .tables import FAILING, WebhookDelivery, WebhookEndpoint

logger = logging.getLogger(__name__)

SUBSCRIPTIONS_CACHE_SECONDS = 300


def endpoint_get(*, merchant_id: str, endpoint_id: str) -> WebhookEndpoint:
    return owned_get(
        WebhookEndpoint, endpoint_id, merchant_id=merchant_id, noun="webhook endpoint", consistent=True
    )


def endpoint_or_none(endpoint_id: str) -> WebhookEndpoint | None:
    return item_or_none(WebhookEndpoint, endpoint_id, consistent=True)


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


# Operators' lists read at most this many deliveries a page when a filter applies while reading.
OPERATOR_MAX_EXAMINED = 1000


def delivery_find(delivery_id: str) -> WebhookDelivery | None:
    """A delivery of any merchant, by id: the operators' view."""
    return item_or_none(WebhookDelivery, delivery_id)


def delivery_list_operator(
    *,
    merchant_id: str | None = None,
    endpoint_id: str | None = None,
    status: str | None = None,
    limit: int = 50,
    starting_after: str | None = None,
) -> Page:
    """Deliveries as operators need them, newest first.

    Without a status: the failing ones first (``failing`` index, across
    merchants unless one is given), then the endpoint's or merchant's others.
    With a status: the endpoint's or the merchant's of that status; dead
    (``failed``) ones also across merchants. Filters that are not
    the index's key apply while reading, so a page may come back short with a
    cursor to read on.
    """
    of_merchant = WebhookDelivery.merchant_id == merchant_id if merchant_id is not None else None
    of_endpoint = WebhookDelivery.endpoint_id == endpoint_id if endpoint_id is not None else None
    if status is not None:
        of_status = WebhookDelivery.status == status
        if endpoint_id is not None:
            return _read(
                WebhookDelivery.by_endpoint_status, "endpoint_status", f"{endpoint_id}#{status}", of_merchant
            )(limit, starting_after)
        if status == "failed":
            dead = _all_of(of_status, of_merchant)
            return _read(WebhookDelivery.failing, "failed_key", FAILING, dead)(limit, starting_after)
        if merchant_id is not None:
            return _read(WebhookDelivery.by_merchant, "merchant_id", merchant_id, of_status)(
                limit, starting_after
            )
        raise ApplicationError(
            ErrorCode.INVALID_REQUEST,
            f"{status.capitalize()} deliveries are listed per merchant or endpoint: choose one.",
            param="status",
        )
    phases = [_read(WebhookDelivery.failing, "failed_key", FAILING, _all_of(of_merchant, of_endpoint))]
    others = WebhookDelivery.failed_key.does_not_exist()
    if endpoint_id is not None:
        phases.append(
            _read(WebhookDelivery.by_endpoint, "endpoint_id", endpoint_id, _all_of(others, of_merchant))
        )
    elif merchant_id is not None:
        phases.append(_read(WebhookDelivery.by_merchant, "merchant_id", merchant_id, others))
    return _pages_chained(phases, name="deliveries-failing-first", limit=limit, starting_after=starting_after)


def _read(index, hash_name: str, hash_value: str, condition) -> Callable[[int, str | None], Page]:
    """Pages of one index query; ``condition``, never on the index's own keys, applies while reading."""
    return lambda limit, starting_after: query_page_bounded(
        index,
        hash_name,
        hash_value,
        filter_condition=condition,
        limit=limit,
        starting_after=starting_after,
        max_examined=OPERATOR_MAX_EXAMINED,
    )


def _all_of(*conditions):
    combined = None
    for condition in conditions:
        if condition is not None:
            combined = condition if combined is None else combined & condition
    return combined


def _pages_chained(
    phases: list[Callable[[int, str | None], Page]], *, name: str, limit: int, starting_after: str | None
) -> Page:
    """The items of one list after another's, ``limit`` at a time, with one cursor over all."""
    phase, inner = 0, None
    if starting_after:
        position = cursor_decode(starting_after, index=name)
        phase, inner = int(position["phase"]), position.get("cursor")
    items: list = []
    for number in range(phase, len(phases)):
        page = phases[number](limit - len(items), inner)
        items.extend(page.items)
        inner = None
        if page.has_more:
            return Page(items, True, cursor_encode(name, {"phase": number, "cursor": page.next_cursor}))
        if len(items) >= limit and number + 1 < len(phases):
            return Page(items, True, cursor_encode(name, {"phase": number + 1}))
    return Page(items, False, None)
