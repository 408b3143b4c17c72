"""Webhooks through the real stack: gunicorn, SQS, a threaded webhook worker, beat, loopback receivers."""

import itertools
import statistics
import time

import pytest
from standardwebhooks import Webhook

from tests.webhooks.receiver import receiving

SCALE = 0.002  # the schedule's 5 s, 5 min, 30 min become 0.01 s, 0.6 s, 3.6 s
VISA = {"number": "4242424242424242", "exp_month": 12, "exp_year": 2034, "cvc": "123"}


@pytest.fixture
def receivers():
    opened = []

    def open_one():
        context = receiving()
        opened.append(context)
        return context.__enter__()

    yield open_one
    for context in opened:
        context.__exit__(None, None, None)


def register(web, key, url, events) -> dict:
    status, _, endpoint = web.request(
        "POST", "/v1/webhook_endpoints", {"url": url, "enabled_events": events}, key=key
    )
    assert status == 201, endpoint
    return endpoint


def pay(web, key, **changes) -> dict:
    body = {"amount": "12.50", "currency": "USD", "type": "card", "card": VISA} | changes
    body = {name: value for name, value in body.items() if value is not None}
    status, _, payment = web.request("POST", "/v1/payments", body, key=key)
    assert status == 201, payment
    return payment


def wait(condition, timeout: float, message: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(0.1)
    raise AssertionError(message)


def test_a_failing_receiver_gets_one_delivery_after_four_attempts_at_the_scheduled_gaps(stack, receivers):
    stack.env["WEBHOOK_TIME_SCALE"] = str(SCALE)
    key = stack.create_merchant()["api_key"]
    web = stack.start_web()
    stack.start_worker("payments")
    stack.start_webhook_worker()
    stack.start_beat(every={"webhooks.tasks.dispatch_webhooks_task": 1})
    receiver = receivers().answer(*[(500, {}, "down", 0)] * 3, (200, {}, "ok", 0))
    endpoint = register(web, key, receiver.url, ["payment.completed"])

    pay(web, key)
    received = receiver.wait_for(4, timeout=30)
    assert len(received) == 4, received
    for request in received:
        Webhook(endpoint["secret"]).verify(request.body, request.headers)
    assert len({r.headers["webhook-id"] for r in received}) == 1

    gaps = [later.at - earlier.at for earlier, later in itertools.pairwise(received)]
    for gap, scheduled in zip(gaps, (5 * SCALE, 300 * SCALE, 1800 * SCALE), strict=True):
        # Never early; late by at most the dispatcher's 1 s tick and a worker's poll.
        assert scheduled - 0.05 <= gap <= scheduled + 2.5, (gaps, scheduled)

    event_id = received[0].event["id"]
    (delivery,) = wait(
        lambda: [
            d
            for d in web.request("GET", f"/v1/events/{event_id}/deliveries", key=key)[2]["data"]
            if d["status"] == "succeeded"
        ],
        10,
        "the delivery never succeeded",
    )
    assert [a["status_code"] for a in delivery["attempts"]] == [500, 500, 500, 200]
    time.sleep(2)
    assert len(receiver.received) == 4  # exactly one success, nothing after it


def test_410_disables_the_endpoint_and_a_redirect_is_a_failure(stack, receivers):
    stack.env["WEBHOOK_TIME_SCALE"] = "1"
    key = stack.create_merchant()["api_key"]
    web = stack.start_web()
    stack.start_webhook_worker()
    gone, moved = receivers(), receivers()
    gone.default = (410, {}, "gone", 0)
    moved.default = (302, {"Location": gone.url}, "", 0)
    gone_endpoint = register(web, key, gone.url, ["payment.created"])
    moved_endpoint = register(web, key, moved.url, ["payment.created"])

    payment = pay(web, key)
    wait(
        lambda: (
            web.request("GET", f"/v1/webhook_endpoints/{gone_endpoint['id']}", key=key)[2]["status"]
            == "disabled"
        ),
        15,
        "410 did not disable the endpoint",
    )
    events = web.request("GET", "/v1/events?type=webhook_endpoint.disabled", key=key)[2]["data"]
    assert [e["data"]["object"]["id"] for e in events] == [gone_endpoint["id"]]

    deliveries = wait(
        lambda: [
            d
            for d in web.request("GET", f"/v1/webhook_endpoints/{moved_endpoint['id']}/deliveries", key=key)[
                2
            ]["data"]
            if d["attempt_count"] == 1
        ],
        15,
        "the redirecting endpoint was never tried",
    )
    assert (deliveries[0]["status"], deliveries[0]["last_status_code"]) == ("pending", 302)
    time.sleep(0.5)
    assert [r.event["data"]["object"]["id"] for r in gone.received] == [payment["id"]]  # not followed there
    assert len(moved.received) == 1


def _latencies(web, key, receiver, count: int) -> list[float]:
    sent = {}
    for _ in range(count):
        payment = pay(web, key, type="eft", card=None)
        sent[payment["id"]] = time.time()
    wait(lambda: len(receiver.received) >= count, 30, "not every delivery reached the fast receiver")
    arrivals = {r.event["data"]["object"]["id"]: r.at for r in receiver.received}
    return [arrivals[payment_id] - at for payment_id, at in sent.items()]


def test_a_receiver_that_never_answers_does_not_slow_another_endpoints_deliveries(stack, receivers):
    key = stack.create_merchant()["api_key"]
    web = stack.start_web()
    stack.start_webhook_worker()
    # Deliveries that wait for a busy endpoint longer than a countdown come back through the dispatcher.
    stack.start_beat(every={"webhooks.tasks.dispatch_webhooks_task": 1})
    alone, beside_dead = receivers(), receivers()
    first = register(web, key, alone.url, ["payment.created"])
    before = _latencies(web, key, alone, 30)
    web.request("PATCH", f"/v1/webhook_endpoints/{first['id']}", {"disabled": True}, key=key)

    dead = receivers()
    dead.default = (200, {}, "", 3600)  # accepts, then never answers
    register(web, key, dead.url, ["payment.created"])
    register(web, key, beside_dead.url, ["payment.created"])
    after = _latencies(web, key, beside_dead, 30)

    p95 = lambda values: statistics.quantiles(values, n=20)[-1]  # noqa: E731
    assert len(dead.received) >= 4, "the dead endpoint was never tried"
    # Head-of-line blocking would add whole timeouts (1 s each) to the healthy endpoint's deliveries.
    assert p95(after) <= p95(before) + 0.5, (sorted(before), sorted(after))
