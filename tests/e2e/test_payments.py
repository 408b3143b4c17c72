"""Payments through the real stack: gunicorn, SQS, a Celery worker, the emulator."""

import json
import os
import signal
import threading
import time

import pytest

from payments.tables import Payment, ProviderCharge
from tests.payments.conftest import SEED_REQUEST

SEED = SEED_REQUEST
PAN = "4242424242424242"


def wait_for_status(web, key, payment_id, statuses=("completed", "failed"), timeout=30.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body = web.request("GET", f"/v1/payments/{payment_id}", key=key)[2]
        if body["status"] in statuses:
            return body
        time.sleep(0.1)
    raise AssertionError(f"{payment_id} stayed {body['status']}")


def test_the_seed_request_completes_and_replays(stack):
    merchant = stack.create_merchant()
    web = stack.start_web()
    stack.start_worker()
    key = merchant["api_key"]

    status, _, created = web.request("POST", "/v1/payments", SEED, key=key)
    assert (status, created["status"], created["amount"]) == (201, "pending", "250.00")
    done = wait_for_status(web, key, created["id"])
    assert done["status"] == "completed" and done["provider_reference"]

    status, headers, replay = web.request("POST", "/v1/payments", SEED, key=key)
    assert (status, headers["Idempotent-Replayed"], replay) == (200, "true", created)
    status, _, body = web.request("POST", "/v1/payments", SEED | {"amount": 251.00}, key=key)
    assert (status, body["error"]["code"]) == (422, "idempotency_key_reused")

    history = web.request("GET", f"/v1/payments/{created['id']}/history", key=key)[2]["data"]
    assert [h["to"] for h in history] == ["pending", "processing", "completed"]

    other = stack.create_merchant("Other Ltd")["api_key"]
    assert web.request("GET", f"/v1/payments/{created['id']}", key=other)[0] == 404
    assert web.request("GET", "/v1/payments", key=other)[2]["data"] == []


def test_aws_calls_on_the_request_path_stay_within_budget(stack):
    key = stack.create_merchant()["api_key"]
    web = stack.start_web()
    for i in range(6):  # warm both gunicorn workers' clients and queue URLs
        web.request("POST", "/v1/payments", SEED | {"idempotency_key": f"warm-{i}"}, key=key)
    web.proxy.take()

    assert web.request("POST", "/v1/payments", SEED, key=key)[0] == 201
    new = web.proxy.take()
    assert web.request("POST", "/v1/payments", SEED, key=key)[0] == 200
    replay = web.proxy.take()

    dynamodb = lambda calls: sum(n for op, n in calls.items() if op.startswith("dynamodb."))  # noqa: E731
    sqs = lambda calls: sum(n for op, n in calls.items() if op.startswith("sqs."))  # noqa: E731
    assert dynamodb(new) <= 2 and sqs(new) == 1, new
    assert new["sqs.SendMessage"] == 1 and new["dynamodb.TransactWriteItems"] == 1
    assert dynamodb(replay) <= 2 and sqs(replay) == 0, replay


def test_fifty_concurrent_requests_with_one_key_create_one_payment(stack):
    key = stack.create_merchant()["api_key"]
    web = stack.start_web()
    results = []

    def post():
        status, _, body = web.request("POST", "/v1/payments", SEED, key=key)
        results.append((status, body))

    threads = [threading.Thread(target=post) for _ in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    listed = web.request("GET", "/v1/payments?limit=100", key=key)[2]["data"]
    assert len(listed) == 1
    statuses = {status for status, _ in results}
    assert statuses <= {201, 200, 409} and 201 in statuses
    created = next(body for status, body in results if status == 201)
    for status, body in results:
        if status == 200:
            assert body == created
        if status == 409:
            assert body["error"]["code"] == "idempotency_key_in_use"


def test_a_worker_killed_mid_payment_is_replaced_and_the_payment_completes_once(stack, stack_tables):
    key = stack.create_merchant()["api_key"]
    web = stack.start_web()
    slow = stack.start_worker(PAYMENTS_PROVIDER_LATENCY_SCALE="25")  # 0.5 to 1.5 s per charge
    payment_id = web.request("POST", "/v1/payments", SEED, key=key)[2]["id"]

    deadline = time.monotonic() + 20
    while Payment.get(payment_id, consistent_read=True).status != "processing":
        assert time.monotonic() < deadline
        time.sleep(0.02)
    os.killpg(slow.process.pid, signal.SIGKILL)
    slow.process.wait()

    stack.start_worker()
    done = wait_for_status(web, key, payment_id, timeout=60)
    assert done["status"] == "completed"
    assert done["attempts"] == 2
    charges = [c for c in ProviderCharge.scan() if c.key.endswith(f"#{payment_id}")]
    assert len(charges) == 1 and charges[0].reference == done["provider_reference"]


def test_a_payment_whose_enqueue_failed_is_completed_through_the_sweeper(stack):
    key = stack.create_merchant()["api_key"]
    web = stack.start_web(OUTBOX_GRACE_SECONDS="0")
    web.request("POST", "/v1/payments", SEED | {"idempotency_key": "warm"}, key=key)
    web.proxy.failing.add("sqs.")  # SQS goes down: every publish after the commit fails
    status, _, created = web.request("POST", "/v1/payments", SEED, key=key)
    assert (status, created["status"]) == (201, "pending")
    web.wait_for("the outbox sweeper will retry", timeout=15)

    stack.start_worker()
    time.sleep(1.5)
    assert web.request("GET", f"/v1/payments/{created['id']}", key=key)[2]["status"] == "pending"
    stack.send_task("payflow.outbox.tasks.outbox_sweep_task")  # what beat sends every minute
    assert wait_for_status(web, key, created["id"])["status"] == "completed"


def test_a_card_number_never_reaches_a_table_or_a_log(stack):
    key = stack.create_merchant()["api_key"]
    web = stack.start_web()
    worker = stack.start_worker()
    card = {"number": PAN, "exp_month": 12, "exp_year": 2034, "cvc": "987"}
    status, _, created = web.request(
        "POST", "/v1/payments", {"amount": "10.00", "currency": "USD", "type": "card", "card": card}, key=key
    )
    assert status == 201 and created["card"]["last4"] == "4242"
    wait_for_status(web, key, created["id"])
    bad = web.request(
        "POST",
        "/v1/payments",
        {"amount": "1", "currency": "USD", "type": "card", "card": card | {"number": PAN[:-1] + "1"}},
        key=key,
    )
    assert bad[0] == 400

    dynamodb = stack.client("dynamodb")
    pages = dynamodb.get_paginator("list_tables").paginate()
    tables = [t for page in pages for t in page["TableNames"] if t.startswith(stack.prefix + "-")]
    assert len(tables) >= 10
    dumped = json.dumps([dynamodb.scan(TableName=t)["Items"] for t in tables])
    assert created["id"] in dumped
    for secret in (PAN, PAN[:-1] + "1", '987"'):
        assert secret not in dumped
        assert secret not in web.text and secret not in worker.text


@pytest.mark.parametrize("outcome", ["insufficient_funds"])
def test_a_declined_test_card_fails_with_its_code(stack, outcome):
    key = stack.create_merchant()["api_key"]
    web = stack.start_web()
    stack.start_worker()
    card = {"number": "4000000000009995", "exp_month": 12, "exp_year": 2034, "cvc": "123"}
    created = web.request(
        "POST", "/v1/payments", {"amount": "5.00", "currency": "USD", "type": "card", "card": card}, key=key
    )[2]
    failed = wait_for_status(web, key, created["id"])
    assert (failed["status"], failed["failure_code"]) == ("failed", outcome)
