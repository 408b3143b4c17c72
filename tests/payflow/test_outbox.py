import time

import pytest

from payflow.aws.clients import aws_client
from payflow.aws.queues import celery_message_decode, queue_name, queue_url
from payflow.outbox.services import outbox_sweep
from payflow.outbox.tables import OutboxEntry
from payments.services import payment_create, payment_process

# payment_create reads the merchant's routing rules (through the cache, else the database).
pytestmark = [pytest.mark.usefixtures("aws"), pytest.mark.django_db]


def queued_tasks() -> list[tuple[str, list]]:
    sqs = aws_client("sqs")
    url = queue_url(queue_name("payments"))
    found = []
    while messages := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
        for message in messages:
            task = celery_message_decode(message["Body"])
            found.append((task["task"], task["args"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return found


def create() -> str:
    payment, _ = payment_create(merchant_id="mch_a", amount=100, currency="USD", payment_type="eft")
    return payment.id


def test_an_entry_past_its_grace_period_is_published_again_and_backs_off(settings):
    settings.OUTBOX_GRACE_SECONDS = 0
    payment_id = create()
    queued_tasks()

    assert outbox_sweep() == 1
    assert queued_tasks() == [("payments.tasks.process_payment_task", [payment_id])]
    (entry,) = OutboxEntry.scan()
    assert entry.published == 1 and entry.due_at >= time.time() + 58
    assert outbox_sweep() == 0


def test_entries_within_their_grace_period_are_left_alone():
    create()
    queued_tasks()
    assert outbox_sweep() == 0
    assert queued_tasks() == []


def test_finished_work_is_never_published_again(settings):
    settings.OUTBOX_GRACE_SECONDS = 0
    payment_id = create()
    payment_process(payment_id=payment_id)
    queued_tasks()
    assert outbox_sweep() == 0
