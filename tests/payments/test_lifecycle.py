from datetime import UTC, datetime, timedelta

import pytest

from payments.services import authorizations_expire, payment_process
from payments.tables import Payment, ProviderCharge

pytestmark = pytest.mark.django_db


@pytest.fixture
def authorized(api, create_payment):
    """A 250.00 CAD payment, authorized by the worker and not captured."""
    payment_id = create_payment(capture=False).json()["id"]
    payment_process(payment_id=payment_id)
    return payment_id


def test_an_uncaptured_payment_is_authorized_with_its_amount_capturable(api, authorized):
    body = api.get(f"/v1/payments/{authorized}").json()
    assert (body["status"], body["amount_capturable"], body["amount_captured"]) == (
        "authorized",
        "250.00",
        "0.00",
    )
    assert body["capture"] is False and body["authorized_at"]


def test_capturing_all_completes_the_payment(api, authorized):
    response = api.post(f"/v1/payments/{authorized}/capture", {}, format="json")
    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["amount_captured"], body["amount_capturable"]) == (
        "completed",
        "250.00",
        "0.00",
    )
    history = [h["to"] for h in api.get(f"/v1/payments/{authorized}/history").json()["data"]]
    assert history == ["pending", "processing", "authorized", "completed"]


def test_a_partial_capture_releases_the_rest_and_happens_only_once(api, authorized):
    body = api.post(f"/v1/payments/{authorized}/capture", {"amount": "100.00"}, format="json").json()
    assert (body["status"], body["amount_captured"]) == ("completed", "100.00")
    again = api.post(f"/v1/payments/{authorized}/capture", {"amount": "100.00"}, format="json")
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "payment_not_capturable"


@pytest.mark.parametrize(("amount", "param"), [("250.01", "amount"), ("0", "amount"), ("1.001", "amount")])
def test_a_capture_beyond_the_authorization_is_refused(api, authorized, amount, param):
    response = api.post(f"/v1/payments/{authorized}/capture", {"amount": amount}, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["param"] == param
    assert api.get(f"/v1/payments/{authorized}").json()["status"] == "authorized"


def test_a_capture_is_idempotent_with_a_key(api, authorized):
    headers = {"Idempotency-Key": "cap-1"}
    first = api.post(f"/v1/payments/{authorized}/capture", {}, format="json", headers=headers)
    again = api.post(f"/v1/payments/{authorized}/capture", {}, format="json", headers=headers)
    assert (first.status_code, again.status_code) == (200, 200)
    assert again["Idempotent-Replayed"] == "true" and again.json() == first.json()


def test_a_completed_payment_is_not_capturable(api, create_payment):
    payment_id = create_payment().json()["id"]
    payment_process(payment_id=payment_id)
    response = api.post(f"/v1/payments/{payment_id}/capture", {}, format="json")
    assert (response.status_code, response.json()["error"]["code"]) == (409, "payment_not_capturable")


def test_canceling_an_authorization_voids_it(api, authorized):
    body = api.post(f"/v1/payments/{authorized}/cancel", {"reason": "abandoned"}, format="json").json()
    assert (body["status"], body["cancellation_reason"]) == ("canceled", "abandoned")
    assert any(c.key.startswith("mock#void#") for c in ProviderCharge.scan())
    assert api.post(f"/v1/payments/{authorized}/capture", {}, format="json").status_code == 409


def test_a_pending_payment_canceled_before_the_worker_came_is_never_charged(api, create_payment):
    payment_id = create_payment().json()["id"]
    assert api.post(f"/v1/payments/{payment_id}/cancel", {}, format="json").json()["status"] == "canceled"
    payment_process(payment_id=payment_id)
    assert Payment.get(payment_id).status == "canceled"
    assert list(ProviderCharge.scan()) == []


def test_a_completed_payment_cannot_be_canceled(api, create_payment):
    payment_id = create_payment().json()["id"]
    payment_process(payment_id=payment_id)
    response = api.post(f"/v1/payments/{payment_id}/cancel", {}, format="json")
    assert (response.status_code, response.json()["error"]["code"]) == (409, "payment_not_cancelable")


def test_authorizations_expire_after_the_ttl(api, authorized, settings):
    settings.AUTHORIZATION_TTL_DAYS = 7
    assert authorizations_expire(now=datetime.now(UTC) + timedelta(days=6)) == 0
    assert authorizations_expire(now=datetime.now(UTC) + timedelta(days=7, seconds=1)) == 1
    body = api.get(f"/v1/payments/{authorized}").json()
    assert (body["status"], body["cancellation_reason"]) == ("canceled", "expired")
    history = api.get(f"/v1/payments/{authorized}/history").json()["data"]
    assert history[-1]["actor"] == "sweeper" and history[-1]["reason"] == "expired"


def test_a_capture_that_lost_a_race_is_a_409(authorized):
    from payflow.errors import ApplicationError
    from payments.services import payment_capture

    stale = Payment.get(authorized)
    payment_capture(payment=Payment.get(authorized))
    with pytest.raises(ApplicationError) as error:
        payment_capture(payment=stale)
    assert (error.value.status, error.value.code) == (409, "payment_not_capturable")
