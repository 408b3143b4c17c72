import json

import pytest
from django.test import Client

from payflow.idempotency.tables import IdempotencyRecord
from payments.tables import Payment
from tests.payments.conftest import VISA

pytestmark = pytest.mark.django_db


def error(response) -> dict:
    return response.json()["error"]


def test_the_seed_request_creates_a_pending_payment(create_payment):
    response = create_payment()
    assert response.status_code == 201
    body = response.json()
    assert body["id"].startswith("pay_")
    assert {
        k: body[k] for k in ("object", "amount", "currency", "status", "type", "merchant", "description")
    } == {
        "object": "payment",
        "amount": "250.00",
        "currency": "CAD",
        "status": "pending",
        "type": "eft",
        "merchant": "Shopify Inc.",
        "description": "Monthly subscription",
    }
    assert body["routing"] == {
        "provider": "mock",
        "rule": "default",
        "reason": "no rule matched",
        "fallbacks": ["razorpay_mock", "cashfree_mock"],
    }
    assert body["created_at"].endswith("Z")
    assert Payment.get(body["id"]).amount == 25000


def test_a_replay_returns_the_first_body_with_the_replay_header(create_payment):
    first = create_payment()
    replay = create_payment()
    assert replay.status_code == 200
    assert replay.json() == first.json()
    assert replay["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first


def test_the_same_key_with_another_amount_is_refused(create_payment):
    create_payment()
    response = create_payment(amount=251.00)
    assert response.status_code == 422
    assert error(response)["code"] == "idempotency_key_reused"


@pytest.mark.parametrize("header", ["Idempotency-Key", "X-Idempotency-Key"])
def test_the_key_can_come_in_a_header(create_payment, header):
    first = create_payment(idempotency_key=None, headers={header: "hdr-1"})
    again = create_payment(idempotency_key=None, headers={header: "hdr-1"})
    assert again.json()["id"] == first.json()["id"]


def test_a_header_and_a_body_key_that_differ_are_refused(create_payment):
    response = create_payment(headers={"Idempotency-Key": "other"})
    assert response.status_code == 400
    assert error(response)["param"] == "idempotency_key"


def test_without_a_key_every_request_creates_a_payment(create_payment):
    ids = {create_payment(idempotency_key=None).json()["id"] for _ in range(2)}
    assert len(ids) == 2


@pytest.mark.parametrize(
    ("changes", "param", "message"),
    [
        ({"amount": "250.001"}, "amount", "CAD amounts have at most 2 decimal places."),
        ({"amount": "100.5", "currency": "JPY"}, "amount", "JPY amounts have no decimal places."),
        ({"amount": "0"}, "amount", "Amount must be greater than zero."),
        ({"amount": "-5.00"}, "amount", None),
        ({"amount": True}, "amount", None),
        ({"amount": "1e3"}, "amount", None),
        ({"amount": "99999999999.00"}, "amount", None),
        ({"currency": "XYZ"}, "currency", "Unknown currency 'XYZ'."),
        ({"currency": "CA"}, "currency", None),
        ({"type": "cash"}, "type", None),
        ({"type": "card"}, "card", "Required for card payments."),
        ({"card": VISA}, "card", "Not allowed for eft payments."),
        ({"metadata": {f"k{i}": "v" for i in range(21)}}, "metadata", None),
        ({"metadata": {"test_outcome": "maybe"}}, "metadata[test_outcome]", None),
        ({"colour": "blue"}, "colour", "Unknown field."),
        ({"amount": None}, "amount", None),
    ],
)
def test_invalid_input_is_a_400_naming_the_parameter_and_stores_nothing(
    create_payment, changes, param, message
):
    response = create_payment(**changes)
    assert response.status_code == 400, response.json()
    assert error(response)["param"] == param
    if message:
        assert error(response)["message"] == f"{param}: {message}"
    assert list(IdempotencyRecord.scan()) == []
    assert list(Payment.scan()) == []


def test_a_json_number_amount_is_exact(api, aws):
    response = api.post(
        "/v1/payments",
        data='{"amount": 0.29, "currency": "USD", "type": "wire"}',
        content_type="application/json",
    )
    assert response.json()["amount"] == "0.29"
    assert Payment.get(response.json()["id"]).amount == 29


@pytest.mark.parametrize(
    ("amount", "currency", "wire", "minor"),
    [("1000", "JPY", "1000", 1000), ("1.500", "KWD", "1.500", 1500), ("12", "USD", "12.00", 1200)],
)
def test_amounts_follow_the_currency_exponent(create_payment, amount, currency, wire, minor):
    body = create_payment(idempotency_key=None, amount=amount, currency=currency.lower()).json()
    assert (body["amount"], body["currency"]) == (wire, currency)
    assert Payment.get(body["id"]).amount == minor


def test_a_card_payment_keeps_only_brand_last4_expiry_and_fingerprint(create_payment):
    body = create_payment(type="card", card=VISA).json()
    card = body["card"]
    assert {k: card[k] for k in ("brand", "last4", "exp_month", "exp_year")} == {
        "brand": "visa",
        "last4": "4242",
        "exp_month": 12,
        "exp_year": 2034,
    }
    assert len(card["fingerprint"]) == 16
    stored = json.dumps(Payment.get(body["id"]).serialize())
    assert "4242424242424242" not in stored and "4242 4242" not in stored and '"123"' not in stored


def test_the_same_card_gets_the_same_fingerprint(create_payment):
    one = create_payment(idempotency_key="a", type="card", card=VISA).json()["card"]["fingerprint"]
    two = create_payment(idempotency_key="b", type="card", card=VISA | {"number": "4242424242424242"}).json()
    assert two["card"]["fingerprint"] == one


def test_an_invalid_card_number_is_refused_without_echoing_it(create_payment):
    response = create_payment(type="card", card=VISA | {"number": "4242424242424241"})
    assert response.status_code == 400
    assert error(response)["param"] == "card[number]"
    assert "424242424242424" not in response.content.decode()


def test_routing_follows_the_rules(create_payment):
    inr = create_payment(idempotency_key="inr", currency="INR").json()
    big = create_payment(idempotency_key="big", amount="15000.00").json()
    assert (inr["provider"], inr["routing"]["rule"]) == ("razorpay_mock", "inr-to-razorpay")
    assert inr["routing"]["reason"] == "currency INR is one of INR"
    assert (big["provider"], big["routing"]["rule"]) == ("cashfree_mock", "high-value-to-cashfree")


def test_creating_a_payment_queues_its_processing_task(create_payment):
    from payflow.aws.clients import aws_client
    from payflow.aws.queues import celery_message_decode, queue_name, queue_url

    payment_id = create_payment().json()["id"]
    sqs = aws_client("sqs")
    messages = sqs.receive_message(QueueUrl=queue_url(queue_name("payments")), MaxNumberOfMessages=10)[
        "Messages"
    ]
    tasks = [celery_message_decode(m["Body"]) for m in messages]
    assert [(t["task"], t["args"]) for t in tasks] == [("payments.tasks.process_payment_task", [payment_id])]


def test_errors_never_come_back_as_html(aws):
    response = Client().post("/v1/payments", data="{", content_type="application/json")
    assert response.status_code == 401
    assert response["Content-Type"] == "application/json"


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
def test_non_numbers_in_json_are_malformed(api, aws, literal):
    response = api.post(
        "/v1/payments",
        data=f'{{"amount": {literal}, "currency": "USD", "type": "wire"}}',
        content_type="application/json",
    )
    assert response.status_code == 400
    assert error(response)["code"] == "malformed_json"
