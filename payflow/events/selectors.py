from datetime import UTC, datetime

from payflow.aws.dynamodb import owned_get
from payflow.aws.pagination import Page, query_page
from payflow.errors import ApplicationError, ErrorCode

from .tables import Event


def event_get(*, merchant_id: str, event_id: str) -> Event:
    event = owned_get(Event, event_id, merchant_id=merchant_id, noun="event")
    # DynamoDB deletes expired items up to two days late.
    if event.expires_at <= datetime.now(UTC):
        raise ApplicationError(ErrorCode.NOT_FOUND, f"No such event: '{event_id}'.", param="id")
    return event


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
