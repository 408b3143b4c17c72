"""Webhook endpoints and deliveries in the operator console: failing first, redeliver, re-enable."""

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.admin.utils import quote

from payflow.merchants.services import merchant_create
from payments.services import payment_create
from tests.console import csrf_post
from webhooks.services import DELIVER_TASK, delivery_attempt, endpoint_create, endpoint_update
from webhooks.tables import WebhookDelivery, WebhookEndpoint

from .conftest import queued

pytestmark = [pytest.mark.usefixtures("aws"), pytest.mark.django_db]

ENDPOINTS = "/admin/webhooks/webhookendpoint/"
DELIVERIES = "/admin/webhooks/webhookdelivery/"


def url(listing: str, object_id: str, action: str = "") -> str:
    return f"{listing}{quote(object_id)}/{action + '/' if action else ''}"


@pytest.fixture
def merchants():
    return merchant_create(name="Hooks one"), merchant_create(name="Hooks two")


def delivered(merchant, receiver, *, answer: int) -> WebhookDelivery:
    """A payment.created delivery to a new endpoint of ``merchant``, attempted once: ``answer`` came back."""
    endpoint = endpoint_create(merchant_id=merchant.id, url=receiver.url, enabled_events=["payment.created"])
    receiver.answer((answer, {}, "", 0.0))
    payment_create(merchant_id=merchant.id, amount=2500, currency="USD", payment_type="eft")
    (delivery,) = WebhookDelivery.by_endpoint.query(endpoint.id)
    delivery_attempt(delivery_id=delivery.id)
    queued("webhooks")  # the first dispatch and any retry are not this test's business
    return WebhookDelivery.get(delivery.id, consistent_read=True)


def listed(client, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200
    return response.content.decode()


def test_failing_deliveries_of_every_merchant_come_first(admin_client, merchants, receiver):
    one, two = merchants
    ok = delivered(one, receiver, answer=200)
    failing_one = delivered(one, receiver, answer=500)
    failing_two = delivered(two, receiver, answer=503)
    assert (ok.status, failing_one.status, failing_one.failed_key) == ("succeeded", "pending", "failing")

    page = listed(admin_client, DELIVERIES)
    assert failing_one.id in page and failing_two.id in page and ok.id not in page
    assert "pending (failing)" in page and "HTTP 503" in page

    # One merchant's: its failing delivery, then the rest of its deliveries.
    page = listed(admin_client, f"{DELIVERIES}?merchant={one.id}")
    assert failing_two.id not in page
    assert page.index(failing_one.id) < page.index(ok.id)

    page = listed(admin_client, f"{DELIVERIES}?merchant={one.id}&status=succeeded")
    assert ok.id in page and failing_one.id not in page


def test_a_delivery_is_found_by_its_id_or_its_event(admin_client, merchants, receiver):
    delivery = delivered(merchants[0], receiver, answer=200)
    assert delivery.id in listed(admin_client, f"{DELIVERIES}?q={delivery.id}")
    assert delivery.id in listed(admin_client, f"{DELIVERIES}?q={delivery.event_id}")
    assert delivery.id not in listed(admin_client, f"{DELIVERIES}?q=evt_nothing")


def test_listing_by_status_across_merchants_asks_for_a_merchant(admin_client, merchants, receiver):
    delivered(merchants[0], receiver, answer=200)
    response = admin_client.get(f"{DELIVERIES}?status=succeeded")
    assert response.status_code == 200
    assert "listed per merchant or endpoint" in response.content.decode()


def test_a_deliverys_page_shows_its_attempts_and_payload(admin_client, merchants, receiver):
    delivery = delivered(merchants[0], receiver, answer=500)
    page = listed(admin_client, url(DELIVERIES, delivery.id))
    assert f"Webhook delivery {delivery.id}" in page
    assert "HTTP 500" in page and "scheduled" in page
    assert "payment.created" in page and "&quot;object&quot;" in page
    assert 'id="console-actions"' in page and "Redeliver" in page


def test_an_operator_redelivers_and_a_worker_gets_the_attempt(payments_operator, merchants, receiver):
    delivery = delivered(merchants[0], receiver, answer=500)

    response = csrf_post(
        payments_operator, url(DELIVERIES, delivery.id, "redeliver"), {"reason": "fixed TLS"}
    )

    assert response.status_code == 302
    assert [t["args"] for t in queued("webhooks") if t["task"] == DELIVER_TASK] == [[delivery.id]]
    entry = LogEntry.objects.get(object_id=delivery.id)
    assert (entry.user.username, "fixed TLS" in entry.change_message) == ("payments", True)
    delivery_attempt(delivery_id=delivery.id)
    done = WebhookDelivery.get(delivery.id, consistent_read=True)
    # Still pending, so the redelivery brought its next scheduled attempt forward.
    assert (done.status, done.failed_key, [a.status_code for a in done.attempts]) == (
        "succeeded",
        None,
        [500, 200],
    )
    assert url(DELIVERIES, delivery.id) not in listed(payments_operator, DELIVERIES)


def test_endpoints_are_listed_per_merchant_or_found_by_id(admin_client, merchants, receiver):
    one, two = merchants
    mine = endpoint_create(merchant_id=one.id, url=receiver.url, enabled_events=["*"])
    theirs = endpoint_create(merchant_id=two.id, url=receiver.url, enabled_events=["*"])
    assert "listed per merchant" in listed(admin_client, ENDPOINTS)
    page = listed(admin_client, f"{ENDPOINTS}?merchant={one.id}")
    assert mine.id in page and theirs.id not in page
    assert theirs.id in listed(admin_client, f"{ENDPOINTS}?q={theirs.id}")
    page = listed(admin_client, url(ENDPOINTS, mine.id))
    assert receiver.url in page and mine.secret not in page


def test_an_operator_re_enables_a_disabled_endpoint(payments_operator, merchants, receiver):
    endpoint = endpoint_create(merchant_id=merchants[0].id, url=receiver.url, enabled_events=["*"])
    enabled_page = listed(payments_operator, url(ENDPOINTS, endpoint.id))
    assert "Re-enable" not in enabled_page
    endpoint_update(endpoint=endpoint, disabled=True)
    assert "Re-enable" in listed(payments_operator, url(ENDPOINTS, endpoint.id))

    response = csrf_post(
        payments_operator, url(ENDPOINTS, endpoint.id, "enable"), {"reason": "merchant fixed it"}
    )

    assert response.status_code == 302
    assert WebhookEndpoint.get(endpoint.id, consistent_read=True).status == "enabled"
    assert "merchant fixed it" in LogEntry.objects.get(object_id=endpoint.id).change_message
    # Enabling it twice is refused with the reason, and changes nothing.
    again = csrf_post(payments_operator, url(ENDPOINTS, endpoint.id, "enable"), {"reason": "again"})
    assert "is not disabled" in again.content.decode() or again.status_code == 302
    assert LogEntry.objects.filter(object_id=endpoint.id).count() == 1


def test_a_read_only_operator_sees_no_actions_and_cannot_act(read_only_operator, merchants, receiver):
    delivery = delivered(merchants[0], receiver, answer=500)
    endpoint = endpoint_update(endpoint=WebhookEndpoint.get(delivery.endpoint_id), disabled=True)

    for page in (url(DELIVERIES, delivery.id), url(ENDPOINTS, endpoint.id)):
        content = listed(read_only_operator, page)
        assert 'id="console-actions"' not in content
    for action in (url(DELIVERIES, delivery.id, "redeliver"), url(ENDPOINTS, endpoint.id, "enable")):
        assert read_only_operator.get(action).status_code == 403
        assert read_only_operator.post(action, {"reason": "x"}).status_code == 403
    assert queued("webhooks") == []
    assert WebhookEndpoint.get(endpoint.id).status == "disabled"
    assert not LogEntry.objects.exists()


def test_unknown_deliveries_and_endpoints_are_404s(admin_client):
    assert admin_client.get(url(DELIVERIES, "whd_nothing")).status_code == 404
    assert admin_client.get(url(ENDPOINTS, "we_nothing")).status_code == 404
