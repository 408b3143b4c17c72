"""Payments in the operator console: list, search, detail, retry, refund, cancel."""

import json
import secrets
from datetime import UTC, datetime, time

from django import forms
from django.contrib import admin
from django.contrib.admin.utils import unquote

from payflow.audit.selectors import audit_history
from payflow.console.options import (
    Action,
    Detail,
    DynamoAdmin,
    MerchantFilterForm,
    ReasonForm,
    Section,
    admin_link,
    money,
    when,
)
from payflow.errors import ApplicationError, ErrorCode
from payflow.events.admin import events_section
from payflow.idempotency.services import idempotent_run, request_fingerprint
from payflow.merchants.models import Merchant

from .. import models
from ..apis import PAYMENT_TYPES, STATUSES
from ..providers import PROVIDERS
from ..representations import plain_dict
from ..selectors import payment_find, payment_list_operator, payment_search, refund_list
from ..services import (
    payment_cancel,
    payment_refund_left,
    payment_retry,
    payment_retry_refusal,
    refund_create,
)

PAGE_SIZE = 50


def _choices(values) -> list[tuple[str, str]]:
    return [("", "any"), *((value, value.replace("_", " ")) for value in values)]


class PaymentFilterForm(MerchantFilterForm):
    q = forms.CharField(
        required=False,
        label="Search",
        help_text="Exact: payment id, idempotency key, provider reference or customer id.",
    )
    status = forms.ChoiceField(required=False, choices=_choices(STATUSES))
    type = forms.ChoiceField(required=False, choices=_choices(PAYMENT_TYPES))
    provider = forms.ChoiceField(required=False, choices=_choices(sorted(PROVIDERS)))
    created_from = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    created_to = forms.DateField(
        required=False, widget=forms.DateInput(attrs={"type": "date"}), help_text="Inclusive."
    )

    merchant_blank = "any"


class RefundForm(ReasonForm):
    amount = forms.CharField(
        required=False,
        max_length=32,
        help_text="In major units, e.g. 5.00. Leave empty to refund everything that is left.",
    )
    refund_reason = forms.ChoiceField(
        label="Refund reason (the merchant sees it)",
        choices=(
            ("requested_by_customer", "requested by customer"),
            ("duplicate", "duplicate"),
            ("fraudulent", "fraudulent"),
        ),
    )
    # One per rendered form: a second submit of the same form cannot refund twice.
    once = forms.CharField(widget=forms.HiddenInput)

    field_order = ("amount", "refund_reason", "reason", "once")


def _operator(request) -> str:
    return request.user.get_username()


@admin.register(models.Payment)
class PaymentAdmin(DynamoAdmin):
    filter_form = PaymentFilterForm

    def action_urls(self):
        return [
            ("<path:object_id>/retry/", self.retry_view, "retry"),
            ("<path:object_id>/refund/", self.refund_view, "refund"),
            ("<path:object_id>/cancel/", self.cancel_view, "cancel"),
        ]

    # --- List ----------------------------------------------------------------

    def listing(self, request, filters, cursor):
        columns = ["Payment", "Merchant", "Status", "Amount", "Type", "Provider", "Created"]
        if filters.get("q"):
            payments = payment_search(term=filters["q"].strip(), merchant_id=filters.get("merchant") or None)
            return self.search_listing(columns, payments, filters.get("merchant") or None)
        created_to = filters.get("created_to")
        page = payment_list_operator(
            merchant_id=filters.get("merchant") or None,
            status=filters.get("status") or None,
            payment_type=filters.get("type") or None,
            provider=filters.get("provider") or None,
            created_gte=_day_start(filters.get("created_from") or _first_merchant_day()),
            created_lt=_day_start(created_to.fromordinal(created_to.toordinal() + 1)) if created_to else None,
            limit=PAGE_SIZE,
            starting_after=cursor,
        )
        note = ""
        if (filters.get("type") or filters.get("provider")) and page.has_more and len(page.items) < PAGE_SIZE:
            note = "Type and provider are read through: this page is short, the next one reads on."
        return self.page_listing(columns, page, note)

    def row(self, payment) -> list:
        return [
            admin_link("payments_payment", payment.id),
            admin_link("merchants_merchant", payment.merchant_id),
            payment.status,
            money(payment.amount, payment.currency),
            payment.type,
            payment.provider,
            when(payment.created_at),
        ]

    # --- Detail --------------------------------------------------------------

    def get_payment(self, object_id: str):
        return self.found(payment_find(object_id), object_id)

    def detail(self, request, object_id):
        payment = self.get_payment(object_id)
        return Detail(
            title=f"Payment {payment.id}",
            sections=[
                self._summary(payment),
                self._routing(payment),
                self._history(payment),
                self._refunds(payment),
                self._events(payment),
            ],
            actions=self._actions(payment),
        )

    def _summary(self, p) -> Section:
        card = plain_dict(p.card) if p.card else None
        card_text = "—"
        if card:
            expiry = f"{card.get('exp_month')}/{card.get('exp_year')}"
            card_text = f"{card.get('brand', 'card')} •••• {card.get('last4')} exp {expiry}"
        return Section(
            "Payment",
            pairs=[
                ("Id", p.id),
                ("Merchant", admin_link("merchants_merchant", p.merchant_id)),
                ("Status", p.status),
                ("Type", p.type),
                ("Amount", money(p.amount, p.currency)),
                ("Captured", money(p.amount_captured, p.currency)),
                ("Refunded", money(p.amount_refunded, p.currency)),
                ("Capture", "at once" if p.capture else "authorize, capture later"),
                ("Card", card_text),
                ("Customer", p.customer_id or "—"),
                ("Description", p.description or "—"),
                ("Statement descriptor (merchant)", p.payee or "—"),
                ("Metadata", json.dumps(plain_dict(p.metadata), sort_keys=True) if p.metadata else "—"),
                ("Idempotency key", p.idempotency_key or "—"),
                ("Failure", f"{p.failure_code}: {p.failure_message}" if p.failure_code else "—"),
                ("Cancellation reason", p.cancellation_reason or "—"),
                ("Created", when(p.created_at)),
                ("Authorized", when(p.authorized_at)),
                ("Captured at", when(p.captured_at)),
                ("Canceled", when(p.canceled_at)),
                ("Updated", when(p.updated_at)),
                ("Settlement", admin_link("payments_settlement", p.settlement_id)),
                ("Fee", money(p.fee, p.currency)),
                ("Settled", when(p.settled_at)),
            ],
        )

    def _routing(self, p) -> Section:
        routing = plain_dict(p.routing)
        return Section(
            "Routing and attempts",
            pairs=[
                ("Provider now", p.provider),
                ("Routed to", routing.get("provider")),
                ("Rule", routing.get("rule")),
                ("Why", routing.get("reason")),
                ("Fallbacks", ", ".join(routing.get("fallbacks") or []) or "—"),
                ("Provider reference", p.provider_reference or "—"),
                ("Attempts", int(p.attempts)),
                ("Operator retries", int(p.retries or 0)),
            ],
        )

    def _history(self, p) -> Section:
        return history_section(p.id)

    def _refunds(self, p) -> Section:
        refunds = refund_list(merchant_id=p.merchant_id, payment_id=p.id, limit=100).items
        return Section(
            "Refunds",
            columns=["Refund", "Amount", "Status", "Reason", "Created", "Completed"],
            rows=[
                [
                    admin_link("payments_refund", r.id),
                    money(r.amount, r.currency),
                    r.status,
                    r.reason or "—",
                    when(r.created_at),
                    when(r.completed_at),
                ]
                for r in refunds
            ],
        )

    def _events(self, p) -> Section:
        return events_section(p.id)

    def _actions(self, p) -> list[Action]:
        actions = []
        if payment_retry_refusal(p) is None:
            actions.append(Action("Retry", self.url("retry", p.id), "payments.retry_payment"))
        if payment_refund_left(p) > 0:
            actions.append(Action("Refund", self.url("refund", p.id), "payments.refund_payment"))
        if p.status == "authorized":
            actions.append(
                Action(
                    "Cancel authorization", self.url("cancel", p.id), "payments.cancel_payment", danger=True
                )
            )
        return actions

    # --- Actions -------------------------------------------------------------

    def retry_view(self, request, object_id):
        payment_id = self._unquoted(object_id)

        def perform(data) -> str:
            payment = self.get_payment(payment_id)
            payment_retry(payment=payment, actor="operator", reason=f"{_operator(request)}: {data['reason']}")
            return f"Payment {payment_id} is queued for a new attempt (retry {int(payment.retries)})."

        return self.confirmed_action(
            request,
            payment_id,
            permission="payments.retry_payment",
            title=f"Retry payment {payment_id}",
            explanation=(
                "The payment goes back to pending and through routing again, as a new charge attempt at "
                "its provider. Final declines (lost, stolen or expired cards) cannot be retried."
            ),
            perform=perform,
            submit="Retry the payment",
        )

    def refund_view(self, request, object_id):
        payment_id = self._unquoted(object_id)

        def perform(data) -> str:
            payment = self.get_payment(payment_id)
            amount = data["amount"].strip() or None

            def refund(claim):
                _, body = refund_create(
                    merchant_id=payment.merchant_id,
                    payment_id=payment_id,
                    amount=amount,
                    reason=data["refund_reason"],
                    metadata={"operator": _operator(request)},
                    actor="operator",
                    claim=claim,
                )
                return 201, body

            # One refund per rendered form, however often it is sent; a refused one may be corrected.
            _, body, replayed = idempotent_run(
                merchant_id=payment.merchant_id,
                key=f"operator-refund-{data['once']}",
                fingerprint=request_fingerprint(
                    method="POST", path=request.path, data={"amount": amount, "payment": payment_id}
                ),
                work=refund,
                keep_refusals=False,
            )
            if replayed:
                return f"Refund {body['id']} was already created by this form."
            return f"Refund {body['id']} of {body['amount']} {body['currency']} is on its way."

        return self.confirmed_action(
            request,
            payment_id,
            permission="payments.refund_payment",
            title=f"Refund payment {payment_id}",
            explanation="The refund is sent to the provider by a worker; the merchant is told by webhook.",
            form_class=RefundForm,
            initial={"once": secrets.token_urlsafe(16)},
            perform=perform,
            submit="Refund",
        )

    def cancel_view(self, request, object_id):
        payment_id = self._unquoted(object_id)

        def perform(data) -> str:
            payment = self.get_payment(payment_id)
            if payment.status != "authorized":
                raise ApplicationError(
                    ErrorCode.PAYMENT_NOT_CANCELABLE,
                    f"Payment {payment_id} is {payment.status}; only an authorization can be canceled here.",
                )
            payment_cancel(payment=payment, reason="requested_by_operator", actor="operator")
            return f"The authorization of {payment_id} is canceled and its hold released."

        return self.confirmed_action(
            request,
            payment_id,
            permission="payments.cancel_payment",
            title=f"Cancel the authorization of {payment_id}",
            explanation="The provider voids the authorization: the customer's hold is released.",
            perform=perform,
            submit="Cancel the authorization",
        )

    def _unquoted(self, object_id: str) -> str:
        return unquote(object_id)


def history_section(object_id: str) -> Section:
    """An object's audit trail: a section of its detail page."""
    return Section(
        "History",
        columns=["When", "From", "To", "Actor", "Why"],
        rows=[
            [when(r.at), r.from_status or "—", r.to_status, r.actor, r.reason or "—"]
            for r in audit_history(object_id=object_id)
        ],
    )


def _first_merchant_day():
    """No payment predates its merchant: where the newest-first walk over all days may stop."""
    first = Merchant.objects.order_by("created_at").values_list("created_at", flat=True).first()
    return first.astimezone(UTC).date() if first else None


def _day_start(day) -> datetime | None:
    return datetime.combine(day, time.min, tzinfo=UTC) if day else None
