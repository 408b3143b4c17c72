"""Scenario 2: workers killed (kill -9) at random under payments, refunds and payouts."""

import os
import random
import signal
import threading
from collections import Counter
from pathlib import Path

from payflow.balances.services import balance_top_up

from . import books
from .load import all_final, call, not_final, payment_body, stuck_report, wait_until

PAYMENTS, REFUNDS, PAYOUTS = 40, 20, 30
PAID = ("completed", "failed", "partially_refunded", "refunded")
SWEEP = {"payflow.outbox.tasks.outbox_sweep_task": 2}
# Slow providers (0.1-0.3 s a call), so that kills land in the middle of calls.
WORKER_ENV = {"PAYMENTS_PROVIDER_LATENCY_SCALE": "5"}


def children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(child) for child in path.read_text().split()] if path.exists() else []


def test_workers_killed_at_random_finish_every_payment_refund_and_payout_once(stack, stack_tables, figures):
    # Work that a dead worker's message took to the DLQ comes back through the outbox sweeper.
    stack.env["OUTBOX_GRACE_SECONDS"] = "5"
    merchant = stack.create_merchant()
    key, merchant_id = merchant["api_key"], merchant["merchant_id"]
    balance_top_up(merchant_id=merchant_id, currency="USD", amount=PAYOUTS * 5000, operator="chaos")
    web = stack.start_web()
    assert (
        call(web, "POST", "/v1/customers", {"customer_id": "c1", "email": "c1@example.com"}, key=key)[0]
        == 201
    )
    stack.start_beat(every=SWEEP)
    workers = [stack.start_worker("payments", pool_args=("--concurrency=2",), **WORKER_ENV) for _ in range(2)]

    rng = random.Random(20261123)
    kills: Counter = Counter()
    stop = threading.Event()

    def kill_at_random():
        while not stop.wait(rng.uniform(0.3, 1.2)):
            index = rng.randrange(len(workers))
            worker = workers[index]
            pool = children(worker.process.pid)
            if pool and rng.random() < 0.6:
                # One pool process: its master sees it die and starts another.
                os.kill(rng.choice(pool), signal.SIGKILL)
                kills["pool process"] += 1
            else:
                # The whole worker, master and pool, as a lost machine: another takes its place.
                os.killpg(worker.process.pid, signal.SIGKILL)
                worker.process.wait()
                kills["whole worker"] += 1
                try:
                    workers[index] = stack.start_worker(
                        "payments", pool_args=("--concurrency=2",), **WORKER_ENV
                    )
                except AssertionError as error:  # never ready: the test fails below
                    kills["replacement never ready"] += 1
                    print(error)

    killer = threading.Thread(target=kill_at_random, daemon=True)
    killer.start()
    requests = Counter()
    try:
        payments = []
        for i in range(PAYMENTS):
            status, payment = call(web, "POST", "/v1/payments", payment_body(i), key=key)
            requests[status] += 1
            payments.append(payment["id"])
            if i < PAYOUTS:
                body = {
                    "customer_id": "c1",
                    "amount": "50.00",
                    "currency": "USD",
                    "method": ("paypal", "stripe")[i % 2],
                }
                status, _ = call(web, "POST", "/v1/disbursements", body, key=key)
                requests[status] += 1
        payouts = [
            d["id"] for d in call(web, "GET", "/v1/customers/c1/disbursements?limit=100", key=key)[1]["data"]
        ]
        refunds = []
        for payment_id in payments[:REFUNDS]:
            wait_until(
                lambda p=payment_id: all_final(web, key, "/v1/payments", [p]), timeout=120, what=payment_id
            )
            status, refund = call(
                web, "POST", "/v1/refunds", {"payment_id": payment_id, "amount": "2.50"}, key=key
            )
            requests[status] += 1
            refunds.append(refund["id"])
        # Faults go on while the rest finishes.
        wait_until(lambda: all_final(web, key, "/v1/refunds", refunds), timeout=180, what="the refunds")
    finally:
        stop.set()
        killer.join(60)

    wait_until(
        lambda: all_final(web, key, "/v1/payments", payments, PAID),
        timeout=180,
        what="the payments",
        describe=lambda: stuck_report(stack, not_final(web, key, "/v1/payments", payments, PAID), *workers),
    )
    wait_until(lambda: all_final(web, key, "/v1/disbursements", payouts), timeout=180, what="the payouts")

    figures["requests"] = sum(requests.values())
    figures["kill -9 (pool process / whole worker)"] = f"{kills['pool process']} / {kills['whole worker']}"
    checked = books.check([merchant_id], top_ups={(merchant_id, "USD"): PAYOUTS * 5000})
    checked.report(figures)
    assert set(requests) == {201}, requests
    assert len(payouts) == PAYOUTS
    assert sum(kills.values()) >= 10
    assert checked.problems == []
    assert "no difference" in stack.manage("reconcile")
