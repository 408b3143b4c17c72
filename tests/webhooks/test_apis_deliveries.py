"""The delivery API: listing deliveries and dead letters, test sends, redelivery and recovery."""

import time
from datetime import UTC, datetime, timedelta

import pytest
from standardwebhooks import Webhook

from webhooks.services import delivery_attempt, endpoint_recover
from webhooks.tables import WebhookDelivery, WebhookEndpoint

from .conftest import queued

pytestmark = pytest.mark.django_db


@pytest.fixture
def endpoint(api, aws, receiver):
    def create(events=("*",)):
        body = {"url": receiver.url, "enabled_events": list(events)}
        response = api.post("/v1/webhook_endpoints", body, format="json")
        assert response.status_code == 201
        return response.json()

    return create


def create_payment(api) -> dict:
    body = {"amount": "10.00", "currency": "USD", "type": "eft"}
    response = api.post("/v1/payments", body, format="json")
    assert response.status_code == 201
    return response.json()


def event_of(api, payment_id: str, event_type: str = "payment.created") -> dict:
    events = api.get("/v1/events", {"type": event_type}).json()["data"]
    return next(e for e in events if e["data"]["object"]["id"] == payment_id)


def fail_for_good(delivery_id: str, settings) -> None:
    settings.WEBHOOK_RETRY_SCHEDULE = [0]
    delivery_attempt(delivery_id=delivery_id)


def test_an_events_deliveries_and_an_endpoints_dead_letters_are_listed(api, endpoint, receiver, settings):
    receiver.default = (500, {}, "nope", 0)
    hook = endpoint(["payment.created"])
    event = event_of(api, create_payment(api)["id"])

    (delivery,) = api.get(f"/v1/events/{event['id']}/deliveries").json()["data"]
    assert (delivery["endpoint_id"], delivery["status"], delivery["attempts"]) == (hook["id"], "pending", [])
    fail_for_good(delivery["id"], settings)

    dead = api.get(f"/v1/webhook_endpoints/{hook['id']}/deliveries", {"status": "failed"}).json()["data"]
    assert [d["id"] for d in dead] == [delivery["id"]]
    (attempt,) = dead[0]["attempts"]
    assert (attempt["status_code"], attempt["response_body"], attempt["trigger"]) == (
        500,
        "nope",
        "scheduled",
    )
    assert attempt["latency_ms"] >= 0 and attempt["at"]
    assert (
        api.get(f"/v1/webhook_endpoints/{hook['id']}/deliveries", {"status": "pending"}).json()["data"] == []
    )
    detail = api.get(f"/v1/webhook_deliveries/{delivery['id']}").json()
    assert (detail["status"], detail["last_status_code"]) == ("failed", 500)


def test_another_merchants_deliveries_are_not_found(api, endpoint, client):
    from payflow.merchants.services import api_key_issue, merchant_create

    endpoint()
    event = event_of(api, create_payment(api)["id"])
    (delivery,) = api.get(f"/v1/events/{event['id']}/deliveries").json()["data"]
    _, other = api_key_issue(merchant=merchant_create(name="Other"))
    auth = {"HTTP_AUTHORIZATION": f"Bearer {other}"}
    for path in (
        f"/v1/events/{event['id']}/deliveries",
        f"/v1/webhook_deliveries/{delivery['id']}",
        f"/v1/webhook_endpoints/{delivery['endpoint_id']}/deliveries",
    ):
        assert client.get(path, **auth).status_code == 404, path
    redeliver = client.post(
        f"/v1/events/{event['id']}/redeliver", {}, content_type="application/json", **auth
    )
    assert redeliver.status_code == 404


def test_a_test_send_returns_the_attempts_result_and_verifies(api, endpoint, receiver):
    hook = endpoint()
    receiver.answer((200, {}, "thanks", 0))
    response = api.post(f"/v1/webhook_endpoints/{hook['id']}/test")
    assert response.status_code == 200
    body = response.json()
    assert (body["event_type"], body["status"], body["attempts"][0]["response_body"]) == (
        "webhook.test",
        "succeeded",
        "thanks",
    )
    (request,) = receiver.received
    assert Webhook(hook["secret"]).verify(request.body, request.headers)["type"] == "webhook.test"


def test_a_test_send_to_a_failing_receiver_reports_the_failure_once(api, endpoint, receiver):
    hook = endpoint()
    receiver.default = (503, {}, "maintenance", 0)
    body = api.post(f"/v1/webhook_endpoints/{hook['id']}/test").json()
    assert (body["status"], body["last_status_code"], body["attempt_count"]) == ("failed", 503, 1)
    assert WebhookDelivery.get(body["id"]).dispatch_at is None


def test_a_disabled_endpoint_cannot_be_tested_or_recovered(api, endpoint):
    hook = endpoint()
    api.patch(f"/v1/webhook_endpoints/{hook['id']}", {"disabled": True}, format="json")
    response = api.post(f"/v1/webhook_endpoints/{hook['id']}/test")
    assert (response.status_code, response.json()["error"]["code"]) == (409, "invalid_state")
    since = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    response = api.post(f"/v1/webhook_endpoints/{hook['id']}/recover", {"since": since}, format="json")
    assert response.status_code == 409


def test_redelivering_a_dead_letter_makes_one_more_attempt(api, endpoint, receiver, settings):
    receiver.answer((500, {}, "", 0), (200, {}, "", 0))
    hook = endpoint(["payment.created"])
    event = event_of(api, create_payment(api)["id"])
    (delivery,) = api.get(f"/v1/events/{event['id']}/deliveries").json()["data"]
    fail_for_good(delivery["id"], settings)
    queued("webhooks")

    response = api.post(f"/v1/events/{event['id']}/redeliver")
    assert response.status_code == 202
    (again,) = response.json()["data"]
    assert (again["id"], again["status"]) == (delivery["id"], "pending")
    assert [t["args"] for t in queued("webhooks")] == [[delivery["id"]]]
    delivery_attempt(delivery_id=delivery["id"])

    done = api.get(f"/v1/webhook_deliveries/{delivery['id']}").json()
    assert [a["trigger"] for a in done["attempts"]] == ["scheduled", "manual"]
    assert done["status"] == "succeeded"
    assert (
        api.get(f"/v1/webhook_endpoints/{hook['id']}/deliveries", {"status": "failed"}).json()["data"] == []
    )


def test_a_failed_manual_redelivery_is_one_attempt_not_a_new_schedule(api, endpoint, receiver, settings):
    receiver.default = (500, {}, "", 0)
    endpoint(["payment.created"])
    event = event_of(api, create_payment(api)["id"])
    (delivery,) = api.get(f"/v1/events/{event['id']}/deliveries").json()["data"]
    fail_for_good(delivery["id"], settings)
    settings.WEBHOOK_RETRY_SCHEDULE = [0, 0, 0]
    api.post(f"/v1/events/{event['id']}/redeliver")
    delivery_attempt(delivery_id=delivery["id"])
    delivery_attempt(delivery_id=delivery["id"])
    done = api.get(f"/v1/webhook_deliveries/{delivery['id']}").json()
    assert (done["status"], done["attempt_count"]) == ("failed", 2)


def test_an_event_can_be_sent_to_an_endpoint_registered_after_it(api, endpoint, receiver):
    event = event_of(api, create_payment(api)["id"])
    assert api.get(f"/v1/events/{event['id']}/deliveries").json()["data"] == []
    hook = endpoint(["payment.completed"])
    response = api.post(f"/v1/events/{event['id']}/redeliver", {"endpoint": hook["id"]}, format="json")
    (delivery,) = response.json()["data"]
    delivery_attempt(delivery_id=delivery["id"])
    (request,) = receiver.received
    assert request.event["id"] == event["id"]
    unknown = api.post(f"/v1/events/{event['id']}/redeliver", {"endpoint": "we_nope"}, format="json")
    assert unknown.status_code == 404


def test_recover_redelivers_the_failures_since_a_time_and_no_older_ones(api, endpoint, receiver, settings):
    receiver.default = (500, {}, "", 0)
    hook = endpoint(["payment.created"])
    deliveries = []
    for _ in range(3):
        event = event_of(api, create_payment(api)["id"])
        (delivery,) = api.get(f"/v1/events/{event['id']}/deliveries").json()["data"]
        fail_for_good(delivery["id"], settings)
        deliveries.append(delivery["id"])
        time.sleep(0.01)
    since = WebhookDelivery.get(deliveries[1]).created_at
    queued("webhooks")

    response = api.post(
        f"/v1/webhook_endpoints/{hook['id']}/recover", {"since": since.isoformat()}, format="json"
    )
    assert response.status_code == 202
    assert response.json()["status"] == "queued"
    (task,) = queued("webhooks")
    assert task["task"] == "webhooks.tasks.recover_webhook_endpoint_task"

    endpoint_id, since_ts, until_ts = task["args"]
    stored = WebhookEndpoint.get(endpoint_id)
    cursor = endpoint_recover(
        endpoint=stored,
        since=datetime.fromtimestamp(since_ts, UTC),
        until=datetime.fromtimestamp(until_ts, UTC),
        batch=1,
    )
    assert cursor is not None  # a batch of one leaves the second for the next task
    endpoint_recover(
        endpoint=stored,
        since=datetime.fromtimestamp(since_ts, UTC),
        until=datetime.fromtimestamp(until_ts, UTC),
        cursor=cursor,
        batch=1,
    )
    statuses = {d: WebhookDelivery.get(d).status for d in deliveries}
    assert statuses == {deliveries[0]: "failed", deliveries[1]: "pending", deliveries[2]: "pending"}
    assert sorted(t["args"][0] for t in queued("webhooks")) == sorted(deliveries[1:])


def test_recover_refuses_a_time_in_the_future(api, endpoint):
    hook = endpoint()
    since = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    response = api.post(f"/v1/webhook_endpoints/{hook['id']}/recover", {"since": since}, format="json")
    assert (response.status_code, response.json()["error"]["param"]) == (400, "since")


def test_a_retried_rotation_with_the_same_key_returns_the_same_secret(api, endpoint):
    hook = endpoint()
    path = f"/v1/webhook_endpoints/{hook['id']}/rotate_secret"
    first = api.post(path, headers={"Idempotency-Key": "rotate-1"})
    second = api.post(path, headers={"Idempotency-Key": "rotate-1"})
    assert first.json()["secret"] == second.json()["secret"] != hook["secret"]
    assert second.headers["Idempotent-Replayed"] == "true"
    assert WebhookEndpoint.get(hook["id"]).previous_secret == hook["secret"]


def test_a_merchant_has_at_most_sixteen_endpoints(api, endpoint, settings):
    settings.WEBHOOK_MAX_ENDPOINTS_PER_MERCHANT = 2
    endpoint()
    endpoint()
    response = api.post(
        "/v1/webhook_endpoints", {"url": "http://127.0.0.1/x", "enabled_events": ["*"]}, format="json"
    )
    assert (response.status_code, response.json()["error"]["code"]) == (400, "invalid_request")
