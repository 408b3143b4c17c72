"""Events in the operator console: list, search, and detail with the data and its webhook deliveries."""

import json

from django import forms
from django.contrib import admin
from django.utils.html import format_html, format_html_join

from payflow.console.options import (
    Detail,
    DynamoAdmin,
    MerchantFilterForm,
    Section,
    admin_link,
    when,
)
from webhooks.selectors import delivery_list_for_event

from . import models
from .selectors import event_find, event_list, event_list_for_object, event_search
from .services import EVENT_TYPES

PAGE_SIZE = 50

# The admin page of each kind of object an event is about (its "object" in the API).
OBJECT_ADMINS = {
    "payment": "payments_payment",
    "refund": "payments_refund",
    "settlement": "payments_settlement",
    "customer": "customers_customer",
    "disbursement": "customers_disbursement",
    "webhook_endpoint": "webhooks_webhookendpoint",
}


def delivery_links(deliveries):
    return format_html_join(
        ", ",
        "{}: {}",
        ((admin_link("webhooks_webhookdelivery", d.id, d.endpoint_id), d.status) for d in deliveries),
    )


def events_section(object_id: str) -> Section:
    """The events about one object and their webhook deliveries: a section of the object's page."""
    rows = []
    for event in event_list_for_object(object_id=object_id, limit=50).items:
        deliveries = delivery_list_for_event(event_id=event.id, limit=20).items
        rows.append(
            [
                admin_link("payflow_events_event", event.id),
                event.type,
                when(event.created_at),
                delivery_links(deliveries) if deliveries else "no endpoint subscribed",
            ]
        )
    return Section(
        "Events and webhook deliveries", columns=["Event", "Type", "When", "Deliveries"], rows=rows
    )


def pretty_json(value) -> str:
    return format_html("<pre>{}</pre>", json.dumps(value, indent=2, sort_keys=True))


class EventFilterForm(MerchantFilterForm):
    q = forms.CharField(
        required=False,
        label="Search",
        help_text="Exact: event id, or the id of the object it is about (payment, refund…).",
    )
    type = forms.ChoiceField(required=False, choices=[("", "any"), *((t, t) for t in EVENT_TYPES)])


@admin.register(models.Event)
class EventAdmin(DynamoAdmin):
    filter_form = EventFilterForm

    def listing(self, request, filters, cursor):
        columns = ["Event", "Type", "Merchant", "About", "Created"]
        merchant_id = filters.get("merchant") or None
        if filters.get("q"):
            found = event_search(term=filters["q"].strip(), merchant_id=merchant_id)
            return self.search_listing(columns, found, merchant_id)
        if merchant_id is None:
            return self.merchant_required(columns, "event or object id")
        page = event_list(
            merchant_id=filters["merchant"],
            type=filters.get("type") or None,
            limit=PAGE_SIZE,
            starting_after=cursor,
        )
        return self.page_listing(columns, page)

    def row(self, event) -> list:
        return [
            admin_link("payflow_events_event", event.id),
            event.type,
            admin_link("merchants_merchant", event.merchant_id),
            _object_link(event),
            when(event.created_at),
        ]

    def detail(self, request, object_id):
        event = self.found(event_find(object_id), object_id)
        deliveries = delivery_list_for_event(event_id=event.id, limit=50).items
        return Detail(
            title=f"Event {event.id}",
            sections=[
                Section(
                    "Event",
                    pairs=[
                        ("Id", event.id),
                        ("Type", event.type),
                        ("Merchant", admin_link("merchants_merchant", event.merchant_id)),
                        ("About", _object_link(event)),
                        ("API version", event.api_version),
                        ("Created", when(event.created_at)),
                        ("Kept until", when(event.expires_at)),
                    ],
                ),
                Section("Data", pairs=[("JSON", pretty_json(json.loads(event.data)))]),
                Section(
                    "Webhook deliveries",
                    columns=["Delivery", "Endpoint", "Status", "Attempts", "Last attempt", "Last result"],
                    rows=[
                        [
                            admin_link("webhooks_webhookdelivery", d.id),
                            admin_link("webhooks_webhookendpoint", d.endpoint_id),
                            d.status,
                            int(d.attempt_count),
                            when(d.last_attempt_at),
                            delivery_result(d.last_status_code, d.last_error),
                        ]
                        for d in deliveries
                    ],
                    empty="No endpoint subscribed to this event.",
                ),
            ],
        )


def _object_link(event):
    kind = json.loads(event.data)["object"].get("object")
    if kind not in OBJECT_ADMINS:
        return event.object_id or "—"
    return admin_link(OBJECT_ADMINS[kind], event.object_id)


def delivery_result(status_code, error) -> str:
    """What an attempt came to: its HTTP status, its error, or both."""
    if status_code is not None:
        return f"HTTP {int(status_code)}" + (f": {error}" if error else "")
    return error or "—"
