import json
import time
import uuid

import pytest

from payflow.aws.queues import celery_message_decode
from payflow.devstack.emulator import Emulator, free_port


def test_provisioning_twice_creates_then_changes_nothing(stack):
    # The fixture provisioned once already.
    second = stack.manage("provision_aws")
    assert "Nothing to change" in second
    assert "created" not in second
    policy = stack.client("sqs").get_queue_attributes(
        QueueUrl=stack.queue_url("payments"), AttributeNames=["RedrivePolicy"]
    )["Attributes"]["RedrivePolicy"]
    assert int(json.loads(policy)["maxReceiveCount"]) == 3
    stack.client("s3").head_bucket(Bucket=f"{stack.prefix}-files")


@pytest.mark.parametrize("predefined_queues", [False, True], ids=["discovered-queues", "predefined-queues"])
def test_a_task_round_trips_through_sqs_to_a_real_worker(stack, predefined_queues):
    if predefined_queues:
        # As in production: Celery neither lists nor creates queues.
        stack.env |= {
            "SQS_PREDEFINED_QUEUES": "true",
            "SQS_QUEUE_URL_BASE": stack.queue_url("payments").rsplit("/", 1)[0],
        }
    stack.start_worker()
    key = f"round-trip/{uuid.uuid4().hex}.txt"
    stack.send_task("tests.e2e.store_task", key, "hello from the API side")

    s3 = stack.client("s3")
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        listing = s3.list_objects_v2(Bucket=f"{stack.prefix}-files", Prefix=key)
        if listing.get("KeyCount"):
            break
        time.sleep(0.2)
    body = s3.get_object(Bucket=f"{stack.prefix}-files", Key=key)["Body"].read()
    assert body == b"hello from the API side"
    sqs = stack.client("sqs")
    attributes = sqs.get_queue_attributes(
        QueueUrl=stack.queue_url("payments"),
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    assert attributes == {"ApproximateNumberOfMessages": "0", "ApproximateNumberOfMessagesNotVisible": "0"}


def test_a_task_that_keeps_failing_reaches_the_dead_letter_queue_after_three_receives(stack):
    worker = stack.start_worker()
    marker = uuid.uuid4().hex
    stack.send_task("tests.e2e.always_fails_task", marker)

    sqs = stack.client("sqs")
    dlq = stack.queue_url("payments-dlq")
    deadline = time.monotonic() + 60
    messages = []
    while not messages and time.monotonic() < deadline:
        messages = sqs.receive_message(
            QueueUrl=dlq, WaitTimeSeconds=2, AttributeNames=["ApproximateReceiveCount"]
        ).get("Messages", [])
    assert messages, "the failing task never reached the DLQ:\n" + "".join(worker.lines)
    task = celery_message_decode(messages[0]["Body"])
    assert (task["task"], task["args"]) == ("tests.e2e.always_fails_task", [marker])
    failures = [line for line in worker.lines if "raised unexpected" in line and marker in line]
    assert len(failures) == 3
    source = sqs.get_queue_attributes(
        QueueUrl=stack.queue_url("payments"),
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    assert source == {"ApproximateNumberOfMessages": "0", "ApproximateNumberOfMessagesNotVisible": "0"}


def test_a_task_that_keeps_crashing_its_worker_reaches_the_dead_letter_queue(stack):
    worker = stack.start_worker()
    marker = uuid.uuid4().hex
    stack.send_task("tests.e2e.crash_worker_task", marker)

    sqs = stack.client("sqs")
    received = lambda: sum("crash_worker_task[" in line and "received" in line for line in worker.lines)  # noqa: E731
    deadline = time.monotonic() + 120
    messages = []
    while not messages and time.monotonic() < deadline:
        if received() >= 3:
            # SQS moves the message on the receive after the third; under load the
            # worker may be slow to poll again after its process died, so poll too.
            sqs.receive_message(QueueUrl=stack.queue_url("payments"), WaitTimeSeconds=0, VisibilityTimeout=1)
        messages = sqs.receive_message(
            QueueUrl=stack.queue_url("payments-dlq"),
            WaitTimeSeconds=2,
            AttributeNames=["ApproximateReceiveCount"],
        ).get("Messages", [])
    assert messages, "the crashing task never reached the DLQ:\n" + worker.text
    assert celery_message_decode(messages[0]["Body"])["args"] == [marker]
    assert received() >= 3
    assert worker.process.poll() is None, "the worker itself survives its processes' crashes"


@pytest.fixture
def own_emulator(tmp_path):
    emulator = Emulator(port=free_port(), state_dir=tmp_path / "aws")
    yield emulator
    emulator.stop()


def test_data_written_before_an_emulator_restart_is_there_after_it(own_emulator, tmp_path):
    import boto3

    def client(service):
        return boto3.client(
            service,
            endpoint_url=own_emulator.url,
            region_name="us-east-1",
            aws_access_key_id="test",
            aws_secret_access_key="test",
        )

    own_emulator.start()
    client("dynamodb").create_table(
        TableName="persist",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    client("dynamodb").put_item(TableName="persist", Item={"id": {"S": "pay_1"}, "amount": {"N": "25000"}})
    client("s3").create_bucket(Bucket="persist")
    client("s3").put_object(Bucket="persist", Key="report.csv", Body=b"id,amount\npay_1,250.00\n")
    queue = client("sqs").create_queue(QueueName="persist")["QueueUrl"]
    client("sqs").send_message(QueueUrl=queue, MessageBody="still here")

    own_emulator.stop()
    own_emulator.start()

    item = client("dynamodb").get_item(TableName="persist", Key={"id": {"S": "pay_1"}})["Item"]
    assert item["amount"] == {"N": "25000"}
    assert client("s3").get_object(Bucket="persist", Key="report.csv")["Body"].read() == (
        b"id,amount\npay_1,250.00\n"
    )
    queue = client("sqs").get_queue_url(QueueName="persist")["QueueUrl"]
    messages = client("sqs").receive_message(QueueUrl=queue, WaitTimeSeconds=1)["Messages"]
    assert [m["Body"] for m in messages] == ["still here"]
