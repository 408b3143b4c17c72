"""SQS queue names and URLs, as Celery and provision_aws name them."""

import base64
import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache

from django.conf import settings

from .clients import aws_client

logger = logging.getLogger(__name__)

# SQS returns at most ten messages per receive.
PEEK_LIMIT = 10
# Long enough for one batch to be sent and deleted; if the move dies, its messages reappear on the DLQ.
REDRIVE_VISIBILITY_TIMEOUT = 60


def queue_name(queue: str) -> str:
    return f"{settings.AWS_RESOURCE_PREFIX}-{queue}"


def dead_letter_queue_name(queue: str) -> str:
    return f"{queue_name(queue)}-dlq"


def queue_url(sqs_name: str) -> str:
    return _queue_url(sqs_name, settings.AWS_ENDPOINT_URL, settings.SQS_QUEUE_URL_BASE)


@cache
def _queue_url(sqs_name: str, endpoint: str | None, url_base: str | None) -> str:
    if url_base:
        return f"{url_base.rstrip('/')}/{sqs_name}"
    return aws_client("sqs").get_queue_url(QueueName=sqs_name)["QueueUrl"]


def bucket_name() -> str:
    return settings.STORAGES["default"]["OPTIONS"]["bucket_name"]


def celery_message_decode(body: str) -> dict:
    """The task name, id and arguments inside a raw SQS body written by Celery's SQS transport."""
    envelope = json.loads(base64.b64decode(body))
    args, kwargs, _ = json.loads(base64.b64decode(envelope["body"]))
    headers = envelope.get("headers", {})
    return {
        "task": headers.get("task"),
        "id": headers.get("id"),
        "args": args,
        "kwargs": kwargs,
        "eta": headers.get("eta"),
    }


@dataclass(frozen=True)
class QueueStats:
    name: str  # the SQS name
    queue: str  # the Celery queue it serves
    dead_letter: bool
    visible: int
    in_flight: int
    delayed: int


def queue_stats() -> list[QueueStats]:
    """Every PayFlow queue and its dead-letter queue, with SQS's approximate counts."""
    return [_stats(*queue) for queue in _queues()]


def queue_find(*, sqs_name: str) -> QueueStats | None:
    """One of PayFlow's queues by its SQS name, with its counts; None if PayFlow has no such queue."""
    for queue in _queues():
        if queue[0] == sqs_name:
            return _stats(*queue)
    return None


def _queues() -> list[tuple[str, str, bool]]:
    """(SQS name, Celery queue, dead-letter) of each queue, every source queue before its DLQ."""
    return [
        entry
        for queue in settings.PAYFLOW_QUEUES
        for entry in ((queue_name(queue), queue, False), (dead_letter_queue_name(queue), queue, True))
    ]


def _stats(sqs_name: str, queue: str, dead_letter: bool) -> QueueStats:
    attributes = aws_client("sqs").get_queue_attributes(
        QueueUrl=queue_url(sqs_name),
        AttributeNames=[
            "ApproximateNumberOfMessages",
            "ApproximateNumberOfMessagesNotVisible",
            "ApproximateNumberOfMessagesDelayed",
        ],
    )["Attributes"]
    return QueueStats(
        name=sqs_name,
        queue=queue,
        dead_letter=dead_letter,
        visible=int(attributes.get("ApproximateNumberOfMessages", 0)),
        in_flight=int(attributes.get("ApproximateNumberOfMessagesNotVisible", 0)),
        delayed=int(attributes.get("ApproximateNumberOfMessagesDelayed", 0)),
    )


@dataclass(frozen=True)
class PeekedMessage:
    message_id: str
    sent_at: datetime
    receive_count: int  # every receive: the source queue's deliveries, then each peek
    task: dict | None  # celery_message_decode of the body; None if it is not a Celery message
    body: str


def dead_letter_peek(*, queue: str, limit: int = PEEK_LIMIT) -> list[PeekedMessage]:
    """Up to ``limit`` messages of ``queue``'s dead-letter queue, left on it and visible.

    A receive with VisibilityTimeout=0 hides nothing, but it does count as a
    receive. That is harmless on a dead-letter queue, which has no redrive
    policy of its own; on a source queue it would count toward maxReceiveCount
    and could dead-letter a healthy task, so source queues are never peeked at.
    """
    response = aws_client("sqs").receive_message(
        QueueUrl=queue_url(dead_letter_queue_name(queue)),
        MaxNumberOfMessages=min(limit, PEEK_LIMIT),
        VisibilityTimeout=0,
        # Long polling asks every SQS server; a short poll may miss the few messages a DLQ holds.
        WaitTimeSeconds=1,
        MessageSystemAttributeNames=["SentTimestamp", "ApproximateReceiveCount"],
    )
    return [_peeked(message) for message in response.get("Messages", [])]


def _peeked(message: dict) -> PeekedMessage:
    try:
        task = celery_message_decode(message["Body"])
    except (ValueError, KeyError, TypeError):
        task = None
    attributes = message.get("Attributes", {})
    return PeekedMessage(
        message_id=message["MessageId"],
        sent_at=datetime.fromtimestamp(int(attributes["SentTimestamp"]) / 1000, UTC),
        receive_count=int(attributes["ApproximateReceiveCount"]),
        task=task,
        body=message["Body"],
    )


def dead_letter_redrive(*, queue: str) -> int:
    """Move the messages of ``queue``'s dead-letter queue back to ``queue``; returns how many moved.

    Neither ministack nor moto has StartMessageMoveTask, so the move is done
    here, ten at a time: receive from the DLQ, send the same body and message
    attributes to the source queue, then delete from the DLQ. Sending first
    means a failure in between leaves a duplicate, never a loss, and every task
    is idempotent. The move stops after as many messages as the DLQ held when
    it began, so a task that fails straight back into it is not moved forever.
    """
    sqs = aws_client("sqs")
    source = queue_url(queue_name(queue))
    dead_letters = queue_url(dead_letter_queue_name(queue))
    remaining = _stats(dead_letter_queue_name(queue), queue, True).visible
    moved = 0
    while remaining > 0:
        messages = sqs.receive_message(
            QueueUrl=dead_letters,
            MaxNumberOfMessages=min(remaining, 10),
            VisibilityTimeout=REDRIVE_VISIBILITY_TIMEOUT,
            WaitTimeSeconds=1,
            MessageAttributeNames=["All"],
        ).get("Messages", [])
        if not messages:
            break
        remaining -= len(messages)
        sent = sqs.send_message_batch(
            QueueUrl=source,
            Entries=[
                {"Id": str(i), "MessageBody": m["Body"]}
                | ({"MessageAttributes": m["MessageAttributes"]} if m.get("MessageAttributes") else {})
                for i, m in enumerate(messages)
            ],
        )
        for failure in sent.get("Failed", []):
            logger.warning(
                "redrive of %s: a message stays on the DLQ, sending it failed: %s %s",
                queue,
                failure.get("Code"),
                failure.get("Message"),
            )
        done = {entry["Id"] for entry in sent.get("Successful", [])}
        if not done:
            continue
        deleted = sqs.delete_message_batch(
            QueueUrl=dead_letters,
            Entries=[
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                for i, m in enumerate(messages)
                if str(i) in done
            ],
        )
        for failure in deleted.get("Failed", []):
            logger.warning(
                "redrive of %s: a message was sent but stays on the DLQ, a later redrive sends it again: %s",
                queue,
                failure.get("Code"),
            )
        moved += len(done)
    return moved
