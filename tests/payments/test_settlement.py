import csv
import io
import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from payflow.events.tables import Event
from payments.services import payment_process, refund_process
from payments.settlement import _mark_payment, _open, money_reconcile, payment_fee, settlement_run
from payments.tables import Payment, Refund, Settlement

pytestmark = pytest.mark.django_db
TODAY = datetime.now(UTC).date()


@pytest.fixture
def history(api, create_payment):
    """Two completed payments (250.00 and 100.00 CAD), one refunded 40.00; one only authorized."""
    ids = []
    for key, amount in (("a", "250.00"), ("b", "100.00")):
        payment_id = create_payment(idempotency_key=key, amount=amount).json()["id"]
        payment_process(payment_id=payment_id)
        ids.append(payment_id)
    refund_id = api.post("/v1/refunds", {"payment_id": ids[0], "amount": "40.00"}, format="json").json()["id"]
    refund_process(refund_id=refund_id)
    authorized = create_payment(idempotency_key="c", capture=False).json()["id"]
    payment_process(payment_id=authorized)
    return ids, refund_id


def settle(merchant):
    return settlement_run(day=TODAY, merchant_ids=[merchant.id])


def test_fees_are_2_9_percent_plus_30_cents_rounded_half_even():
    assert payment_fee(25000, "CAD") == 725 + 30
    assert payment_fee(1000, "JPY") == 29  # the fixed 0.30 rounds to 0 yen
    assert payment_fee(50, "USD") == 1 + 30  # 1.45 rounds to 1
    assert payment_fee(1500, "KWD") == 44 + 300


def test_a_day_is_settled_per_merchant_and_currency(api, merchant, history):
    (first, second), refund_id = history
    result = settle(merchant)
    assert (result.payments, result.refunds, len(result.settlements)) == (2, 1, 1)
    body = api.get(f"/v1/settlements/{result.settlements[0]}").json()
    fees = payment_fee(25000, "CAD") + payment_fee(10000, "CAD")
    assert body["updated_at"] == body["completed_at"]
    assert body | {"created_at": None, "completed_at": None, "updated_at": None, "cutoff": None} == {
        "id": result.settlements[0],
        "object": "settlement",
        "currency": "CAD",
        "day": TODAY.isoformat(),
        "cutoff": None,
        "status": "completed",
        "payment_count": 2,
        "refund_count": 1,
        "gross": "350.00",
        "refunds": "40.00",
        "fees": f"{fees / 100:.2f}",
        "net": f"{(35000 - 4000 - fees) / 100:.2f}",
        "created_at": None,
        "completed_at": None,
        "updated_at": None,
    }
    for payment_id in (first, second):
        assert Payment.get(payment_id).settlement_id == body["id"]
    assert Refund.get(refund_id).settled_at is not None
    assert api.get("/v1/settlements").json()["data"][0]["id"] == body["id"]


def test_settling_again_settles_nothing_twice(merchant, history):
    first = settle(merchant)
    again = settle(merchant)
    assert (again.payments, again.refunds) == (0, 0)
    assert [s.id for s in Settlement.scan()] == first.settlements
    assert money_reconcile(merchant_ids=[merchant.id]) == []


def test_the_report_downloads_and_adds_up_to_the_settlement(api, merchant, history):
    settlement_id = settle(merchant).settlements[0]
    response = api.get(f"/v1/settlements/{settlement_id}/report")
    assert response.status_code == 200 and response["Content-Type"] == "text/csv"
    rows = list(
        csv.DictReader(
            io.StringIO(
                b"".join(response.streaming_content).decode()
                if response.streaming
                else response.content.decode()
            )
        )
    )
    assert [r["type"] for r in rows] == ["payment", "payment", "refund"]
    total = lambda column: sum(int(Decimal(r[column]) * 100) for r in rows)  # noqa: E731
    settlement = api.get(f"/v1/settlements/{settlement_id}").json()
    assert total("amount") == 35000 - 4000
    assert f"{total('fee') / 100:.2f}" == settlement["fees"]
    assert f"{total('net') / 100:.2f}" == settlement["net"]


def test_a_completed_settlement_records_its_event(merchant, history):
    settlement_id = settle(merchant).settlements[0]
    (event,) = [e for e in Event.scan() if e.type == "settlement.completed"]
    assert json.loads(event.data)["object"]["id"] == settlement_id
    settle(merchant)
    assert len([e for e in Event.scan() if e.type == "settlement.completed"]) == 1


def test_a_run_that_died_half_way_is_finished_by_the_next(merchant, history):
    (first, _), _ = history
    settlement = _open(merchant_id=merchant.id, currency="CAD", day=TODAY)
    _mark_payment(Payment.get(first), settlement.id)
    assert money_reconcile(merchant_ids=[merchant.id]) == []

    result = settle(merchant)
    assert (result.payments, result.refunds) == (1, 1)
    done = Settlement.get(settlement.id)
    assert (done.status, int(done.payment_count), int(done.refund_count)) == ("completed", 2, 1)
    assert money_reconcile(merchant_ids=[merchant.id]) == []


def test_reconcile_finds_a_difference_of_one_cent(merchant, history, capsys):
    settlement_id = settle(merchant).settlements[0]
    call_command("reconcile")
    assert "no difference" in capsys.readouterr().out
    Settlement(settlement_id).update(actions=[Settlement.net.add(1)])
    with pytest.raises(CommandError, match="difference"):
        call_command("reconcile")
    assert "net of " + settlement_id in capsys.readouterr().err


def test_settle_command_settles_a_given_day(merchant, history, capsys):
    call_command("settle", date=TODAY.isoformat())
    assert "2 payments and 1 refunds newly settled" in capsys.readouterr().out
    with pytest.raises(CommandError):
        call_command("settle", date="21/11/2026")


def test_payments_captured_after_the_cutoff_wait_for_their_day(merchant, history):
    from datetime import timedelta

    result = settlement_run(day=TODAY - timedelta(days=1), merchant_ids=[merchant.id])
    assert (result.payments, result.refunds, result.settlements) == (0, 0, [])


def test_settlements_of_other_merchants_are_not_found(api, merchant, history):
    from rest_framework.test import APIClient

    from payflow.merchants.services import api_key_issue, merchant_create

    settlement_id = settle(merchant).settlements[0]
    other = APIClient()
    other.credentials(HTTP_AUTHORIZATION=f"Bearer {api_key_issue(merchant=merchant_create(name='O'))[1]}")
    assert other.get(f"/v1/settlements/{settlement_id}").status_code == 404
    assert other.get(f"/v1/settlements/{settlement_id}/report").status_code == 404
    assert other.get("/v1/settlements").json()["data"] == []
