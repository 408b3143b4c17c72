"""SQS queue names and URLs, as Celery and provision_aws name them."""

import base64
import json
from functools import cache

from django.conf import settings

from .clients import aws_client


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
