import json
from datetime import datetime, timedelta

from payflow.aws.dynamodb import time_key
from payflow.ids import new_id

from .tables import Event

API_VERSION = "2026-11-01"
RETENTION = timedelta(days=30)


def event_new(*, merchant_id: str, type: str, obj: dict, at: datetime, event_id: str | None = None) -> Event:
    """An event to write in the same transaction as the change it reports."""
    event_id = event_id or new_id("evt")
    return Event(
        event_id,
        merchant_id=merchant_id,
        type=type,
        merchant_type=f"{merchant_id}#{type}",
        created_key=f"{time_key(at)}#{event_id}",
        created_at=at,
        api_version=API_VERSION,
        data=json.dumps({"object": obj}, separators=(",", ":")),
        expires_at=RETENTION,
    )
