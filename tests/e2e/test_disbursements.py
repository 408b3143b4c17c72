"""Customers and payouts through the real stack (issue 5's acceptance)."""

import json
import threading
import time
import uuid

from payflow.balances.selectors import balances_available
from payflow.balances.services import balance_top_up
from payments.tables import ProviderCharge


def wait_final(web, key, disbursement_id, timeout=30.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body = web.request("GET", f"/v1/disbursements/{disbursement_id}", key=key)[2]
        if body["status"] in ("completed", "failed", "returned"):
            return body
        time.sleep(0.2)
    raise AssertionError(f"{disbursement_id} stayed {body['status']}")


def test_the_seed_flow_pays_a_customer_by_every_method_and_tells_them_once(stack, stack_tables, tmp_path):
    secret_value = "sm-" + uuid.uuid4().hex
    credentials = {m: {"client_id": f"sm-{m}", "secret": secret_value} for m in ("paypal", "stripe", "ach")}
    secret_name = f"{stack.prefix}/payout-providers"
    stack.client("secretsmanager").create_secret(Name=secret_name, SecretString=json.dumps(credentials))
    sns, sqs = stack.client("sns"), stack.client("sqs")
    topic = sns.create_topic(Name=f"{stack.prefix}-disbursements")["TopicArn"]
    inbox = sqs.create_queue(QueueName=f"{stack.prefix}-notifications")["QueueUrl"]
    inbox_arn = sqs.get_queue_attributes(QueueUrl=inbox, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=inbox_arn)

    merchant = stack.create_merchant()
    key = merchant["api_key"]
    web = stack.start_web()
    mail_dir = tmp_path / "mail"
    worker = stack.start_worker(
        PAYOUT_CREDENTIALS_SECRET=secret_name,
        ACH_SETTLEMENT_DELAY_SECONDS="2",
        DISBURSEMENT_SNS_TOPIC_ARN=topic,
        EMAIL_BACKEND="django.core.mail.backends.filebased.EmailBackend",
        EMAIL_FILE_PATH=str(mail_dir),
    )
    balance_top_up(merchant_id=merchant["merchant_id"], currency="USD", amount=600_000, operator="test")

    status, _, _ = web.request(
        "POST", "/v1/customers", {"customer_id": "unixuser1", "email": "unixuser1@example.com"}, key=key
    )
    assert status == 201
    ids = []
    for method in ("paypal", "stripe", "ach"):
        body = {"customer_id": "unixuser1", "amount": "2000.00", "currency": "USD", "method": method}
        status, _, disbursement = web.request("POST", "/v1/disbursements", body, key=key)
        assert (status, disbursement["status"]) == (201, "pending")
        ids.append(disbursement["id"])
    for disbursement_id in ids[:2]:
        assert wait_final(web, key, disbursement_id)["status"] == "completed"

    time.sleep(2.5)
    stack.send_task("customers.tasks.settle_ach_task")  # what beat sends every minute
    assert wait_final(web, key, ids[2])["status"] == "completed"

    listed = web.request("GET", "/v1/customers/unixuser1/disbursements", key=key)[2]["data"]
    assert sorted(d["id"] for d in listed) == sorted(ids)
    assert all(d["status"] == "completed" for d in listed)
    assert balances_available(merchant_id=merchant["merchant_id"]) == {"USD": 0}

    deadline = time.monotonic() + 20
    while len(list(mail_dir.glob("*"))) < 3 and time.monotonic() < deadline:
        time.sleep(0.2)
    mails = "".join(path.read_text() for path in mail_dir.glob("*"))
    assert mails.count("Subject: Your payout of 2000.00 USD is on its way") == 3
    assert mails.count("To: unixuser1@example.com") == 3
    notified = set()
    while messages := sqs.receive_message(QueueUrl=inbox, MaxNumberOfMessages=10, WaitTimeSeconds=1).get(
        "Messages"
    ):
        for message in messages:
            payload = json.loads(json.loads(message["Body"])["Message"])
            notified.add(payload["disbursement"]["id"])
            sqs.delete_message(QueueUrl=inbox, ReceiptHandle=message["ReceiptHandle"])
    assert notified == set(ids)

    charges = [c for c in ProviderCharge.scan() if "#payout#" in c.key]
    assert sorted(c.provider for c in charges) == ["ach:sm-ach", "paypal:sm-paypal", "stripe:sm-stripe"]
    assert secret_value not in worker.text and secret_value not in web.text


def test_thirty_concurrent_payouts_against_a_balance_for_ten(stack, stack_tables):
    merchant = stack.create_merchant()
    key = merchant["api_key"]
    web = stack.start_web()
    web.request("POST", "/v1/customers", {"customer_id": "c1", "email": "c1@example.com"}, key=key)
    balance_top_up(merchant_id=merchant["merchant_id"], currency="USD", amount=10 * 10_000, operator="test")

    results = []
    barrier = threading.Barrier(30)

    def pay():
        barrier.wait()
        body = {"customer_id": "c1", "amount": "100.00", "currency": "USD", "method": "stripe"}
        results.append(web.request("POST", "/v1/disbursements", body, key=key))

    threads = [threading.Thread(target=pay) for _ in range(30)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    statuses = sorted(status for status, _, _ in results)
    assert statuses == [201] * 10 + [409] * 20, statuses
    assert {body["error"]["code"] for status, _, body in results if status == 409} == {"insufficient_balance"}
    assert balances_available(merchant_id=merchant["merchant_id"]) == {"USD": 0}
