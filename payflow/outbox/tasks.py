from celery import shared_task

from .services import outbox_sweep


@shared_task(name="payflow.outbox.tasks.outbox_sweep_task", ignore_result=True)
def outbox_sweep_task() -> int:
    return outbox_sweep()
