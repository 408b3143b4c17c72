import json

from .tables import Event


def event_representation(event: Event) -> dict:
    return {
        "id": event.id,
        "object": "event",
        "type": event.type,
        "api_version": event.api_version,
        "created_at": event.created_at.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "data": json.loads(event.data),
    }
