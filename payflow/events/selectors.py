from datetime import UTC, datetime

from payflow.aws.dynamodb import item_or_none, not_found, owned_get
from payflow.aws.pagination import Page, query_page, search_results

from .tables import Event


def _expired(event: Event) -> bool:
    # DynamoDB deletes expired items up to two days late.
    return event.expires_at <= datetime.now(UTC)


def event_get(*, merchant_id: str, event_id: str) -> Event:
    event = owned_get(Event, event_id, merchant_id=merchant_id, noun="event")
    if _expired(event):
        raise not_found("event", event_id)
    return event


def event_find(event_id: str) -> Event | None:
    """An event of any merchant, by id, unless it has expired: the operators' view."""
    event = item_or_none(Event, event_id)
    return None if event is None or _expired(event) else event


def event_search(*, term: str, merchant_id: str | None = None) -> list[Event]:
    """The event whose id is ``term``, or the events about the object ``term``; newest first."""
    found = [event_find(term), *event_list_for_object(object_id=term, limit=100).items]
    return search_results(found, merchant_id=merchant_id)


def event_list(
    *, merchant_id: str, type: str | None = None, limit: int = 10, starting_after: str | None = None
) -> Page:
    if type is not None:
        index, hash_name, hash_value = Event.by_merchant_type, "merchant_type", f"{merchant_id}#{type}"
    else:
        index, hash_name, hash_value = Event.by_merchant, "merchant_id", merchant_id
    return query_page(
        index,
        hash_name,
        hash_value,
        filter_condition=Event.expires_at > datetime.now(UTC),
        limit=limit,
        starting_after=starting_after,
    )


def event_list_for_object(*, object_id: str, limit: int = 10, starting_after: str | None = None) -> Page:
    """The events about one object (a payment, a refund…), newest first, across merchants."""
    return query_page(
        Event.by_object,
        "object_id",
        object_id,
        filter_condition=Event.expires_at > datetime.now(UTC),
        limit=limit,
        starting_after=starting_after,
    )
