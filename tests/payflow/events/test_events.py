import pytest

from payments.services import payment_process, refund_process

pytestmark = pytest.mark.django_db


def test_every_payment_transition_records_an_event_with_the_object_after_it(api, create_payment):
    payment_id = create_payment().json()["id"]
    payment_process(payment_id=payment_id)
    events = api.get("/v1/events?limit=100").json()["data"]
    assert [e["type"] for e in events] == ["payment.completed", "payment.processing", "payment.created"]
    completed = events[0]
    assert completed["object"] == "event" and completed["id"].startswith("evt_")
    assert completed["data"]["object"]["id"] == payment_id
    assert completed["data"]["object"]["status"] == "completed"
    assert completed["data"]["object"]["amount_captured"] == "250.00"
    assert api.get(f"/v1/events/{completed['id']}").json() == completed


def test_refunds_record_their_events_and_the_payments(api, create_payment):
    payment_id = create_payment().json()["id"]
    payment_process(payment_id=payment_id)
    refund_id = api.post("/v1/refunds", {"payment_id": payment_id, "amount": "250.00"}, format="json").json()[
        "id"
    ]
    refund_process(refund_id=refund_id)
    types = [e["type"] for e in api.get("/v1/events?limit=100").json()["data"]]
    assert types[:3] == ["refund.completed", "payment.refunded", "refund.created"] or types[:3] == [
        "refund.completed",
        "refund.created",
        "payment.refunded",
    ]
    refunded = api.get("/v1/events?type=payment.refunded").json()["data"]
    assert [e["data"]["object"]["amount_refunded"] for e in refunded] == ["250.00"]


def test_a_failed_refund_records_refund_failed_and_the_payment_back_to_completed(api, create_payment):
    payment_id = create_payment().json()["id"]
    payment_process(payment_id=payment_id)
    body = {"payment_id": payment_id, "amount": "10.00", "metadata": {"test_outcome": "refund_declined"}}
    refund_process(refund_id=api.post("/v1/refunds", body, format="json").json()["id"])
    failed = api.get("/v1/events?type=refund.failed").json()["data"]
    assert failed[0]["data"]["object"]["failure_code"] == "refund_declined"
    back = api.get("/v1/events?type=payment.completed").json()["data"]
    assert back[0]["data"]["object"]["amount_refunded"] == "0.00"


def test_events_are_private_to_their_merchant(api, create_payment, client):
    from payflow.merchants.services import api_key_issue, merchant_create

    create_payment()
    event_id = api.get("/v1/events").json()["data"][0]["id"]
    _, secret = api_key_issue(merchant=merchant_create(name="Other"))
    headers = {"HTTP_AUTHORIZATION": f"Bearer {secret}"}
    assert client.get(f"/v1/events/{event_id}", **headers).status_code == 404
    assert client.get("/v1/events", **headers).json()["data"] == []


def test_an_expired_event_is_gone_although_dynamodb_has_not_deleted_it_yet(api, create_payment):
    from datetime import UTC, datetime, timedelta

    from payflow.events.tables import Event

    create_payment()
    (event,) = api.get("/v1/events").json()["data"]
    Event(event["id"]).update(actions=[Event.expires_at.set(datetime.now(UTC) - timedelta(seconds=1))])
    assert api.get(f"/v1/events/{event['id']}").status_code == 404
    assert api.get("/v1/events").json()["data"] == []
