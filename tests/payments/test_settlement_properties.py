"""Whatever happens, in whatever order, the money adds up (hypothesis)."""

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from moto import mock_aws

from payflow.aws.provisioning import aws_resources_provision
from payflow.errors import ApplicationError
from payments.services import (
    payment_capture,
    payment_create,
    payment_process,
    refund_create,
    refund_process,
)
from payments.settlement import _mark_payment, _open, money_reconcile, settlement_run
from payments.tables import Payment
from tests.conftest import point_settings_at_aws

MERCHANT = "mch_property"
TODAY = datetime.now(UTC).date()

operation = st.one_of(
    st.tuples(st.just("pay"), st.integers(1, 50_000), st.booleans(), st.sampled_from(["USD", "JPY", "KWD"])),
    st.tuples(st.just("capture"), st.integers(0, 10), st.integers(1, 100)),
    st.tuples(st.just("refund"), st.integers(0, 10), st.integers(1, 100), st.booleans()),
    st.tuples(st.just("settle"), st.booleans()),
)


def apply(step, payments: list[str]) -> None:
    kind = step[0]
    if kind == "pay":
        _, amount, capture, currency = step
        payment, _ = payment_create(
            merchant_id=MERCHANT, amount=amount, currency=currency, payment_type="eft", capture=capture
        )
        payment_process(payment_id=payment.id)
        payments.append(payment.id)
    elif kind in ("capture", "refund") and payments:
        payment = Payment.get(payments[step[1] % len(payments)])
        share = max(1, int(payment.amount) * step[2] // 100)
        try:
            if kind == "capture":
                payment_capture(payment=payment, amount=share)
            else:
                outcome = "refund_declined" if step[3] else None
                refund, _ = refund_create(
                    merchant_id=MERCHANT,
                    payment_id=payment.id,
                    amount=_major(share, payment.currency),
                    metadata={"test_outcome": outcome} if outcome else None,
                )
                refund_process(refund_id=refund.id)
        except ApplicationError as error:
            assert error.status in (400, 409)
    elif kind == "settle":
        if step[1]:
            # A run that dies after marking one payment: the next run must finish it.
            unsettled = [p for p in Payment.unsettled.query(MERCHANT)]
            if unsettled:
                settlement = _open(merchant_id=MERCHANT, currency=unsettled[0].currency, day=TODAY)
                _mark_payment(unsettled[0], settlement.id)
        else:
            settlement_run(day=TODAY, merchant_ids=[MERCHANT])


def _major(minor: int, currency: str) -> str:
    from payflow.money import format_minor_units

    return format_minor_units(minor, currency)


@pytest.fixture
def moto_settings(settings):
    point_settings_at_aws(settings, endpoint_url=None, payflow_env="test")
    settings.OUTBOX_GRACE_SECONDS = 30
    return settings


@pytest.mark.django_db
@hypothesis_settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(steps=st.lists(operation, min_size=1, max_size=14))
def test_any_history_of_payments_refunds_and_settlements_reconciles(moto_settings, steps):
    with mock_aws():
        aws_resources_provision()
        payments: list[str] = []
        for step in steps:
            apply(step, payments)
            assert money_reconcile(merchant_ids=[MERCHANT]) == [], step
        settlement_run(day=TODAY + timedelta(days=1), merchant_ids=[MERCHANT])
        assert money_reconcile(merchant_ids=[MERCHANT]) == []
        assert list(Payment.unsettled.query(MERCHANT)) == []
