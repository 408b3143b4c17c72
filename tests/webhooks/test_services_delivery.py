"""Deliveries from event to receiver: a real HTTP receiver on loopback, DynamoDB and SQS in moto."""

import json
import threading
import time

import pytest
from standardwebhooks import Webhook

from payflow.events.tables import Event
from payments.services import payment_create, payment_process
from webhooks.services import (
    DELIVER_TASK,
    deliveries_dispatch_due,
    delivery_attempt,
    delivery_id_of,
    endpoint_create,
    endpoint_rotate_secret,
    endpoint_slot,
    endpoint_update,
)
from webhooks.tables import WebhookDelivery, WebhookEndpoint

from .conftest import queued

# payment_create reads the merchant's routing rules (through the cache, else the database).
pytestmark = [pytest.mark.usefixtures("aws"), pytest.mark.django_db]

MERCHANT = "mch_hooks"


def endpoint_for(receiver, events=("*",), merchant_id=MERCHANT) -> WebhookEndpoint:
    return endpoint_create(merchant_id=merchant_id, url=receiver.url, enabled_events=list(events))


def pay(merchant_id=MERCHANT):
    payment, _ = payment_create(merchant_id=merchant_id, amount=2500, currency="USD", payment_type="eft")
    return payment


def deliveries_of(endpoint: WebhookEndpoint) -> list[WebhookDelivery]:
    return sorted(WebhookDelivery.by_endpoint.query(endpoint.id), key=lambda d: d.created_key)


def only_delivery(endpoint) -> WebhookDelivery:
    (delivery,) = deliveries_of(endpoint)
    return delivery


def reload(delivery: WebhookDelivery) -> WebhookDelivery:
    return WebhookDelivery.get(delivery.id, consistent_read=True)


def test_an_event_is_delivered_signed_as_standard_webhooks_verify_it(receiver):
    endpoint = endpoint_for(receiver, ["payment.created"])
    payment = pay()
    delivery = only_delivery(endpoint)
    assert [(t["task"], t["args"]) for t in queued("webhooks")] == [(DELIVER_TASK, [delivery.id])]

    delivery_attempt(delivery_id=delivery.id)

    (request,) = receiver.received
    assert Webhook(endpoint.secret).verify(request.body, request.headers) == request.event
    assert request.headers["webhook-id"] == delivery.event_id == request.event["id"]
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["User-Agent"].startswith("PayFlow-Webhooks/")
    assert request.event["type"] == "payment.created"
    assert request.event["data"]["object"]["id"] == payment.id
    assert request.event["data"]["object"]["updated_at"]
    done = reload(delivery)
    assert (done.status, done.attempt_count, done.dispatch_at) == ("succeeded", 1, None)
    assert (done.attempts[0].status_code, done.attempts[0].trigger) == (200, "scheduled")


def test_endpoints_get_the_types_they_subscribe_to_and_disabled_ones_nothing(receiver):
    completed_only = endpoint_for(receiver, ["payment.completed"])
    everything = endpoint_for(receiver, ["*"])
    disabled = endpoint_update(endpoint=endpoint_for(receiver, ["*"]), disabled=True)
    payment_process(payment_id=pay().id)

    assert [d.event_type for d in deliveries_of(completed_only)] == ["payment.completed"]
    assert [d.event_type for d in deliveries_of(everything)] == [
        "payment.created",
        "payment.processing",
        "payment.completed",
    ]
    assert deliveries_of(disabled) == []


def test_an_endpoint_created_after_the_cache_was_filled_gets_the_next_event(receiver):
    pay()  # fills the merchant's (empty) subscriptions
    endpoint = endpoint_for(receiver)
    pay()
    assert len(deliveries_of(endpoint)) == 1


def test_a_receiver_failing_three_times_gets_one_success_on_the_fourth_scheduled_attempt(receiver, settings):
    settings.WEBHOOK_TIME_SCALE = 0.0001
    receiver.answer(*[(500, {}, "boom", 0)] * 3, (200, {}, "ok", 0))
    endpoint = endpoint_for(receiver, ["payment.created"])
    pay()
    delivery = only_delivery(endpoint)
    waits = []
    for _ in range(4):
        delivery_attempt(delivery_id=delivery.id)
        current = reload(delivery)
        if current.status == "pending":
            waits.append(current.next_attempt_at - current.last_attempt_at.timestamp())
        time.sleep(0.2)
    done = reload(delivery)
    assert [a.status_code for a in done.attempts] == [500, 500, 500, 200]
    assert (done.status, done.attempt_count, len(receiver.received)) == ("succeeded", 4, 4)
    assert waits == pytest.approx([5 * 0.0001, 300 * 0.0001, 1800 * 0.0001], abs=0.01)
    assert len({r.headers["webhook-id"] for r in receiver.received}) == 1


def test_after_the_last_scheduled_attempt_the_delivery_is_a_dead_letter(receiver, settings):
    settings.WEBHOOK_RETRY_SCHEDULE = [0, 0, 0]
    receiver.default = (500, {}, "down", 0)
    endpoint = endpoint_for(receiver, ["payment.created"])
    pay()
    delivery = only_delivery(endpoint)
    for _ in range(5):
        delivery_attempt(delivery_id=delivery.id)
    done = reload(delivery)
    assert (done.status, done.attempt_count, len(receiver.received)) == ("failed", 3, 3)
    assert (done.next_attempt_at, done.dispatch_at) == (None, None)
    assert [d.id for d in WebhookDelivery.by_endpoint_status.query(f"{endpoint.id}#failed")] == [delivery.id]


def test_410_disables_the_endpoint_and_tells_the_merchants_other_endpoints(receiver):
    receiver.answer((410, {}, "gone", 0))
    gone = endpoint_for(receiver, ["payment.created"])
    watcher = endpoint_for(receiver, ["webhook_endpoint.disabled"])
    pay()
    delivery_attempt(delivery_id=only_delivery(gone).id)

    endpoint = WebhookEndpoint.get(gone.id)
    assert (endpoint.status, endpoint.disabled_reason) == ("disabled", "The endpoint answered 410 Gone.")
    assert only_delivery(gone).status == "failed"
    notice = only_delivery(watcher)
    assert json.loads(notice.payload)["data"]["object"]["id"] == gone.id
    assert [e.type for e in Event.by_merchant_type.query(f"{MERCHANT}#webhook_endpoint.disabled")] == [
        "webhook_endpoint.disabled"
    ]
    pay()
    assert len(deliveries_of(gone)) == 1  # nothing new for a disabled endpoint


def test_a_redirect_is_a_failure_and_is_not_followed(receiver):
    receiver.answer((302, {"Location": receiver.url + "/elsewhere"}, "", 0))
    endpoint = endpoint_for(receiver, ["payment.created"])
    pay()
    delivery_attempt(delivery_id=only_delivery(endpoint).id)
    time.sleep(0.2)
    assert [r.path for r in receiver.received] == ["/hooks"]
    delivery = only_delivery(endpoint)
    assert (delivery.status, delivery.last_status_code, delivery.scheduled_attempts) == ("pending", 302, 1)


def test_retry_after_is_honoured_and_a_long_wait_is_left_to_the_dispatcher(receiver, settings):
    settings.WEBHOOK_TIME_SCALE = 0.0001
    receiver.answer((503, {"Retry-After": "120"}, "busy", 0))
    endpoint = endpoint_for(receiver, ["payment.created"])
    pay()
    delivery = only_delivery(endpoint)
    queued("webhooks")
    delivery_attempt(delivery_id=delivery.id)

    waiting = reload(delivery)
    assert waiting.next_attempt_at - time.time() == pytest.approx(120, abs=2)
    assert waiting.dispatch_at == waiting.next_attempt_at
    assert queued("webhooks") == []  # nothing held in a countdown
    assert deliveries_dispatch_due() == 0

    WebhookDelivery(delivery.id).update(
        actions=[
            WebhookDelivery.next_attempt_at.set(time.time()),
            WebhookDelivery.dispatch_at.set(time.time()),
        ]
    )
    assert deliveries_dispatch_due() == 1
    assert [t["args"] for t in queued("webhooks")] == [[delivery.id]]
    delivery_attempt(delivery_id=delivery.id)
    assert reload(delivery).status == "succeeded"


def test_a_short_wait_is_a_task_countdown(receiver, settings):
    settings.WEBHOOK_TIME_SCALE = 0.1  # 5 s becomes 0.5 s, under the countdown limit
    receiver.answer((500, {}, "", 0))
    endpoint = endpoint_for(receiver, ["payment.created"])
    pay()
    queued("webhooks")
    delivery_attempt(delivery_id=only_delivery(endpoint).id)
    (task,) = queued("webhooks")
    assert task["task"] == DELIVER_TASK and task["eta"] is not None


def test_an_attempt_that_is_not_due_or_already_made_sends_nothing(receiver, settings):
    settings.WEBHOOK_TIME_SCALE = 1.0
    receiver.answer((500, {}, "", 0))
    endpoint = endpoint_for(receiver, ["payment.created"])
    pay()
    delivery = only_delivery(endpoint)
    delivery_attempt(delivery_id=delivery.id)
    delivery_attempt(delivery_id=delivery.id)  # a duplicate message: the next attempt is 5 s away
    assert len(receiver.received) == 1
    delivery_attempt(delivery_id="whd_unknown")


def test_an_attempt_whose_worker_died_is_taken_over_once_its_lease_ends(receiver):
    endpoint = endpoint_for(receiver, ["payment.created"])
    pay()
    delivery = only_delivery(endpoint)
    WebhookDelivery(delivery.id).update(
        actions=[WebhookDelivery.lease_token.set("dead"), WebhookDelivery.lease_until.set(time.time() + 60)]
    )
    delivery_attempt(delivery_id=delivery.id)
    assert receiver.received == []
    WebhookDelivery(delivery.id).update(actions=[WebhookDelivery.lease_until.set(time.time() - 1)])
    delivery_attempt(delivery_id=delivery.id)
    assert reload(delivery).status == "succeeded" and len(receiver.received) == 1


def test_an_endpoint_with_every_slot_busy_defers_the_delivery_without_using_an_attempt(receiver, settings):
    settings.WEBHOOK_ENDPOINT_CONCURRENCY = 1
    endpoint = endpoint_for(receiver, ["payment.created"])
    pay()
    delivery = only_delivery(endpoint)
    with endpoint_slot(endpoint.id) as acquired:
        assert acquired
        delivery_attempt(delivery_id=delivery.id)
    deferred = reload(delivery)
    assert receiver.received == []
    assert (deferred.status, deferred.attempt_count, deferred.deferrals) == ("pending", 0, 1)
    assert deferred.next_attempt_at > time.time() + 0.5

    WebhookDelivery(delivery.id).update(actions=[WebhookDelivery.next_attempt_at.set(time.time())])
    with endpoint_slot(endpoint.id):
        delivery_attempt(delivery_id=delivery.id)
    again = reload(delivery)
    assert again.deferrals == 2 and again.next_attempt_at > time.time() + 1.2  # 2 s, ±20 %
    WebhookDelivery(delivery.id).update(actions=[WebhookDelivery.next_attempt_at.set(time.time())])
    delivery_attempt(delivery_id=delivery.id)
    done = reload(delivery)
    assert (done.status, done.deferrals, len(receiver.received)) == ("succeeded", 0, 1)


def test_a_lost_publish_is_sent_by_the_dispatcher_and_backs_off(receiver, settings):
    settings.OUTBOX_GRACE_SECONDS = 0
    endpoint = endpoint_for(receiver, ["payment.created"])
    pay()
    delivery = only_delivery(endpoint)
    queued("webhooks")
    assert deliveries_dispatch_due() == 1
    assert [t["args"] for t in queued("webhooks")] == [[delivery.id]]
    assert deliveries_dispatch_due() == 0
    assert reload(delivery).redispatches == 1


def test_failing_without_a_success_for_the_disable_window_disables_the_endpoint(receiver, settings):
    settings.WEBHOOK_TIME_SCALE = 0.0001
    receiver.default = (500, {}, "", 0)
    endpoint = endpoint_for(receiver, ["payment.created"])
    pay()
    delivery = only_delivery(endpoint)
    delivery_attempt(delivery_id=delivery.id)
    assert WebhookEndpoint.get(endpoint.id).failing_since is not None
    WebhookEndpoint(endpoint.id).update(
        actions=[WebhookEndpoint.failing_since.set(time.time() - 5 * 86400 * 0.0001 - 1)]
    )
    time.sleep(0.1)
    delivery_attempt(delivery_id=delivery.id)
    disabled = WebhookEndpoint.get(endpoint.id)
    assert disabled.status == "disabled" and disabled.disabled_reason.startswith("Every attempt has failed")


def test_a_success_ends_the_failing_streak(receiver, settings):
    settings.WEBHOOK_TIME_SCALE = 0.0001
    receiver.answer((500, {}, "", 0))
    endpoint = endpoint_for(receiver, ["payment.created"])
    pay()
    delivery = only_delivery(endpoint)
    delivery_attempt(delivery_id=delivery.id)
    time.sleep(0.1)
    delivery_attempt(delivery_id=delivery.id)
    assert WebhookEndpoint.get(endpoint.id).failing_since is None


def test_a_receiver_that_does_not_answer_in_time_is_a_failed_attempt(receiver, settings):
    settings.WEBHOOK_TIMEOUT_SECONDS = 0.5
    receiver.answer((200, {}, "too late", 2.0))
    endpoint = endpoint_for(receiver, ["payment.created"])
    pay()
    started = time.monotonic()
    delivery_attempt(delivery_id=only_delivery(endpoint).id)
    assert time.monotonic() - started < 1.5
    attempt = only_delivery(endpoint).attempts[0]
    assert (attempt.status_code, attempt.error) == (None, "timeout: no complete answer within 0.5 s")


def test_only_the_first_2_kb_of_an_answer_are_kept(receiver):
    receiver.answer((200, {}, "x" * 10_000, 0))
    endpoint = endpoint_for(receiver, ["payment.created"])
    pay()
    delivery_attempt(delivery_id=only_delivery(endpoint).id)
    assert only_delivery(endpoint).attempts[0].response_body == "x" * 2048


def test_production_settings_check_the_address_again_at_delivery(receiver, settings):
    endpoint = endpoint_for(receiver, ["payment.created"])  # allowed when registered locally
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = False
    pay()
    delivery_attempt(delivery_id=only_delivery(endpoint).id)
    assert receiver.received == []
    attempt = only_delivery(endpoint).attempts[0]
    assert attempt.error.startswith("url_not_allowed: The host 127.0.0.1 resolves to a non-public address")


def test_during_a_rotation_deliveries_verify_with_the_old_and_the_new_secret(receiver):
    endpoint = endpoint_for(receiver, ["payment.created"])
    old_secret = endpoint.secret
    endpoint_rotate_secret(endpoint=endpoint)
    pay()
    delivery_attempt(delivery_id=only_delivery(endpoint).id)
    (request,) = receiver.received
    assert len(request.headers["webhook-signature"].split(" ")) == 2
    for secret in (old_secret, WebhookEndpoint.get(endpoint.id).secret):
        Webhook(secret).verify(request.body, request.headers)


def test_a_delivery_to_a_deleted_endpoint_fails_without_a_request(receiver):
    endpoint = endpoint_for(receiver, ["payment.created"])
    pay()
    delivery = only_delivery(endpoint)
    WebhookEndpoint(endpoint.id).delete()
    delivery_attempt(delivery_id=delivery.id)
    failed = reload(delivery)
    assert (failed.status, failed.last_error, receiver.received) == ("failed", "endpoint deleted", [])


def test_delivery_ids_are_one_per_event_and_endpoint():
    assert (
        delivery_id_of("evt_1", "we_1") == delivery_id_of("evt_1", "we_1") != delivery_id_of("evt_1", "we_2")
    )


@pytest.mark.parametrize("answer", [(500, {}, "down", 0.6), (200, {}, "ok", 0.6)])
def test_an_endpoint_deleted_while_its_delivery_is_in_flight_stays_deleted(receiver, answer):
    endpoint = endpoint_for(receiver, ["payment.created"])
    if answer[0] == 200:  # a success clears a failing streak: the write the test is about
        endpoint.update(actions=[WebhookEndpoint.failing_since.set(time.time())])
    receiver.answer(answer)
    pay()
    delivery = only_delivery(endpoint)
    deleting = threading.Timer(0.3, lambda: WebhookEndpoint(endpoint.id).delete())
    deleting.start()
    delivery_attempt(delivery_id=delivery.id)
    deleting.join()
    assert len(receiver.received) == 1
    with pytest.raises(WebhookEndpoint.DoesNotExist):
        WebhookEndpoint.get(endpoint.id, consistent_read=True)
