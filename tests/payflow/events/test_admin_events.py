import json
import re
from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.admin.utils import quote

from payflow.events.tables import Event
from payments.services import payment_process

pytestmark = pytest.mark.django_db

EVENTS = "/admin/payflow_events/event/"


def url(object_id: str) -> str:
    return f"{EVENTS}{quote(object_id)}/"


def events_of(object_id: str) -> dict[str, Event]:
    return {e.type: e for e in Event.by_object.query(object_id)}


@pytest.fixture
def completed_payment(create_payment):
    """A processed payment's id: its events are payment.created, payment.processing, payment.completed."""

    def create():
        payment_id = create_payment(idempotency_key=None).json()["id"]
        payment_process(payment_id=payment_id)
        return payment_id

    return create


@pytest.fixture
def endpoint(api, aws):
    response = api.post(
        "/v1/webhook_endpoints", {"url": "http://127.0.0.1:9/hooks", "enabled_events": ["*"]}, format="json"
    )
    assert response.status_code == 201
    return response.json()


def test_events_are_listed_per_merchant_and_filtered_by_type(admin_client, merchant, completed_payment):
    first, second = completed_payment(), completed_payment()
    created = [events_of(p)["payment.created"].id for p in (first, second)]
    completed = events_of(first)["payment.completed"].id

    assert "listed per merchant" in admin_client.get(EVENTS).content.decode()
    everything = admin_client.get(EVENTS, {"merchant": merchant.id}).content.decode()
    assert everything.index(created[1]) < everything.index(created[0])
    assert completed in everything
    only_created = admin_client.get(EVENTS, {"merchant": merchant.id, "type": "payment.created"}).content
    assert all(e in only_created.decode() for e in created) and completed not in only_created.decode()


def test_the_list_pages_forward_with_a_cursor(admin_client, merchant, completed_payment, monkeypatch):
    from payflow.events import admin as events_admin

    monkeypatch.setattr(events_admin, "PAGE_SIZE", 2)
    events = events_of(completed_payment())
    first = admin_client.get(EVENTS, {"merchant": merchant.id}).content.decode()
    assert events["payment.completed"].id in first and events["payment.created"].id not in first
    next_url = re.search(r'href="(\?[^"]*cursor=[^"]+)" class="next-page"', first).group(1)
    second = admin_client.get(EVENTS + next_url.replace("&amp;", "&")).content.decode()
    assert events["payment.created"].id in second and events["payment.completed"].id not in second
    assert "End of the list." in second


def test_an_event_is_found_by_its_id_or_the_id_of_its_object(admin_client, completed_payment):
    payment_id, other = completed_payment(), completed_payment()
    events = events_of(payment_id)

    by_object = admin_client.get(EVENTS, {"q": payment_id}).content.decode()
    assert all(e.id in by_object for e in events.values())
    assert all(e.id not in by_object for e in events_of(other).values())
    by_id = admin_client.get(EVENTS, {"q": events["payment.completed"].id}).content.decode()
    assert events["payment.completed"].id in by_id and events["payment.created"].id not in by_id


def test_an_events_page_shows_its_data_pretty_printed_and_its_deliveries(
    admin_client, endpoint, completed_payment
):
    payment_id = completed_payment()
    event = events_of(payment_id)["payment.completed"]

    page = admin_client.get(url(event.id)).content.decode()
    assert f'href="/admin/payments/payment/{quote(payment_id)}/"' in page
    assert "<pre>{\n" in page and "&quot;status&quot;: &quot;completed&quot;" in page
    assert f'href="/admin/webhooks/webhookendpoint/{quote(endpoint["id"])}/"' in page
    assert "/admin/webhooks/webhookdelivery/whd_" in page and "pending" in page


def test_an_event_without_subscribers_says_so(admin_client, completed_payment):
    event = events_of(completed_payment())["payment.created"]
    assert "No endpoint subscribed to this event." in admin_client.get(url(event.id)).content.decode()


def test_a_read_only_operator_sees_events_and_no_actions(read_only_operator, completed_payment):
    event = events_of(completed_payment())["payment.created"]
    page = read_only_operator.get(url(event.id))
    assert page.status_code == 200 and json.loads(event.data)["object"]["id"] in page.content.decode()
    assert 'id="console-actions"' not in page.content.decode()


def test_unknown_and_expired_events_are_404s(admin_client, completed_payment):
    event = events_of(completed_payment())["payment.created"]
    assert admin_client.get(url("evt_nope")).status_code == 404

    event.update(actions=[Event.expires_at.set(datetime.now(UTC) - timedelta(minutes=1))])
    assert admin_client.get(url(event.id)).status_code == 404
