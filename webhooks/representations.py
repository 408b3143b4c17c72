from datetime import UTC, datetime

from payments.representations import iso

from .signing import secret_masked
from .tables import WebhookDelivery, WebhookEndpoint


def _epoch_iso(seconds) -> str | None:
    return iso(datetime.fromtimestamp(float(seconds), UTC)) if seconds is not None else None


def endpoint_representation(endpoint: WebhookEndpoint, *, reveal_secret: bool = False) -> dict:
    return {
        "id": endpoint.id,
        "object": "webhook_endpoint",
        "url": endpoint.url,
        "enabled_events": list(endpoint.enabled_events),
        "description": endpoint.description,
        "status": endpoint.status,
        "disabled_reason": endpoint.disabled_reason,
        "failing_since": _epoch_iso(endpoint.failing_since),
        "secret": endpoint.secret if reveal_secret else secret_masked(endpoint.secret),
        "created_at": iso(endpoint.created_at),
        "updated_at": iso(endpoint.updated_at),
    }


def delivery_representation(delivery: WebhookDelivery) -> dict:
    return {
        "id": delivery.id,
        "object": "webhook_delivery",
        "event_id": delivery.event_id,
        "event_type": delivery.event_type,
        "endpoint_id": delivery.endpoint_id,
        "status": delivery.status,
        "attempt_count": int(delivery.attempt_count),
        "next_attempt_at": _epoch_iso(delivery.next_attempt_at) if delivery.status == "pending" else None,
        "last_attempt_at": iso(delivery.last_attempt_at),
        "last_status_code": int(delivery.last_status_code) if delivery.last_status_code is not None else None,
        "last_error": delivery.last_error,
        "attempts": [
            {
                "at": iso(attempt.at),
                "trigger": attempt.trigger,
                "status_code": int(attempt.status_code) if attempt.status_code is not None else None,
                "latency_ms": int(attempt.latency_ms),
                "response_body": attempt.response_body,
                "error": attempt.error,
            }
            for attempt in delivery.attempts
        ],
        "created_at": iso(delivery.created_at),
        "updated_at": iso(delivery.updated_at),
    }
