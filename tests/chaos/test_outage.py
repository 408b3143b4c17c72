"""Scenario 1: the AWS emulator stops in the middle of a burst of creates, and comes back."""

import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest

from payflow.devstack.emulator import Emulator, free_port
from payments.tables import Payment
from tests.conftest import point_settings_at_aws
from tests.e2e.conftest import Stack

from . import books
from .load import all_final, call, not_final, payment_body, stuck_report, wait_until

KEYS = 120
SWEEP = {"payflow.outbox.tasks.outbox_sweep_task": 2}
PAID = ("completed", "failed")


@pytest.fixture
def outage_stack(tmp_path, settings):
    """A stack on an emulator of its own, which this test stops and starts."""
    emulator = Emulator(port=free_port(), state_dir=tmp_path / "aws")
    emulator.start()
    stack = Stack(emulator, tmp_path)
    stack.manage("provision_aws")
    point_settings_at_aws(settings, endpoint_url=emulator.url, payflow_env=stack.payflow_env)
    yield stack
    stack.stop()
    emulator.stop()


def test_an_emulator_outage_mid_burst_gives_503s_and_retries_create_each_payment_once(outage_stack, figures):
    stack = outage_stack
    # A claim whose request died with AWS is free again after 5 s; the sweeper re-sends after 5 s.
    stack.env |= {"IDEMPOTENCY_LOCK_SECONDS": "5", "OUTBOX_GRACE_SECONDS": "5"}
    merchant = stack.create_merchant()
    key, merchant_id = merchant["api_key"], merchant["merchant_id"]
    web = stack.start_web(RATE_LIMIT_PER_SECOND="10000", RATE_LIMIT_BURST="10000")
    worker = stack.start_worker("payments", pool_args=("--concurrency=2",))
    beat = stack.start_beat(every=SWEEP)

    answers: dict[int, list] = {i: [] for i in range(KEYS)}
    during: Counter = Counter()
    outage = threading.Event()

    def send(i: int) -> int | None:
        status, body = call(
            web, "POST", "/v1/payments", payment_body(i), key=key, headers={"Idempotency-Key": f"chaos-{i}"}
        )
        answers[i].append((status, body))
        if outage.is_set():
            during[status] += 1
        return status

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(send, range(KEYS // 3)))
        # The emulator stops while the second third is in flight; the last third comes during the outage.
        stopper = threading.Timer(0.1, lambda: (outage.set(), stack.emulator.stop()))
        stopper.start()
        list(pool.map(send, range(KEYS // 3, 2 * KEYS // 3)))
        stopper.join()
        outage_seconds = time.monotonic()
        list(pool.map(send, range(2 * KEYS // 3, KEYS)))
        time.sleep(2)  # the clients' first retries, still during the outage
        list(pool.map(send, [i for i in range(KEYS) if answers[i][-1][0] not in (200, 201)]))
        outage.clear()
        stack.emulator.start()
        outage_seconds = time.monotonic() - outage_seconds + 0.2

        # Clients retry with the same keys until they get their payment; the last third is new.
        def until_created(i: int) -> None:
            deadline = time.monotonic() + 90
            while answers[i] == [] or answers[i][-1][0] not in (200, 201):
                assert time.monotonic() < deadline, answers[i][-3:]
                if answers[i] and answers[i][-1][0] in (409, 503):
                    time.sleep(0.5)
                send(i)

        list(pool.map(until_created, range(KEYS)))

    refused = [body for i in range(KEYS) for status, body in answers[i] if status not in (200, 201, 409)]
    created = {i: answers[i][-1][1]["id"] for i in range(KEYS)}
    wait_until(
        lambda: all_final(web, key, "/v1/payments", created.values(), PAID),
        timeout=120,
        what="the payments",
        describe=lambda: stuck_report(
            stack, not_final(web, key, "/v1/payments", created.values(), PAID), worker, beat
        ),
    )

    figures["requests"] = sum(len(a) for a in answers.values())
    figures["outage (s)"] = round(outage_seconds, 1)
    figures["answers during the outage"] = dict(during)
    # The same worker took the work up again once SQS was back: nobody restarted it.
    assert worker.process.poll() is None and beat.process.poll() is None
    assert "works again" in worker.text, worker.text[-3000:]
    checked = books.check([merchant_id])
    checked.report(figures)
    # Every refusal was a clear 503 in the one error shape, never a 500 or a dropped connection.
    lines = web.text.splitlines()
    unhandled = [line for line in lines if '"unhandled exception"' in line or '"status": 500' in line]
    assert during[503] > 0 and not unhandled, (refused[:2], unhandled[:2])
    assert {r.get("error", {}).get("code") for r in refused} <= {"service_unavailable"}, refused[:3]
    # Every key made one payment, and each replay returned that one.
    payments = list(Payment.by_merchant.query(merchant_id))
    assert sorted(p.idempotency_key for p in payments) == sorted(f"chaos-{i}" for i in range(KEYS))
    for i in range(KEYS):
        ids = {body["id"] for status, body in answers[i] if status in (200, 201)}
        assert ids == {created[i]}
    assert checked.problems == []
    assert "no difference" in stack.manage("reconcile")
