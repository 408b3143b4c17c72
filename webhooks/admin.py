"""Webhook endpoints and deliveries in the operator console: failing first, redeliver, re-enable."""

import json
from datetime import UTC, datetime

from django import forms
from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.urls import reverse
from django.utils.html import format_html

from payflow.console.options import (
    Action,
    Detail,
    DynamoAdmin,
    MerchantFilterForm,
    Section,
    admin_link,
    when,
)
from payflow.errors import ApplicationError, ErrorCode
from payflow.events.admin import delivery_result, pretty_json
from payflow.events.selectors import event_find

from . import models
from .selectors import (
    delivery_find,
    delivery_list_for_endpoint,
    delivery_list_for_event,
    delivery_list_operator,
    endpoint_list,
    endpoint_or_none,
)
from .services import DISABLED, FAILED, PENDING, SUCCEEDED, endpoint_enable, event_redeliver
from .signing import secret_masked

PAGE_SIZE = 50


def _epoch(seconds) -> datetime | None:
    return datetime.fromtimestamp(float(seconds), UTC) if seconds is not None else None


class EndpointFilterForm(MerchantFilterForm):
    q = forms.CharField(required=False, label="Search", help_text="Exact: endpoint id.")


@admin.register(models.WebhookEndpoint)
class WebhookEndpointAdmin(DynamoAdmin):
    filter_form = EndpointFilterForm

    def action_urls(self):
        return [("<path:object_id>/enable/", self.enable_view, "enable")]

    def listing(self, request, filters, cursor):
        columns = ["Endpoint", "Merchant", "URL", "Status", "Events", "Failing since", "Created"]
        merchant_id = filters.get("merchant") or None
        if filters.get("q"):
            return self.search_listing(columns, [endpoint_or_none(filters["q"].strip())], merchant_id)
        if merchant_id is None:
            return self.merchant_required(columns, "endpoint id")
        return self.page_listing(
            columns, endpoint_list(merchant_id=merchant_id, limit=PAGE_SIZE, starting_after=cursor)
        )

    def row(self, endpoint) -> list:
        return [
            admin_link("webhooks_webhookendpoint", endpoint.id),
            admin_link("merchants_merchant", endpoint.merchant_id),
            endpoint.url,
            endpoint.status,
            ", ".join(endpoint.enabled_events),
            when(_epoch(endpoint.failing_since)),
            when(endpoint.created_at),
        ]

    def get_endpoint(self, object_id: str):
        return self.found(endpoint_or_none(object_id), object_id)

    def detail(self, request, object_id):
        e = self.get_endpoint(object_id)
        deliveries = delivery_list_for_endpoint(endpoint_id=e.id, limit=20).items
        all_deliveries = format_html(
            '<a href="{}?endpoint={}">failing first, then the rest</a>',
            reverse("admin:webhooks_webhookdelivery_changelist"),
            e.id,
        )
        actions = []
        if e.status == DISABLED:
            actions.append(Action("Re-enable", self.url("enable", e.id), "webhooks.enable_webhook_endpoint"))
        return Detail(
            title=f"Webhook endpoint {e.id}",
            sections=[
                Section(
                    "Endpoint",
                    pairs=[
                        ("Id", e.id),
                        ("Merchant", admin_link("merchants_merchant", e.merchant_id)),
                        ("URL", e.url),
                        ("Status", e.status),
                        ("Why disabled", e.disabled_reason or "—"),
                        ("Every attempt failing since", when(_epoch(e.failing_since))),
                        ("Events", ", ".join(e.enabled_events)),
                        ("Description", e.description or "—"),
                        ("Signing secret", secret_masked(e.secret)),
                        ("Created", when(e.created_at)),
                        ("Updated", when(e.updated_at)),
                        ("All its deliveries", all_deliveries),
                    ],
                ),
                Section(
                    "Latest deliveries",
                    columns=["Delivery", "Event", "Type", "Status", "Attempts", "Last result", "Created"],
                    rows=[
                        [
                            admin_link("webhooks_webhookdelivery", d.id),
                            admin_link("payflow_events_event", d.event_id),
                            d.event_type,
                            d.status,
                            int(d.attempt_count),
                            delivery_result(d.last_status_code, d.last_error),
                            when(d.created_at),
                        ]
                        for d in deliveries
                    ],
                ),
            ],
            actions=actions,
        )

    def enable_view(self, request, object_id):
        endpoint_id = unquote(object_id)

        def perform(data) -> str:
            endpoint_enable(endpoint=self.get_endpoint(endpoint_id))
            return (
                f"Webhook endpoint {endpoint_id} is enabled again: new events are delivered to it. "
                "Deliveries that failed meanwhile are not resent; redeliver them from the deliveries list."
            )

        return self.confirmed_action(
            request,
            endpoint_id,
            permission="webhooks.enable_webhook_endpoint",
            title=f"Re-enable webhook endpoint {endpoint_id}",
            explanation=(
                "The endpoint takes events again, and its failures so far no longer count towards "
                "disabling it. Make sure the merchant has fixed what made it fail."
            ),
            perform=perform,
            submit="Re-enable the endpoint",
        )


class DeliveryFilterForm(MerchantFilterForm):
    q = forms.CharField(required=False, label="Search", help_text="Exact: delivery id or event id.")
    endpoint = forms.CharField(required=False, max_length=64, help_text="Endpoint id (we_…).")
    status = forms.ChoiceField(
        required=False,
        choices=(
            ("", "failing first"),
            (PENDING, PENDING),
            (SUCCEEDED, SUCCEEDED),
            (FAILED, "failed (dead)"),
        ),
    )

    merchant_blank = "any"


@admin.register(models.WebhookDelivery)
class WebhookDeliveryAdmin(DynamoAdmin):
    filter_form = DeliveryFilterForm

    def action_urls(self):
        return [("<path:object_id>/redeliver/", self.redeliver_view, "redeliver")]

    def listing(self, request, filters, cursor):
        columns = ["Delivery", "Event", "Type", "Endpoint", "Merchant", "Status", "Attempts", "Last result"]
        merchant_id = filters.get("merchant") or None
        endpoint_id = filters.get("endpoint", "").strip() or None
        if filters.get("q"):
            term = filters["q"].strip()
            delivery = delivery_find(term)
            found = (
                [delivery] if delivery is not None else delivery_list_for_event(event_id=term, limit=50).items
            )
            return self.search_listing(columns, found, merchant_id)
        page = delivery_list_operator(
            merchant_id=merchant_id,
            endpoint_id=endpoint_id,
            status=filters.get("status") or None,
            limit=PAGE_SIZE,
            starting_after=cursor,
        )
        note = ""
        if not filters.get("status"):
            note = "Failing deliveries first (their last attempt failed), newest first"
            if merchant_id or endpoint_id:
                note += ", then the others."
            else:
                note += ", of every merchant. Choose a merchant or an endpoint to see its other deliveries."
        if page.has_more and len(page.items) < PAGE_SIZE:
            note += " This page is short: the filters are read through, the next page reads on."
        return self.page_listing(columns, page, note.strip())

    def row(self, d) -> list:
        return [
            admin_link("webhooks_webhookdelivery", d.id),
            admin_link("payflow_events_event", d.event_id),
            d.event_type,
            admin_link("webhooks_webhookendpoint", d.endpoint_id),
            admin_link("merchants_merchant", d.merchant_id),
            d.status + (" (failing)" if d.failed_key and d.status == PENDING else ""),
            int(d.attempt_count),
            delivery_result(d.last_status_code, d.last_error),
        ]

    def get_delivery(self, object_id: str):
        return self.found(delivery_find(object_id), object_id)

    def detail(self, request, object_id):
        d = self.get_delivery(object_id)
        return Detail(
            title=f"Webhook delivery {d.id}",
            sections=[
                Section(
                    "Delivery",
                    pairs=[
                        ("Id", d.id),
                        ("Event", admin_link("payflow_events_event", d.event_id)),
                        ("Event type", d.event_type),
                        ("Endpoint", admin_link("webhooks_webhookendpoint", d.endpoint_id)),
                        ("Merchant", admin_link("merchants_merchant", d.merchant_id)),
                        ("Status", d.status),
                        ("Failing", "yes: its last attempt failed" if d.failed_key else "no"),
                        ("Attempts", int(d.attempt_count)),
                        ("Attempts of the schedule", int(d.scheduled_attempts)),
                        ("Next attempt", when(_epoch(d.next_attempt_at)) if d.status == PENDING else "—"),
                        ("Last attempt", when(d.last_attempt_at)),
                        ("Last result", delivery_result(d.last_status_code, d.last_error)),
                        ("Created", when(d.created_at)),
                        ("Updated", when(d.updated_at)),
                        ("Kept until", when(d.expires_at)),
                    ],
                ),
                Section(
                    "Attempts (latest last)",
                    columns=["When", "Trigger", "Result", "Latency", "Response body"],
                    rows=[
                        [
                            when(a.at),
                            a.trigger,
                            delivery_result(a.status_code, a.error),
                            f"{int(a.latency_ms)} ms",
                            a.response_body or "—",
                        ]
                        for a in d.attempts
                    ],
                    empty="Not attempted yet.",
                ),
                Section("Payload", pairs=[("JSON", pretty_json(json.loads(d.payload)))]),
            ],
            actions=[Action("Redeliver", self.url("redeliver", d.id), "webhooks.redeliver_webhook")],
        )

    def redeliver_view(self, request, object_id):
        delivery_id = unquote(object_id)

        def perform(data) -> str:
            delivery = self.get_delivery(delivery_id)
            event = event_find(delivery.event_id)
            if event is None:
                raise ApplicationError(
                    ErrorCode.NOT_FOUND,
                    f"The event {delivery.event_id} has expired: it cannot be sent again.",
                )
            endpoint = endpoint_or_none(delivery.endpoint_id)
            if endpoint is None:
                raise ApplicationError(
                    ErrorCode.INVALID_STATE, f"The webhook endpoint {delivery.endpoint_id} was deleted."
                )
            event_redeliver(event=event, endpoint=endpoint)
            return f"Delivery {delivery_id} of {event.id} to {endpoint.id} is queued for an attempt now."

        return self.confirmed_action(
            request,
            delivery_id,
            permission="webhooks.redeliver_webhook",
            title=f"Redeliver {delivery_id}",
            explanation=(
                "A worker sends the event to the endpoint again now: a finished delivery gets one more "
                "attempt, a pending one its next attempt sooner. Receivers see the same webhook id."
            ),
            perform=perform,
            submit="Redeliver",
        )
