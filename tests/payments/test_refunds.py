import time

import pytest

from payflow.aws.leases import RetryLater
from payments.providers import provider_get
from payments.services import payment_process, refund_process
from payments.tables import Payment, ProviderCharge, Refund

pytestmark = pytest.mark.django_db


@pytest.fixture
def completed(create_payment):
    """A completed 250.00 CAD payment."""
    payment_id = create_payment().json()["id"]
    payment_process(payment_id=payment_id)
    return payment_id


def refund(api, payment_id, amount=None, **extra):
    body = {"payment_id": payment_id} | ({"amount": amount} if amount is not None else {}) | extra
    return api.post("/v1/refunds", body, format="json")


def test_a_partial_refund_reserves_its_amount_and_completes(api, completed):
    response = refund(api, completed, "100.00", reason="requested_by_customer")
    assert response.status_code == 201
    body = response.json()
    assert (body["id"][:3], body["status"], body["amount"], body["currency"]) == (
        "re_",
        "pending",
        "100.00",
        "CAD",
    )
    payment = api.get(f"/v1/payments/{completed}").json()
    assert (payment["status"], payment["amount_refunded"]) == ("partially_refunded", "100.00")

    refund_process(refund_id=body["id"])
    done = api.get(f"/v1/refunds/{body['id']}").json()
    assert (done["status"], done["provider_reference"] is not None) == ("completed", True)


def test_refunds_add_up_to_the_captured_amount_and_no_further(api, completed):
    assert refund(api, completed, "100.00").status_code == 201
    assert refund(api, completed, "150.00").status_code == 201
    payment = api.get(f"/v1/payments/{completed}").json()
    assert (payment["status"], payment["amount_refunded"]) == ("refunded", "250.00")
    over = refund(api, completed, "0.01")
    assert over.status_code == 409
    assert over.json()["error"]["code"] == "refund_exceeds_captured"


def test_a_refund_without_an_amount_takes_what_is_left(api, completed):
    refund(api, completed, "40.00")
    assert refund(api, completed).json()["amount"] == "210.00"


def test_too_large_a_refund_is_refused_and_reserves_nothing(api, completed):
    response = refund(api, completed, "250.01")
    assert response.status_code == 409
    assert "250.00 CAD" in response.json()["error"]["message"]
    assert int(Payment.get(completed).amount_refunded) == 0


def test_a_failed_refund_gives_its_amount_back(api, completed):
    body = refund(api, completed, "250.00", metadata={"test_outcome": "refund_declined"}).json()
    assert api.get(f"/v1/payments/{completed}").json()["status"] == "refunded"
    refund_process(refund_id=body["id"])
    failed = api.get(f"/v1/refunds/{body['id']}").json()
    assert (failed["status"], failed["failure_code"]) == ("failed", "refund_declined")
    payment = api.get(f"/v1/payments/{completed}").json()
    assert (payment["status"], payment["amount_refunded"]) == ("completed", "0.00")
    assert refund(api, completed, "250.00").status_code == 201


def test_only_captured_payments_can_be_refunded(api, create_payment):
    pending = create_payment().json()["id"]
    response = refund(api, pending)
    assert (response.status_code, response.json()["error"]["code"]) == (409, "payment_not_refundable")


def test_processing_a_refund_twice_refunds_once(api, completed):
    refund_id = refund(api, completed, "10.00").json()["id"]
    refund_process(refund_id=refund_id)
    refund_process(refund_id=refund_id)
    assert Refund.get(refund_id).status == "completed"


def test_refunds_are_listed_per_payment_and_hidden_from_other_merchants(api, completed, create_payment):
    first = refund(api, completed, "1.00").json()["id"]
    second = refund(api, completed, "2.00").json()["id"]
    listed = api.get(f"/v1/refunds?payment_id={completed}").json()["data"]
    assert [r["id"] for r in listed] == [second, first]
    assert [r["id"] for r in api.get("/v1/refunds").json()["data"]] == [second, first]
    assert api.get("/v1/refunds/re_missing").status_code == 404


def test_a_refund_is_idempotent(api, completed):
    headers = {"Idempotency-Key": "refund-1"}
    body = {"payment_id": completed, "amount": "5.00"}
    first = api.post("/v1/refunds", body, format="json", headers=headers)
    again = api.post("/v1/refunds", body, format="json", headers=headers)
    assert again.json() == first.json() and again["Idempotent-Replayed"] == "true"
    assert api.get(f"/v1/payments/{completed}").json()["amount_refunded"] == "5.00"


def test_a_refund_amount_with_too_many_decimals_is_a_400(api, completed):
    response = refund(api, completed, "1.001")
    assert (response.status_code, response.json()["error"]["param"]) == (400, "amount")


def test_a_duplicate_message_does_not_call_the_provider_while_another_worker_does(api, completed):
    refund_id = refund(api, completed, "100.00").json()["id"]
    held = Refund.get(refund_id)
    held.update(actions=[Refund.lease_until.set(int(time.time()) + 30)])  # a worker is calling the provider

    retry = refund_process(refund_id=refund_id)
    assert isinstance(retry, RetryLater) and 29 < retry.countdown <= 31
    assert Refund.get(refund_id).status == "pending"
    assert not list(ProviderCharge.scan(ProviderCharge.key.contains(refund_id)))

    held.update(actions=[Refund.lease_until.set(int(time.time()) - 1)])  # that worker died
    assert refund_process(refund_id=refund_id) is None
    assert refund_process(refund_id=refund_id) is None  # and the redelivered message finds it done
    assert Refund.get(refund_id).status == "completed"
    (charge,) = ProviderCharge.scan(ProviderCharge.key.contains(refund_id))
    assert int(charge.calls) == 1


def test_a_repeated_provider_call_is_counted_and_books_once(api, completed):
    refund_id = refund(api, completed, "100.00").json()["id"]
    provider = provider_get(Refund.get(refund_id).provider)
    first = provider.refund(amount=10000, currency="CAD", idempotency_key=refund_id)
    again = provider.refund(amount=10000, currency="CAD", idempotency_key=refund_id)
    assert first.reference == again.reference
    (charge,) = ProviderCharge.scan(ProviderCharge.key.contains(refund_id))
    assert int(charge.calls) == 2
