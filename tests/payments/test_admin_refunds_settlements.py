import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.admin.utils import quote
from django.contrib.auth.models import User
from django.test import Client

from payflow.aws.dynamodb import time_key
from payments.services import refund_process
from payments.settlement import settlement_run
from payments.tables import Payment, Settlement
from payments.tasks import settle_day_task
from tests.console import csrf_post
from tests.webhooks.conftest import queued

pytestmark = pytest.mark.django_db

REFUNDS = "/admin/payments/refund/"
SETTLEMENTS = "/admin/payments/settlement/"
TODAY = datetime.now(UTC).date()
YESTERDAY = TODAY - timedelta(days=1)


def url(listing: str, object_id: str, action: str = "") -> str:
    return f"{listing}{quote(object_id)}/{action + '/' if action else ''}"


@pytest.fixture
def refunded(api, processed):
    """A completed payment of 250.00 CAD refunded ``amount``; the refund processed unless told otherwise."""

    def create(amount="10.00", process=True):
        payment = processed()
        body = {"payment_id": payment.id, "amount": amount}
        refund_id = api.post("/v1/refunds", body, format="json").json()["id"]
        if process:
            refund_process(refund_id=refund_id)
        return payment, refund_id

    return create


@pytest.fixture
def settled(merchant, refunded):
    """A payment of 250.00 CAD and its completed refund of 40.00, settled for today."""
    payment, refund_id = refunded("40.00")
    (settlement_id,) = settlement_run(day=TODAY, merchant_ids=[merchant.id]).settlements
    return settlement_id, payment, refund_id


# --- Refunds -------------------------------------------------------------------------


def test_refunds_are_listed_per_merchant_and_filtered_by_status(admin_client, merchant, refunded):
    _, completed = refunded()
    _, pending = refunded(process=False)

    unfiltered = admin_client.get(REFUNDS).content.decode()
    assert "listed per merchant" in unfiltered and completed not in unfiltered

    everything = admin_client.get(REFUNDS, {"merchant": merchant.id}).content.decode()
    assert everything.index(pending) < everything.index(completed)
    only_pending = admin_client.get(REFUNDS, {"merchant": merchant.id, "status": "pending"}).content.decode()
    assert pending in only_pending and completed not in only_pending


def test_a_refund_is_found_by_its_id_or_its_payments(admin_client, refunded):
    payment, refund_id = refunded()
    _, other_refund = refunded()

    for term in (refund_id, payment.id):
        found = admin_client.get(REFUNDS, {"q": term}).content.decode()
        assert refund_id in found and other_refund not in found, term
    assert "Nothing matches." in admin_client.get(REFUNDS, {"q": "re_nope"}).content.decode()


def test_a_refunds_page_links_its_payment_and_shows_its_history_and_events(admin_client, refunded):
    payment, refund_id = refunded("12.50")
    page = admin_client.get(url(REFUNDS, refund_id)).content.decode()

    assert f'href="/admin/payments/payment/{quote(payment.id)}/"' in page
    assert "12.50 CAD" in page
    assert "<td>pending</td><td>completed</td>" in page  # the history
    assert "refund.created" in page and "refund.completed" in page
    assert 'id="console-actions"' not in page


def test_an_unknown_refund_or_settlement_is_a_404(admin_client, aws):
    assert admin_client.get(url(REFUNDS, "re_nope")).status_code == 404
    assert admin_client.get(url(SETTLEMENTS, "stl_nope")).status_code == 404
    assert admin_client.get(url(SETTLEMENTS, "stl_nope", "report")).status_code == 404


# --- Settlements ---------------------------------------------------------------------


def test_settlements_are_listed_per_merchant_and_day_and_across_merchants(admin_client, merchant, settled):
    settlement_id, _, _ = settled

    for query in ({}, {"merchant": merchant.id}, {"merchant": merchant.id, "day": TODAY}):
        assert settlement_id in admin_client.get(SETTLEMENTS, query).content.decode(), query
    other_day = admin_client.get(SETTLEMENTS, {"merchant": merchant.id, "day": YESTERDAY}).content.decode()
    assert settlement_id not in other_day
    in_progress = admin_client.get(SETTLEMENTS, {"status": "in_progress"}).content.decode()
    assert settlement_id not in in_progress
    assert settlement_id in admin_client.get(SETTLEMENTS, {"q": settlement_id}).content.decode()


def test_a_settlements_page_shows_its_figures_and_lines(admin_client, settled):
    settlement_id, payment, refund_id = settled
    page = admin_client.get(url(SETTLEMENTS, settlement_id)).content.decode()

    settlement = Settlement.get(settlement_id)
    assert (int(settlement.payment_count), int(settlement.refund_count)) == (1, 1)
    assert "250.00 CAD" in page and "-40.00 CAD" in page  # gross, and the refund's line
    assert f"{int(settlement.net) / 100:.2f} CAD" in page
    assert f'href="/admin/payments/payment/{quote(payment.id)}/"' in page
    assert f'href="/admin/payments/refund/{quote(refund_id)}/"' in page
    assert "settlement.completed" in page
    assert url(SETTLEMENTS, settlement_id, "report") in page


def test_the_report_streams_to_anyone_who_may_view_settlements(read_only_operator, settled):
    settlement_id, payment, refund_id = settled
    response = read_only_operator.get(url(SETTLEMENTS, settlement_id, "report"))

    assert response.status_code == 200 and response.streaming
    assert response["Content-Type"] == "text/csv"
    assert f'filename="{settlement_id}.csv"' in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [(r["id"], r["type"]) for r in rows] == [(payment.id, "payment"), (refund_id, "refund")]

    staff = User.objects.create_user("staff", password="pw", is_staff=True)
    no_permission = Client()
    no_permission.force_login(staff)
    assert no_permission.get(url(SETTLEMENTS, settlement_id, "report")).status_code == 403


def test_an_operator_runs_the_settlement_of_a_day_through_the_nightly_task(
    payments_operator, merchant, processed
):
    payment = processed()
    noon = datetime.combine(YESTERDAY, datetime.min.time(), tzinfo=UTC) + timedelta(hours=12)
    payment.update(actions=[Payment.money_key.set(f"{time_key(noon)}#{payment.id}")])
    assert "Run settlement for a date" in payments_operator.get(SETTLEMENTS).content.decode()

    response = csrf_post(
        payments_operator, SETTLEMENTS + "run/", {"day": YESTERDAY.isoformat(), "reason": "beat was down"}
    )
    assert (response.status_code, response["Location"]) == (302, SETTLEMENTS)
    entry = LogEntry.objects.get()
    assert (entry.user.username, entry.object_id) == ("payments", None)
    assert str(YESTERDAY) in entry.change_message and "beat was down" in entry.change_message

    (message,) = queued("settlement")
    assert (message["task"], message["args"]) == ("payments.tasks.settle_day_task", [YESTERDAY.isoformat()])
    settle_day_task(*message["args"])
    payment.refresh()
    settlement = Settlement.get(payment.settlement_id)
    assert (settlement.day, settlement.status, int(settlement.payment_count)) == (
        YESTERDAY.isoformat(),
        "completed",
        1,
    )


def test_only_a_day_that_has_ended_can_be_run(payments_operator, aws):
    response = csrf_post(payments_operator, SETTLEMENTS + "run/", {"day": TODAY.isoformat(), "reason": "now"})
    assert response.status_code == 200
    assert "Only a day that has ended" in response.content.decode()
    assert not LogEntry.objects.exists()
    assert queued("settlement") == []


def test_a_read_only_operator_cannot_run_a_settlement(read_only_operator, settled):
    assert "Run settlement for a date" not in read_only_operator.get(SETTLEMENTS).content.decode()
    assert 'id="console-actions"' not in read_only_operator.get(REFUNDS).content.decode()

    assert read_only_operator.get(SETTLEMENTS + "run/").status_code == 403
    response = read_only_operator.post(SETTLEMENTS + "run/", {"day": YESTERDAY.isoformat(), "reason": "x"})
    assert response.status_code == 403
    assert not LogEntry.objects.exists()
    assert queued("settlement") == []
