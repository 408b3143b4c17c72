import re

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.admin.utils import quote
from django.contrib.auth.models import User
from django.test import Client

from payments.services import payment_process, refund_process
from payments.tables import Payment
from tests.console import csrf_post
from tests.payments.conftest import VISA

pytestmark = pytest.mark.django_db

LIST = "/admin/payments/payment/"


def detail_url(payment_id: str, action: str = "") -> str:
    return f"{LIST}{quote(payment_id)}/{action + '/' if action else ''}"


def test_the_list_filters_by_status_and_shows_newest_first(admin_client, processed):
    completed = [processed() for _ in range(2)]
    failed = processed(metadata={"test_outcome": "do_not_honor"})

    everything = admin_client.get(LIST).content.decode()
    assert everything.index(failed.id) < everything.index(completed[1].id) < everything.index(completed[0].id)

    only_failed = admin_client.get(LIST, {"status": "failed"}).content.decode()
    assert failed.id in only_failed
    assert all(p.id not in only_failed for p in completed)


def test_the_list_filters_by_merchant_type_provider_and_dates(admin_client, processed, merchant):
    card = processed(type="card", card=VISA)
    eft = processed()

    by_type = admin_client.get(LIST, {"type": "card"}).content.decode()
    assert card.id in by_type and eft.id not in by_type
    by_merchant_type = admin_client.get(LIST, {"merchant": merchant.id, "type": "eft"}).content.decode()
    assert eft.id in by_merchant_type and card.id not in by_merchant_type
    other_provider = admin_client.get(LIST, {"provider": "razorpay_mock"}).content.decode()
    assert eft.id not in other_provider

    day = eft.created_at.date()
    inside = admin_client.get(LIST, {"created_from": day, "created_to": day}).content.decode()
    assert eft.id in inside
    before = admin_client.get(LIST, {"created_to": day.replace(year=day.year - 1)}).content.decode()
    assert eft.id not in before


def test_the_list_pages_forward_with_a_cursor(admin_client, processed, monkeypatch):
    from payments.admin import payments as payments_admin

    monkeypatch.setattr(payments_admin, "PAGE_SIZE", 2)
    ids = [processed().id for _ in range(3)]
    first = admin_client.get(LIST).content.decode()
    assert ids[2] in first and ids[1] in first and ids[0] not in first
    next_url = re.search(r'href="(\?[^"]*cursor=[^"]+)" class="next-page"', first).group(1)
    second = admin_client.get(LIST + next_url.replace("&amp;", "&")).content.decode()
    assert ids[0] in second and ids[1] not in second
    assert "End of the list." in second


def test_search_finds_a_payment_by_id_idempotency_key_and_provider_reference(
    admin_client, create_payment, processed
):
    keyed = create_payment(idempotency_key="order-7731").json()["id"]
    payment_process(payment_id=keyed)
    payment = Payment.get(keyed)
    other = processed()

    for term in (payment.id, "order-7731", payment.provider_reference):
        found = admin_client.get(LIST, {"q": term}).content.decode()
        assert payment.id in found, term
        assert other.id not in found, term
    assert "Nothing matches." in admin_client.get(LIST, {"q": "no-such-thing"}).content.decode()


def test_search_finds_a_customers_payments(admin_client, api, processed, merchant):
    customer = api.post("/v1/customers", {"email": "ada@example.com"}, format="json").json()
    theirs = processed(customer_id=customer["id"])
    other = processed()

    found = admin_client.get(LIST, {"q": customer["id"]}).content.decode()
    assert theirs.id in found and other.id not in found


def test_the_detail_shows_routing_history_refunds_and_events(admin_client, api, processed):
    payment = processed()
    refund = api.post("/v1/refunds", {"payment_id": payment.id, "amount": "10.00"}, format="json").json()

    page = admin_client.get(detail_url(payment.id)).content.decode()
    assert payment.provider_reference in page
    assert "no rule matched" in page  # the routing decision
    assert "processing" in page and "completed" in page  # the history
    assert refund["id"] in page and "10.00 CAD" in page
    assert "payment.completed" in page and "refund" in page


def test_an_operator_refunds_part_of_a_payment_and_the_admin_log_says_who_and_why(
    payments_operator, processed
):
    payment = processed()
    response = csrf_post(
        payments_operator,
        detail_url(payment.id, "refund"),
        {"amount": "40.00", "refund_reason": "requested_by_customer", "reason": "Ticket 4411"},
    )
    assert response.status_code == 302

    payment.refresh()
    assert (payment.status, int(payment.amount_refunded)) == ("partially_refunded", 4000)
    entry = LogEntry.objects.get(object_id=payment.id)
    assert (entry.user.username, "Ticket 4411" in entry.change_message) == ("payments", True)
    page = payments_operator.get(detail_url(payment.id)).content.decode()
    assert "Ticket 4411" in page and "40.00 CAD" in page


def test_submitting_the_same_refund_form_twice_refunds_once(payments_operator, processed):
    payment = processed()
    url = detail_url(payment.id, "refund")
    page = payments_operator.get(url).content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    once = re.search(r'name="once" value="([^"]+)"', page).group(1)
    form = {
        "csrfmiddlewaretoken": token,
        "once": once,
        "amount": "5.00",
        "refund_reason": "duplicate",
        "reason": "double click",
    }

    assert payments_operator.post(url, form).status_code == 302
    assert payments_operator.post(url, form).status_code == 302
    payment.refresh()
    assert int(payment.amount_refunded) == 500


def test_a_refund_larger_than_what_is_left_is_refused_on_the_form(payments_operator, processed):
    payment = processed()
    response = csrf_post(
        payments_operator,
        detail_url(payment.id, "refund"),
        {"amount": "999.00", "refund_reason": "duplicate", "reason": "too much"},
    )
    assert response.status_code == 200
    assert "exceeds what is left" in response.content.decode()
    payment.refresh()
    assert int(payment.amount_refunded) == 0
    assert not LogEntry.objects.exists()


def test_a_failed_payment_is_retried_as_a_new_charge_attempt(payments_operator, processed, settings):
    settings.PAYMENTS_SANDBOX_SUCCESS_RATE = 0.0
    payment = processed()
    assert (payment.status, payment.failure_code) == ("failed", "do_not_honor")

    settings.PAYMENTS_SANDBOX_SUCCESS_RATE = 1.0
    response = csrf_post(payments_operator, detail_url(payment.id, "retry"), {"reason": "issuer was down"})
    assert response.status_code == 302
    payment.refresh()
    assert (payment.status, payment.failure_code, int(payment.retries)) == ("pending", None, 1)

    payment_process(payment_id=payment.id)
    payment.refresh()
    assert payment.status == "completed"
    page = payments_operator.get(detail_url(payment.id)).content.decode()
    assert "retried: payments: issuer was down" in page


def test_a_final_decline_cannot_be_retried(payments_operator, processed):
    payment = processed(metadata={"test_outcome": "stolen_card"})
    # No Retry button for it: the page asks the same rule as the action.
    assert (
        detail_url(payment.id, "retry") not in payments_operator.get(detail_url(payment.id)).content.decode()
    )
    response = csrf_post(payments_operator, detail_url(payment.id, "retry"), {"reason": "try"})
    assert response.status_code == 200
    assert "forbid retrying" in response.content.decode()
    payment.refresh()
    assert payment.status == "failed"


def test_an_authorization_is_canceled(payments_operator, processed):
    payment = processed(capture=False)
    assert payment.status == "authorized"
    page = payments_operator.get(detail_url(payment.id)).content.decode()
    assert "Cancel authorization" in page and detail_url(payment.id, "refund") not in page

    response = csrf_post(payments_operator, detail_url(payment.id, "cancel"), {"reason": "customer called"})
    assert response.status_code == 302
    payment.refresh()
    assert (payment.status, payment.cancellation_reason) == ("canceled", "requested_by_operator")


def test_a_read_only_operator_sees_no_actions_and_cannot_act(read_only_operator, processed):
    payment = processed()
    page = read_only_operator.get(detail_url(payment.id)).content.decode()
    assert payment.id in page
    assert 'id="console-actions"' not in page

    for action in ("refund", "retry", "cancel"):
        assert read_only_operator.get(detail_url(payment.id, action)).status_code == 403
        assert read_only_operator.post(detail_url(payment.id, action), {"reason": "x"}).status_code == 403
    payment.refresh()
    assert int(payment.amount_refunded) == 0


def test_an_action_post_without_the_csrf_token_is_refused(processed):
    payment = processed()
    user = User.objects.create_superuser("root", password="pw")
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    response = client.post(detail_url(payment.id, "refund"), {"refund_reason": "duplicate", "reason": "x"})
    assert response.status_code == 403
    payment.refresh()
    assert int(payment.amount_refunded) == 0


def test_an_unknown_payment_is_a_404_and_staff_only(admin_client, client, aws):
    assert admin_client.get(detail_url("pay_nope")).status_code == 404
    assert client.get(LIST).status_code == 302  # to the login page


def test_refunds_complete_and_show_on_the_payment(payments_operator, processed):
    payment = processed()
    csrf_post(
        payments_operator,
        detail_url(payment.id, "refund"),
        {"amount": "", "refund_reason": "fraudulent", "reason": "chargeback risk"},
    )
    refund_id = re.search(r"(re_\w+)", payments_operator.get(detail_url(payment.id)).content.decode()).group(
        1
    )
    refund_process(refund_id=refund_id)
    payment.refresh()
    assert payment.status == "refunded"


def test_payments_written_before_the_day_index_are_backfilled_into_the_list(admin_client, processed):
    from django.core.management import call_command

    payment = processed()
    payment.update(actions=[Payment.created_day.remove()])
    assert payment.id not in admin_client.get(LIST).content.decode()

    call_command("backfill_payment_days")
    assert payment.id in admin_client.get(LIST).content.decode()


def test_a_rare_filter_reads_a_bounded_number_of_payments_a_page(processed, monkeypatch):
    from payments import selectors

    monkeypatch.setattr(selectors, "OPERATOR_MAX_EXAMINED", 3)
    ids = {processed().id for _ in range(5)}  # all routed to "mock"

    first = selectors.payment_list_operator(provider="cashfree_mock", limit=50)
    assert (first.items, first.has_more, first.examined) == ([], True, 3)
    matching = selectors.payment_list_operator(provider="mock", limit=50)
    assert len(matching.items) == 3 and matching.has_more
    rest = selectors.payment_list_operator(provider="mock", limit=50, starting_after=matching.next_cursor)
    assert {p.id for p in matching.items + rest.items} == ids
