from payflow.aws.dynamodb import owned_get
from payflow.aws.pagination import Page, query_page

from .tables import Event


def event_get(*, merchant_id: str, event_id: str) -> Event:
    return owned_get(Event, event_id, merchant_id=merchant_id, noun="event")


def event_list(
    *, merchant_id: str, type: str | None = None, limit: int = 10, starting_after: str | None = None
) -> Page:
    if type is not None:
        index, hash_name, hash_value = Event.by_merchant_type, "merchant_type", f"{merchant_id}#{type}"
    else:
        index, hash_name, hash_value = Event.by_merchant, "merchant_id", merchant_id
    return query_page(index, hash_name, hash_value, limit=limit, starting_after=starting_after)
