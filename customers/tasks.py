from celery import shared_task

from .services import ach_settle_due, disbursement_notify, disbursement_process


@shared_task(name="customers.tasks.process_disbursement_task", ignore_result=True)
def process_disbursement_task(disbursement_id: str) -> None:
    disbursement_process(disbursement_id=disbursement_id)


@shared_task(name="customers.tasks.settle_ach_task", ignore_result=True)
def settle_ach_task() -> int:
    return ach_settle_due()


@shared_task(name="customers.tasks.notify_disbursement_task", ignore_result=True)
def notify_disbursement_task(disbursement_id: str) -> None:
    disbursement_notify(disbursement_id=disbursement_id)
