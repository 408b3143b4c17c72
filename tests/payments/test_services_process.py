import time

import pytest

from payflow.outbox.tables import OutboxEntry
from payments.services import RetryLater, payment_create, payment_process
from payments.tables import Payment, ProviderCharge

# payment_create reads the merchant's routing rules (through the cache, else the database).
pytestmark = [pytest.mark.usefixtures("aws"), pytest.mark.django_db]


def create(outcome=None, *, currency="USD", amount=1000, payment_type="eft"):
    payment, _ = payment_create(
        merchant_id="mch_a",
        amount=amount,
        currency=currency,
        payment_type=payment_type,
        sandbox_outcome=outcome,
    )
    return payment.id


def run_until_final(payment_id, max_runs=10):
    """Run the task the way Celery would: again after every RetryLater."""
    runs = 0
    while runs < max_runs:
        runs += 1
        if payment_process(payment_id=payment_id) is None:
            break
    return Payment.get(payment_id), runs


def charges(payment_id):
    return [c for c in ProviderCharge.scan() if c.key.endswith(f"#{payment_id}")]


def test_a_successful_payment_completes_with_the_providers_reference():
    payment, _ = run_until_final(create("success"))
    assert (payment.status, int(payment.attempts)) == ("completed", 1)
    assert payment.provider_reference.startswith("mock_")
    assert payment.lease_until is None
    assert len(charges(payment.id)) == 1


@pytest.mark.parametrize(
    "decline", ["generic_decline", "insufficient_funds", "expired_card", "lost_card", "stolen_card"]
)
def test_a_decline_fails_at_once_with_its_code(decline):
    payment, runs = run_until_final(create(decline))
    assert (payment.status, payment.failure_code, runs, int(payment.attempts)) == ("failed", decline, 1, 1)
    assert payment.failure_message


def test_a_transient_error_is_retried_and_then_succeeds():
    payment_id = create("transient_then_success")
    retry = payment_process(payment_id=payment_id)
    assert isinstance(retry, RetryLater) and retry.countdown > 0
    payment, _ = run_until_final(payment_id)
    assert (payment.status, int(payment.attempts)) == ("completed", 2)


def test_transient_errors_fail_the_payment_after_the_last_retry(settings):
    settings.PAYMENTS_MAX_RETRIES = 3
    payment, runs = run_until_final(create("transient_error"))
    assert (payment.status, payment.failure_code, int(payment.attempts), runs) == (
        "failed",
        "provider_error",
        4,
        4,
    )


def test_a_timeout_is_retried_with_the_same_key_and_charges_once():
    payment, _ = run_until_final(create("timeout"))
    assert (payment.status, int(payment.attempts)) == ("completed", 2)
    assert len(charges(payment.id)) == 1
    assert charges(payment.id)[0].reference == payment.provider_reference


def test_a_definitely_unavailable_provider_falls_back_to_the_next():
    payment, _ = run_until_final(create("provider_down"))
    assert (payment.status, payment.provider) == ("completed", "razorpay_mock")
    assert payment.provider_reference.startswith("pay_")


def test_providers_have_their_own_reference_formats():
    inr, _ = run_until_final(create("success", currency="INR"))
    big, _ = run_until_final(create("success", amount=2_000_000))
    assert inr.provider == "razorpay_mock" and inr.provider_reference.startswith("pay_")
    assert big.provider == "cashfree_mock" and big.provider_reference.isdigit()


def test_processing_twice_calls_the_provider_once():
    payment_id = create("success")
    run_until_final(payment_id)
    assert payment_process(payment_id=payment_id) is None
    payment = Payment.get(payment_id)
    assert (payment.status, int(payment.attempts)) == ("completed", 1)
    assert len(charges(payment_id)) == 1


def test_a_payment_held_by_another_worker_is_looked_at_again_after_its_lease():
    payment_id = create("success")
    Payment(payment_id).update(
        actions=[
            Payment.status.set("processing"),
            Payment.attempts.set(1),
            Payment.lease_until.set(int(time.time()) + 30),
        ]
    )
    retry = payment_process(payment_id=payment_id)
    assert isinstance(retry, RetryLater) and 29 < retry.countdown <= 31
    assert charges(payment_id) == []


def test_a_payment_whose_worker_died_is_resumed_once_its_lease_expired():
    payment_id = create("success")
    Payment(payment_id).update(
        actions=[Payment.status.set("processing"), Payment.attempts.set(1), Payment.lease_until.set(1)]
    )
    payment, _ = run_until_final(payment_id)
    assert (payment.status, int(payment.attempts)) == ("completed", 2)
    from payflow.audit.selectors import audit_history

    reasons = [record.reason for record in audit_history(object_id=payment_id)]
    assert "resumed after an interrupted attempt" in reasons


def test_finishing_removes_the_outbox_entry_written_at_creation():
    payment_id = create("success")
    assert [e.object_id for e in OutboxEntry.scan()] == [payment_id]
    run_until_final(payment_id)
    assert list(OutboxEntry.scan()) == []


def test_an_unknown_payment_is_logged_and_left_alone(caplog):
    assert payment_process(payment_id="pay_missing") is None
    assert "does not exist" in caplog.text


def test_random_outcomes_follow_the_success_rate_deterministically(settings):
    settings.PAYMENTS_SANDBOX_SUCCESS_RATE = 0.0
    payment, _ = run_until_final(create(None))
    assert (payment.status, payment.failure_code) == ("failed", "do_not_honor")
