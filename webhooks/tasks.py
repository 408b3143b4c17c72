from datetime import UTC, datetime

from celery import shared_task

from .selectors import endpoint_or_none
from .services import RECOVER_TASK, deliveries_dispatch_due, delivery_attempt, endpoint_recover


@shared_task(name="webhooks.tasks.deliver_webhook_task", ignore_result=True)
def deliver_webhook_task(delivery_id: str) -> None:
    delivery_attempt(delivery_id=delivery_id)


@shared_task(name="webhooks.tasks.dispatch_webhooks_task", ignore_result=True)
def dispatch_webhooks_task() -> int:
    return deliveries_dispatch_due()


@shared_task(name=RECOVER_TASK, ignore_result=True)
def recover_webhook_endpoint_task(endpoint_id: str, since: float, until: float, cursor: str | None = None):
    endpoint = endpoint_or_none(endpoint_id)
    if endpoint is None:
        return
    cursor = endpoint_recover(
        endpoint=endpoint,
        since=datetime.fromtimestamp(since, UTC),
        until=datetime.fromtimestamp(until, UTC),
        cursor=cursor,
    )
    if cursor is not None:
        recover_webhook_endpoint_task.delay(endpoint_id, since, until, cursor)
