from datetime import UTC, date, datetime, timedelta

from celery import shared_task
from django.conf import settings

from payflow.aws.leases import LEASE_RETRIES

from .services import authorizations_expire, payment_process, refund_process
from .settlement import SETTLE_DAY_TASK, settlement_run


@shared_task(bind=True, name="payments.tasks.process_payment_task", ignore_result=True)
def process_payment_task(self, payment_id: str) -> None:
    retry = payment_process(payment_id=payment_id)
    if retry is not None:
        # Bounded by the attempts recorded on the payment; this cap is a backstop.
        raise self.retry(countdown=retry.countdown, max_retries=settings.PAYMENTS_MAX_RETRIES + 3)


@shared_task(name="payments.tasks.expire_authorizations_task", ignore_result=True)
def expire_authorizations_task() -> int:
    return authorizations_expire()


@shared_task(bind=True, name="payments.tasks.process_refund_task", ignore_result=True)
def process_refund_task(self, refund_id: str) -> None:
    retry = refund_process(refund_id=refund_id)
    if retry is not None:
        # Another worker holds it; a lease ends within a task's time limit, so few retries do.
        raise self.retry(countdown=retry.countdown, max_retries=LEASE_RETRIES)


@shared_task(name=SETTLE_DAY_TASK, ignore_result=True)
def settle_day_task(day: str) -> None:
    """Settle ``day`` (YYYY-MM-DD) for every merchant: beat's run for yesterday, operators' for any day."""
    from payflow.merchants.models import Merchant

    settlement_run(
        day=date.fromisoformat(day), merchant_ids=list(Merchant.objects.values_list("id", flat=True))
    )


@shared_task(name="payments.tasks.settle_previous_day_task", ignore_result=True)
def settle_previous_day_task() -> None:
    settle_day_task((datetime.now(UTC).date() - timedelta(days=1)).isoformat())
