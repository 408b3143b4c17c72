import pytest

from payflow.aws.clients import aws_client
from payflow.aws.queues import celery_message_decode, queue_name, queue_url

from .receiver import receiving


@pytest.fixture
def receiver():
    with receiving() as state:
        yield state


def queued(queue: str) -> list[dict]:
    """Take every message off a queue: each task's name, args and Celery headers."""
    sqs = aws_client("sqs")
    url = queue_url(queue_name(queue))
    found = []
    while messages := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
        for message in messages:
            found.append(celery_message_decode(message["Body"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return found
