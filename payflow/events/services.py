import json
from datetime import datetime, timedelta
from functools import cache

from django.conf import settings
from django.utils.module_loading import import_string

from payflow.aws.dynamodb import Transaction, time_key
from payflow.ids import new_id

from .tables import Event

API_VERSION = "2026-11-01"
RETENTION = timedelta(days=30)

# Every event type PayFlow records; webhook endpoints subscribe to these (or "*").
EVENT_TYPES = (
    "payment.created",
    "payment.processing",
    "payment.authorized",
    "payment.completed",
    "payment.failed",
    "payment.canceled",
    "payment.partially_refunded",
    "payment.refunded",
    "refund.created",
    "refund.completed",
    "refund.failed",
    "customer.created",
    "customer.updated",
    "disbursement.created",
    "disbursement.completed",
    "disbursement.failed",
    "disbursement.returned",
    "settlement.completed",
    "webhook_endpoint.disabled",
)


def event_new(*, merchant_id: str, type: str, obj: dict, at: datetime, event_id: str | None = None) -> Event:
    event_id = event_id or new_id("evt")
    return Event(
        event_id,
        merchant_id=merchant_id,
        type=type,
        merchant_type=f"{merchant_id}#{type}",
        object_id=obj.get("id"),
        created_key=f"{time_key(at)}#{event_id}",
        created_at=at,
        api_version=API_VERSION,
        data=json.dumps({"object": obj}, separators=(",", ":")),
        expires_at=RETENTION,
    )


@cache
def _subscribers() -> tuple:
    return tuple(import_string(path) for path in settings.EVENT_SUBSCRIBERS)


def event_write(transaction: Transaction, event: Event) -> Event:
    """Write ``event`` in the transaction of the change it reports, with what delivers it.

    Each subscriber (the webhooks app) adds its own items to the same
    transaction, so an event is never recorded without its deliveries.
    """
    transaction.save(event)
    for subscriber in _subscribers():
        subscriber(transaction, event)
    return event


def event_record(
    transaction: Transaction,
    *,
    merchant_id: str,
    type: str,
    obj: dict,
    at: datetime,
    event_id: str | None = None,
) -> Event:
    """A new event, written as ``event_write`` does."""
    event = event_new(merchant_id=merchant_id, type=type, obj=obj, at=at, event_id=event_id)
    return event_write(transaction, event)
