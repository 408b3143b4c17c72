"""Clients, waits and SQS tricks shared by the chaos scenarios."""

import json
import time
import urllib.error
import urllib.request
from collections import Counter

from payflow.audit.selectors import audit_history
from payflow.outbox.tables import OutboxEntry

VISA = {"number": "4242424242424242", "exp_month": 12, "exp_year": 2034, "cvc": "123"}


def call(web, method: str, path: str, body=None, *, key: str, headers=None, timeout: float = 30):
    """(status, parsed body) of one request; (None, error) when the connection itself failed."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(web.url + path, data=data, method=method)
    request.add_header("Content-Type", "application/json")
    request.add_header("Authorization", f"Bearer {key}")
    for name, value in (headers or {}).items():
        request.add_header(name, value)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        raw = error.read()
        try:
            return error.code, json.loads(raw)
        except ValueError:
            return error.code, {"not_json": raw[:200].decode(errors="replace")}
    except (urllib.error.URLError, ConnectionError, TimeoutError) as error:
        return None, {"connection": str(error)}


def payment_body(index: int, **changes) -> dict:
    cents = 1000 + index * 7  # every payment a different amount
    return {
        "amount": f"{cents // 100}.{cents % 100:02d}",
        "currency": "USD",
        "type": "card",
        "card": VISA,
    } | changes


def wait_until(condition, *, timeout: float, what: str, every: float = 0.5, describe=None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(every)
    raise AssertionError(
        f"timed out after {timeout:.0f} s waiting for {what}: {describe() if describe else ''}"
    )


def not_final(web, key: str, path: str, ids, finals=("completed", "failed")) -> dict[str, str]:
    """The objects of ``ids`` not yet in a final state, with their status."""
    statuses = {
        object_id: call(web, "GET", f"{path}/{object_id}", key=key)[1].get("status") for object_id in ids
    }
    return {object_id: status for object_id, status in statuses.items() if status not in finals}


def all_final(web, key: str, path: str, ids, finals=("completed", "failed")) -> bool:
    return not not_final(web, key, path, ids, finals)


def duplicate_messages(stack, queue: str) -> int:
    """Make SQS deliver every waiting message of ``queue`` twice: each body sent again beside itself."""
    sqs = stack.client("sqs")
    url = stack.queue_url(queue)
    taken = []
    while batch := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=60).get(
        "Messages", []
    ):
        taken += batch
    for message in taken:
        for _ in range(2):
            sqs.send_message(QueueUrl=url, MessageBody=message["Body"])
        sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return len(taken)


def queue_depth(stack, queue: str) -> int:
    attributes = stack.client("sqs").get_queue_attributes(
        QueueUrl=stack.queue_url(queue),
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return sum(int(v) for v in attributes.values())


def stuck_report(stack, stuck: dict[str, str], *processes) -> str:
    """What a test that timed out needs to tell why: the stuck objects, their histories, the
    outbox, the dead letters and the end of each process's output."""
    lines = [f"not final: {Counter(stuck.values()).most_common()}"]
    for object_id in list(stuck)[:3]:
        history = [(a.from_status, a.to_status, a.reason) for a in audit_history(object_id=object_id)]
        lines.append(f"{object_id}: {history}")
    lines.append(f"outbox: {[(e.task, e.object_id) for e in OutboxEntry.scan()][:5]}")
    lines.append(f"payments DLQ: {queue_depth(stack, 'payments-dlq')}")
    lines += [process.text[-3000:] for process in processes]
    return "\n".join(lines)
