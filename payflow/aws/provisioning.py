"""Create the AWS resources PayFlow needs; safe to run any number of times.

Each step looks before it writes and reports what it did, so a second run
changes nothing and says so.
"""

import json
import time
from dataclasses import dataclass

from botocore.exceptions import ClientError
from django.conf import settings

from . import dynamodb
from .clients import aws_client
from .queues import bucket_name, dead_letter_queue_name, queue_name


@dataclass(frozen=True)
class ResourceChange:
    kind: str  # "table" | "queue" | "bucket"
    name: str
    action: str  # "created" | "updated" | "unchanged"

    def __str__(self) -> str:
        return f"{self.kind:<6} {self.name:<48} {self.action}"


def aws_resources_provision() -> list[ResourceChange]:
    changes = [_table_ensure(model) for model in dynamodb.TABLES.values()]
    for queue in settings.PAYFLOW_QUEUES:
        changes.extend(_queue_with_dead_letter_queue_ensure(queue))
    changes.append(_bucket_ensure(bucket_name()))
    return changes


def _table_ensure(model) -> ResourceChange:
    name = model.Meta.table_name
    if model.exists():
        return ResourceChange("table", name, _table_indexes_ensure(model))
    model.create_table(wait=True, ignore_update_ttl_errors=True)
    return ResourceChange("table", name, "created")


def _table_indexes_ensure(model) -> str:
    """Add global secondary indexes declared on the model but missing on the table."""
    client = aws_client("dynamodb")
    name = model.Meta.table_name
    existing = {
        index["IndexName"]
        for index in client.describe_table(TableName=name)["Table"].get("GlobalSecondaryIndexes", [])
    }
    schema = model._get_schema()
    missing = [i for i in schema.get("global_secondary_indexes", []) if i["index_name"] not in existing]
    if not missing:
        return "unchanged"
    for index in missing:
        client.update_table(
            TableName=name,
            AttributeDefinitions=index["attribute_definitions"],
            GlobalSecondaryIndexUpdates=[
                {
                    "Create": {
                        "IndexName": index["index_name"],
                        "KeySchema": index["key_schema"],
                        "Projection": index["projection"],
                    }
                }
            ],
        )
        # DynamoDB builds one new index at a time.
        _indexes_wait_active(client, name)
    return "updated"


def _indexes_wait_active(client, table: str, timeout: float = 1800.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        description = client.describe_table(TableName=table)["Table"]
        statuses = {index.get("IndexStatus") for index in description.get("GlobalSecondaryIndexes", [])}
        if statuses <= {"ACTIVE"}:
            return
        time.sleep(2)
    raise TimeoutError(f"The indexes of {table} were not active after {timeout:.0f} s.")


def _queue_with_dead_letter_queue_ensure(queue: str) -> list[ResourceChange]:
    sqs = aws_client("sqs")
    dlq_name = dead_letter_queue_name(queue)
    dlq_attributes = {"MessageRetentionPeriod": str(settings.SQS_DLQ_RETENTION_SECONDS)}
    dlq_url, dlq_action = _queue_ensure(dlq_name, dlq_attributes)
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    attributes = {
        "VisibilityTimeout": str(settings.SQS_VISIBILITY_TIMEOUT),
        "RedrivePolicy": json.dumps(
            {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(settings.SQS_DLQ_MAX_RECEIVE_COUNT)}
        ),
    }
    _, action = _queue_ensure(queue_name(queue), attributes)
    return [
        ResourceChange("queue", dlq_name, dlq_action),
        ResourceChange("queue", queue_name(queue), action),
    ]


def _queue_ensure(name: str, attributes: dict[str, str]) -> tuple[str, str]:
    sqs = aws_client("sqs")
    try:
        url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
    except ClientError as exc:
        if exc.response["Error"]["Code"] not in (
            "AWS.SimpleQueueService.NonExistentQueue",
            "QueueDoesNotExist",
        ):
            raise
        return sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"], "created"
    current = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=list(attributes))["Attributes"]
    if all(_same_attribute(current.get(key), value) for key, value in attributes.items()):
        return url, "unchanged"
    sqs.set_queue_attributes(QueueUrl=url, Attributes=attributes)
    return url, "updated"


def _same_attribute(current: str | None, wanted: str) -> bool:
    if current is None:
        return False
    if wanted.startswith("{"):
        # A RedrivePolicy comes back with maxReceiveCount as a number or a string.
        as_text = lambda policy: {k: str(v) for k, v in json.loads(policy).items()}  # noqa: E731
        return as_text(current) == as_text(wanted)
    return current == wanted


def _bucket_ensure(name: str) -> ResourceChange:
    s3 = aws_client("s3")
    try:
        s3.head_bucket(Bucket=name)
        return ResourceChange("bucket", name, "unchanged")
    except ClientError as exc:
        if exc.response["Error"]["Code"] not in ("404", "NoSuchBucket", "NotFound"):
            raise
    # New buckets are private: S3 blocks public access on them by default.
    if settings.AWS_REGION == "us-east-1":
        s3.create_bucket(Bucket=name)
    else:
        s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": settings.AWS_REGION})
    return ResourceChange("bucket", name, "created")
