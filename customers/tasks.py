from celery import shared_task

from payflow.aws.leases import LEASE_RETRIES

from .services import ach_settle_due, disbursement_notify, disbursement_process


@shared_task(bind=True, name="customers.tasks.process_disbursement_task", ignore_result=True)
def process_disbursement_task(self, disbursement_id: str) -> None:
    retry = disbursement_process(disbursement_id=disbursement_id)
    if retry is not None:
        # Another worker holds it; a lease ends within a task's time limit, so few retries do.
        raise self.retry(countdown=retry.countdown, max_retries=LEASE_RETRIES)


@shared_task(name="customers.tasks.settle_ach_task", ignore_result=True)
def settle_ach_task() -> int:
    return ach_settle_due()


@shared_task(name="customers.tasks.notify_disbursement_task", ignore_result=True)
def notify_disbursement_task(disbursement_id: str) -> None:
    disbursement_notify(disbursement_id=disbursement_id)
