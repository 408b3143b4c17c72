"""Scenario 5: a poison message goes to the DLQ after 3 receives; redriven after the fix, it is processed."""

from payflow.aws.queues import celery_message_decode
from payments.tables import ProviderCharge
from tests.e2e.test_admin_redrive import AdminSession, in_flight, visible

from . import books
from .load import all_final, call, not_final, payment_body, queue_depth, wait_until

COUNT = 20
PROCESS_TASK = "payments.tasks.process_payment_task"
RECEIVES = 3  # SQS_DLQ_MAX_RECEIVE_COUNT


def test_a_poison_message_is_dead_lettered_after_3_receives_and_processed_once_redriven(
    stack, stack_tables, figures
):
    merchant = stack.create_merchant()
    key, merchant_id = merchant["api_key"], merchant["merchant_id"]
    stack.manage(
        "shell",
        "-c",
        "from django.contrib.auth.models import Group, User; "
        "user = User.objects.create_user('ops', password='ops-password', is_staff=True); "
        "user.groups.add(Group.objects.get(name='Operator (payments)'))",
    )
    web = stack.start_web()
    sqs = stack.client("sqs")
    source, dead_letters = stack.queue_url("payments"), stack.queue_url("payments-dlq")

    # The poison: before any worker runs, a hand-run data fix rewrites the payment's amount as the
    # API shows it ("10.00") where the table keeps minor units as a number. PynamoDB cannot load
    # the item, so every attempt raises before anything is charged.
    status, poison = call(web, "POST", "/v1/payments", payment_body(COUNT), key=key)
    assert status == 201, poison
    dynamodb, table = stack.client("dynamodb"), f"{stack.prefix}-payments"
    item_key = {"id": {"S": poison["id"]}}
    minor_units = dynamodb.get_item(TableName=table, Key=item_key, ConsistentRead=True)["Item"]["amount"]
    dynamodb.update_item(
        TableName=table,
        Key=item_key,
        UpdateExpression="SET amount = :amount",
        ExpressionAttributeValues={":amount": {"S": poison["amount"]}},
    )

    worker = stack.start_worker("payments", pool_args=("--concurrency=2",))

    def poison_failures() -> list[str]:
        return [line for line in worker.lines if "raised unexpected" in line and poison["id"] in line]

    def queues() -> str:
        return (
            f"payments: {visible(sqs, source)} visible, {in_flight(sqs, source)} in flight; "
            f"DLQ: {visible(sqs, dead_letters)}; poison failures: {len(poison_failures())}\n"
            + worker.text[-3000:]
        )

    wait_until(poison_failures, timeout=30, what="the poison's first failure", describe=queues)

    # Other payments come in while the poison is received again and again.
    payments = []
    for i in range(COUNT):
        status, payment = call(web, "POST", "/v1/payments", payment_body(i), key=key)
        assert status == 201, payment
        payments.append(payment["id"])
    wait_until(
        lambda: visible(sqs, dead_letters) == 1,
        timeout=60,
        what="the poison in the payments DLQ",
        describe=queues,
    )
    meanwhile = COUNT - len(not_final(web, key, "/v1/payments", payments))
    wait_until(
        lambda: all_final(web, key, "/v1/payments", payments),
        timeout=60,
        what="the other payments",
        describe=lambda: f"{not_final(web, key, '/v1/payments', payments)}\n{queues()}",
    )
    assert meanwhile > 0  # the poison held up none of them
    assert queue_depth(stack, "payments") == 0, queues()

    # On the DLQ: the poison's message, received 3 times on the source queue (this peek is the 4th).
    [message] = sqs.receive_message(
        QueueUrl=dead_letters,
        VisibilityTimeout=0,
        WaitTimeSeconds=1,
        MessageSystemAttributeNames=["ApproximateReceiveCount"],
    )["Messages"]
    task = celery_message_decode(message["Body"])
    assert (task["task"], task["args"]) == (PROCESS_TASK, [poison["id"]])
    receives = int(message["Attributes"]["ApproximateReceiveCount"]) - 1
    failures = len(poison_failures())
    assert receives == failures == RECEIVES, queues()
    # Nothing was charged for it, and it is still waiting.
    item = dynamodb.get_item(TableName=table, Key=item_key, ConsistentRead=True)["Item"]
    assert item["status"] == {"S": "pending"}
    assert [c.key for c in ProviderCharge.scan(consistent_read=True) if poison["id"] in c.key] == []

    # The fix: the operator puts the amount back as minor units, then redrives from the console.
    dynamodb.update_item(
        TableName=table,
        Key=item_key,
        UpdateExpression="SET amount = :amount",
        ExpressionAttributeValues={":amount": minor_units},
    )
    operator = AdminSession(web, "ops", "ops-password")
    dlq_page = f"/admin/payflow_aws/queue/{stack.prefix}-payments-dlq/"
    assert poison["id"] in operator.get(dlq_page)
    page = operator.submit(dlq_page + "redrive/", {"reason": "INC-512: payment amount repaired"})
    assert f"Moved 1 message from {stack.prefix}-payments-dlq back to {stack.prefix}-payments." in page

    wait_until(
        lambda: all_final(web, key, "/v1/payments", [poison["id"]]),
        timeout=30,
        what="the redriven payment",
        describe=queues,
    )
    wait_until(
        lambda: queue_depth(stack, "payments") + queue_depth(stack, "payments-dlq") == 0,
        timeout=15,
        what="the redriven message to be acknowledged",
        describe=queues,
    )
    done = call(web, "GET", f"/v1/payments/{poison['id']}", key=key)[1]
    [charge] = [c for c in ProviderCharge.scan(consistent_read=True) if poison["id"] in c.key]

    figures["requests"] = 1 + COUNT
    figures["poison receives before the DLQ"] = receives
    figures["other payments processed meanwhile"] = meanwhile
    figures["redriven"] = 1
    checked = books.check([merchant_id])
    checked.report(figures)
    assert done["status"] == "completed" and done["amount"] == poison["amount"], done
    assert (int(charge.amount), int(charge.calls)) == (int(minor_units["N"]), 1)
    assert len(poison_failures()) == RECEIVES  # the redriven run did not fail
    assert checked.problems == []
    assert "no difference" in stack.manage("reconcile")
