import re

import pytest
from celery import current_app
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Group, User
from django.test import Client

from payflow.aws import queues
from payflow.aws.clients import aws_client
from payflow.aws.queues import celery_message_decode, dead_letter_redrive, queue_find, queue_url

pytestmark = pytest.mark.django_db

LIST = "/admin/payflow_aws/queue/"
PAYMENTS = "payflow-test-payments"
PAYMENTS_DLQ = "payflow-test-payments-dlq"
PROCESS_TASK = "payments.tasks.process_payment_task"


def detail_url(sqs_name: str, action: str = "") -> str:
    return f"{LIST}{sqs_name}/{action + '/' if action else ''}"


def operator(role: str) -> Client:
    user = User.objects.create_user(username=role.split()[-1].strip("()"), password="pw", is_staff=True)
    user.groups.add(Group.objects.get(name=role))
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def payments_operator() -> Client:
    return operator("Operator (payments)")


@pytest.fixture
def read_only_operator() -> Client:
    return operator("Operator (read only)")


def csrf_post(client: Client, url: str, data: dict):
    page = client.get(url)
    assert page.status_code == 200, page.content[:500]
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page.content).group(1).decode()
    return client.post(url, {"csrfmiddlewaretoken": token, **data})


def receives(sqs_name: str) -> list[int]:
    """The ApproximateReceiveCount of each message on the queue, counting this receive."""
    messages = (
        aws_client("sqs")
        .receive_message(
            QueueUrl=queue_url(sqs_name),
            MaxNumberOfMessages=10,
            VisibilityTimeout=0,
            MessageSystemAttributeNames=["ApproximateReceiveCount"],
        )
        .get("Messages", [])
    )
    return sorted(int(m["Attributes"]["ApproximateReceiveCount"]) for m in messages)


@pytest.fixture
def dead_lettered(aws):
    """Publish tasks as the app does, then let SQS dead-letter them as after three failed deliveries."""

    def dead_letter(*payment_ids: str) -> None:
        for payment_id in payment_ids:
            current_app.send_task(PROCESS_TASK, args=[payment_id], queue="payments")
        sqs = aws_client("sqs")
        for _ in range(3):
            sqs.receive_message(QueueUrl=queue_url(PAYMENTS), MaxNumberOfMessages=10, VisibilityTimeout=0)
        # The receive after the third: SQS moves the messages to the dead-letter queue.
        sqs.receive_message(QueueUrl=queue_url(PAYMENTS), MaxNumberOfMessages=10, VisibilityTimeout=0)
        assert queue_find(sqs_name=PAYMENTS_DLQ).visible == len(payment_ids)
        assert queue_find(sqs_name=PAYMENTS).visible == 0

    return dead_letter


def test_the_list_shows_every_queue_and_dead_letter_queue_with_its_depth(admin_client, dead_lettered):
    dead_lettered("pay_1", "pay_2")
    current_app.send_task("webhooks.tasks.deliver_webhook_task", args=["dlv_1"], queue="webhooks")

    page = admin_client.get(LIST).content.decode()
    for queue in ("payments", "webhooks", "settlement"):
        assert f">payflow-test-{queue}<" in page and f">payflow-test-{queue}-dlq<" in page
    rows = {
        cells[0]: cells[1:]
        for cells in (re.findall(r"<td>(.*?)</td>", row) for row in re.findall(r"<tr>(.*?)</tr>", page, re.S))
        if cells
    }
    link = lambda name: f'<a href="{detail_url(name)}">{name}</a>'  # noqa: E731
    assert rows[link(PAYMENTS_DLQ)][:5] == ["payments", "dead-letter", "2", "0", "0"]
    assert re.fullmatch(r"\d+ s", rows[link(PAYMENTS_DLQ)][5])  # the oldest message's age
    assert rows[link("payflow-test-webhooks")][:6] == ["webhooks", "source", "1", "0", "0", "—"]
    assert "only a dead-letter queue allows" in page


def test_the_detail_of_a_dead_letter_queue_peeks_at_its_tasks_without_consuming_them(
    admin_client, dead_lettered
):
    dead_lettered("pay_7")

    for _ in range(2):
        page = admin_client.get(detail_url(PAYMENTS_DLQ)).content.decode()
        assert PROCESS_TASK in page and "[&quot;pay_7&quot;]" in page
    assert "Redrive to source queue" in page

    stats = queue_find(sqs_name=PAYMENTS_DLQ)
    assert (stats.visible, stats.in_flight) == (1, 0)
    # Its three deliveries, the two peeks and this receive.
    assert receives(PAYMENTS_DLQ) == [6]


def test_a_source_queue_is_never_received_from_and_offers_no_redrive(admin_client, aws):
    current_app.send_task(PROCESS_TASK, args=["pay_9"], queue="payments")

    admin_client.get(LIST)
    page = admin_client.get(detail_url(PAYMENTS)).content.decode()
    assert "Not read: a peek would count as a delivery" in page
    assert "console-actions" not in page and "peek at up to" not in page
    assert receives(PAYMENTS) == [1]  # this receive is its first

    assert admin_client.get(detail_url(PAYMENTS, "redrive")).status_code == 404
    assert admin_client.post(detail_url(PAYMENTS, "redrive"), {"reason": "x"}).status_code == 404
    assert admin_client.get(detail_url("payflow-test-nothing")).status_code == 404


def test_redrive_moves_every_message_back_to_the_source_queue_and_logs_who_and_why(
    payments_operator, dead_lettered
):
    dead_lettered("pay_1", "pay_2", "pay_3")

    response = csrf_post(
        payments_operator, detail_url(PAYMENTS_DLQ, "redrive"), {"reason": "provider is back"}
    )
    assert response.status_code == 302 and response.url == detail_url(PAYMENTS_DLQ)

    assert queue_find(sqs_name=PAYMENTS_DLQ).visible == 0
    messages = aws_client("sqs").receive_message(
        QueueUrl=queue_url(PAYMENTS), MaxNumberOfMessages=10, MessageSystemAttributeNames=["All"]
    )["Messages"]
    tasks = [celery_message_decode(m["Body"]) for m in messages]
    assert sorted(t["args"][0] for t in tasks) == ["pay_1", "pay_2", "pay_3"]
    assert {t["task"] for t in tasks} == {PROCESS_TASK}
    # New messages on the source queue: the worker gets its three tries again.
    assert {m["Attributes"]["ApproximateReceiveCount"] for m in messages} == {"1"}

    entry = LogEntry.objects.get(object_id=PAYMENTS_DLQ)
    assert entry.user.username == "payments"
    assert entry.change_message == (
        f"Moved 3 messages from {PAYMENTS_DLQ} back to {PAYMENTS}. Reason: provider is back"
    )
    assert "provider is back" in payments_operator.get(detail_url(PAYMENTS_DLQ)).content.decode()


def test_redrive_stops_after_the_messages_the_queue_held_when_it_began(dead_lettered, monkeypatch):
    dead_lettered("pay_1", "pay_2")
    # A source queue whose every message fails straight back into the dead-letter queue.
    dead_letter_url = queue_url(PAYMENTS_DLQ)
    monkeypatch.setattr(queues, "queue_url", lambda sqs_name: dead_letter_url)

    assert dead_letter_redrive(queue="payments") == 2
    assert queue_find(sqs_name=PAYMENTS_DLQ).visible + queue_find(sqs_name=PAYMENTS_DLQ).in_flight == 2


def test_a_read_only_operator_sees_no_redrive_and_may_not_post_one(read_only_operator, dead_lettered):
    dead_lettered("pay_1")

    page = read_only_operator.get(detail_url(PAYMENTS_DLQ))
    assert page.status_code == 200 and "pay_1" in page.content.decode()
    assert "Redrive to source queue" not in page.content.decode()
    assert read_only_operator.get(detail_url(PAYMENTS_DLQ, "redrive")).status_code == 403
    assert read_only_operator.post(detail_url(PAYMENTS_DLQ, "redrive"), {"reason": "x"}).status_code == 403

    assert queue_find(sqs_name=PAYMENTS_DLQ).visible == 1
    assert not LogEntry.objects.exists()
