"""Scenario 3: SQS delivers every message twice; each provider is still asked once."""

from payflow.balances.services import balance_top_up

from . import books
from .load import all_final, call, duplicate_messages, payment_body, queue_depth, wait_until

COUNT = 20


def test_every_message_delivered_twice_still_one_provider_call_each(stack, stack_tables, figures):
    merchant = stack.create_merchant()
    key, merchant_id = merchant["api_key"], merchant["merchant_id"]
    balance_top_up(merchant_id=merchant_id, currency="USD", amount=COUNT * 5000, operator="chaos")
    web = stack.start_web()
    # Slow providers (0.1-0.3 s a call) widen the window in which both copies run at once.
    workers = {"PAYMENTS_PROVIDER_LATENCY_SCALE": "5"}
    assert (
        call(web, "POST", "/v1/customers", {"customer_id": "c1", "email": "c1@example.com"}, key=key)[0]
        == 201
    )

    # Payments wait in the queue (no worker yet); then each message is there twice.
    payments = [call(web, "POST", "/v1/payments", payment_body(i), key=key)[1]["id"] for i in range(COUNT)]
    doubled = duplicate_messages(stack, "payments")
    running = [stack.start_worker("payments", pool_args=("--concurrency=2",), **workers) for _ in range(2)]
    wait_until(lambda: all_final(web, key, "/v1/payments", payments), timeout=120, what="the payments")
    for worker in running:
        worker.process.terminate()
        worker.process.wait(30)

    # Refunds and payouts the same way.
    refunds = []
    for payment_id in payments:
        status, refund = call(
            web, "POST", "/v1/refunds", {"payment_id": payment_id, "amount": "3.00"}, key=key
        )
        assert status == 201, refund
        refunds.append(refund["id"])
    payouts = []
    for i in range(COUNT):
        body = {
            "customer_id": "c1",
            "amount": "50.00",
            "currency": "USD",
            "method": ("paypal", "stripe")[i % 2],
        }
        status, payout = call(web, "POST", "/v1/disbursements", body, key=key)
        assert status == 201, payout
        payouts.append(payout["id"])
    doubled += duplicate_messages(stack, "payments")
    running = [stack.start_worker("payments", pool_args=("--concurrency=2",), **workers) for _ in range(2)]
    wait_until(lambda: all_final(web, key, "/v1/refunds", refunds), timeout=120, what="the refunds")
    wait_until(lambda: all_final(web, key, "/v1/disbursements", payouts), timeout=120, what="the payouts")
    wait_until(lambda: queue_depth(stack, "payments") == 0, timeout=60, what="the duplicates to be consumed")

    figures["requests"] = 1 + 3 * COUNT
    figures["messages delivered twice"] = doubled
    checked = books.check([merchant_id], top_ups={(merchant_id, "USD"): COUNT * 5000})
    checked.report(figures)
    assert checked.problems == []
    # The duplicate of a message never reached a provider: it found the item leased or finished.
    assert checked.repeated_calls == 0
    assert doubled >= 3 * COUNT  # and the retries of those that found a lease held
    assert "no difference" in stack.manage("reconcile")
