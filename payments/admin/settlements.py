"""Refunds and settlements in the operator console: lists, details, report download, a run for a day."""

import json

from django import forms
from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.http import FileResponse, Http404

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

from .. import models
from ..representations import plain_dict
from ..selectors import (
    refund_find,
    refund_list_operator,
    refund_search,
    settlement_find,
    settlement_lines,
    settlement_list_operator,
    settlement_report_open,
)
from ..settlement import COMPLETED, IN_PROGRESS, settlement_request
from .payments import history_section

PAGE_SIZE = 50
REFUND_STATUSES = ("pending", "completed", "failed")
# The lines a settlement's page shows of each kind; its report has them all.
LINES_SHOWN = 100


def _choices(values) -> list[tuple[str, str]]:
    return [("", "any"), *((value, value.replace("_", " ")) for value in values)]


class RefundFilterForm(MerchantFilterForm):
    q = forms.CharField(required=False, label="Search", help_text="Exact: refund id or payment id.")
    status = forms.ChoiceField(required=False, choices=_choices(REFUND_STATUSES))


@admin.register(models.Refund)
class RefundAdmin(DynamoAdmin):
    filter_form = RefundFilterForm

    def listing(self, request, filters, cursor):
        columns = ["Refund", "Payment", "Merchant", "Status", "Amount", "Created", "Completed"]
        merchant_id = filters.get("merchant") or None
        if filters.get("q"):
            found = refund_search(term=filters["q"].strip(), merchant_id=merchant_id)
            return self.search_listing(columns, found, merchant_id)
        if merchant_id is None:
            return self.merchant_required(columns, "refund or payment id")
        page = refund_list_operator(
            merchant_id=filters["merchant"],
            status=filters.get("status") or None,
            limit=PAGE_SIZE,
            starting_after=cursor,
        )
        note = ""
        if filters.get("status") and page.has_more and len(page.items) < PAGE_SIZE:
            note = "The status is read through: this page is short, the next one reads on."
        return self.page_listing(columns, page, note)

    def row(self, refund) -> list:
        return [
            admin_link("payments_refund", refund.id),
            admin_link("payments_payment", refund.payment_id),
            admin_link("merchants_merchant", refund.merchant_id),
            refund.status,
            money(refund.amount, refund.currency),
            when(refund.created_at),
            when(refund.completed_at),
        ]

    def detail(self, request, object_id):
        refund = self.found(refund_find(object_id), object_id)
        metadata = plain_dict(refund.metadata)
        return Detail(
            title=f"Refund {refund.id}",
            sections=[
                Section(
                    "Refund",
                    pairs=[
                        ("Id", refund.id),
                        ("Payment", admin_link("payments_payment", refund.payment_id)),
                        ("Merchant", admin_link("merchants_merchant", refund.merchant_id)),
                        ("Status", refund.status),
                        ("Amount", money(refund.amount, refund.currency)),
                        ("Reason", refund.reason or "—"),
                        ("Metadata", json.dumps(metadata, sort_keys=True) if metadata else "—"),
                        ("Provider", refund.provider),
                        ("Provider reference", refund.provider_reference or "—"),
                        (
                            "Failure",
                            f"{refund.failure_code}: {refund.failure_message}"
                            if refund.failure_code
                            else "—",
                        ),
                        ("Created", when(refund.created_at)),
                        ("Completed", when(refund.completed_at)),
                        ("Updated", when(refund.updated_at)),
                        ("Settlement", admin_link("payments_settlement", refund.settlement_id)),
                        ("Settled", when(refund.settled_at)),
                    ],
                ),
                history_section(refund.id),
                events_section(refund.id),
            ],
        )


class SettlementFilterForm(MerchantFilterForm):
    q = forms.CharField(required=False, label="Search", help_text="Exact: settlement id.")
    status = forms.ChoiceField(required=False, choices=_choices((COMPLETED, IN_PROGRESS)))
    day = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))

    merchant_blank = "any"


class RunSettlementForm(ReasonForm):
    day = forms.DateField(
        widget=forms.DateInput(attrs={"type": "date"}), help_text="A day that has ended (UTC)."
    )

    field_order = ("day", "reason")


@admin.register(models.Settlement)
class SettlementAdmin(DynamoAdmin):
    filter_form = SettlementFilterForm

    def action_urls(self):
        return [
            ("run/", self.run_view, "run"),
            ("<path:object_id>/report/", self.report_view, "report"),
        ]

    # --- List ----------------------------------------------------------------

    def listing(self, request, filters, cursor):
        columns = ["Settlement", "Merchant", "Day", "Currency", "Status", "Payments", "Refunds", "Net"]
        actions = [Action("Run settlement for a date", self.url("run"), "payments.run_settlement")]
        if filters.get("q"):
            found = [settlement_find(filters["q"].strip())]
            return self.search_listing(columns, found, filters.get("merchant") or None, actions=actions)
        merchant_id = filters.get("merchant") or None
        page = settlement_list_operator(
            merchant_id=merchant_id,
            status=filters.get("status") or None,
            day=filters.get("day"),
            limit=PAGE_SIZE,
            starting_after=cursor,
        )
        note = ""
        if merchant_id is None and not filters.get("status"):
            note = (
                "Across merchants the list shows one status at a time: completed, unless you choose another."
            )
        return self.page_listing(columns, page, note, actions=actions)

    def row(self, settlement) -> list:
        return [
            admin_link("payments_settlement", settlement.id),
            admin_link("merchants_merchant", settlement.merchant_id),
            settlement.day,
            settlement.currency,
            settlement.status.replace("_", " "),
            int(settlement.payment_count),
            int(settlement.refund_count),
            money(settlement.net, settlement.currency),
        ]

    # --- Detail --------------------------------------------------------------

    def get_settlement(self, object_id: str):
        return self.found(settlement_find(object_id), object_id)

    def detail(self, request, object_id):
        s = self.get_settlement(object_id)
        actions = []
        if s.report_path:
            actions.append(Action("Download report", self.url("report", s.id), "payments.view_settlement"))
        return Detail(
            title=f"Settlement {s.id}",
            sections=[
                Section(
                    "Settlement",
                    pairs=[
                        ("Id", s.id),
                        ("Merchant", admin_link("merchants_merchant", s.merchant_id)),
                        ("Day", s.day),
                        ("Cutoff", when(s.cutoff)),
                        ("Status", s.status.replace("_", " ")),
                        ("Created", when(s.created_at)),
                        ("Completed", when(s.completed_at)),
                        ("Report", s.report_path or "not written yet"),
                    ],
                ),
                Section(
                    "Figures",
                    pairs=[
                        ("Currency", s.currency),
                        ("Payments", int(s.payment_count)),
                        ("Refunds", int(s.refund_count)),
                        ("Gross", money(s.gross, s.currency)),
                        ("Refunded", money(s.refunds, s.currency)),
                        ("Fees", money(s.fees, s.currency)),
                        ("Net", money(s.net, s.currency)),
                        ("Credited to the balance", money(s.credited, s.currency)),
                    ],
                ),
                self._lines(s),
                events_section(s.id),
            ],
            actions=actions,
        )

    def _lines(self, s) -> Section:
        payments, refunds = settlement_lines(settlement_id=s.id, limit=LINES_SHOWN)
        rows = [
            [
                admin_link("payments_payment", p.id),
                "payment",
                money(p.amount_captured, p.currency),
                money(p.fee, p.currency),
                money(int(p.amount_captured) - int(p.fee), p.currency),
                when(p.captured_at),
            ]
            for p in payments
        ]
        rows += [
            [
                admin_link("payments_refund", r.id),
                "refund",
                money(-int(r.amount), r.currency),
                money(0, r.currency),
                money(-int(r.amount), r.currency),
                when(r.completed_at),
            ]
            for r in refunds
        ]
        title = "Lines"
        if len(payments) == LINES_SHOWN or len(refunds) == LINES_SHOWN:
            title = f"Lines: the first {LINES_SHOWN} payments and refunds (the report has them all)"
        return Section(
            title,
            columns=["Item", "Type", "Amount", "Fee", "Net", "Captured or refunded"],
            rows=rows,
            empty="No payment or refund is settled here yet.",
        )

    # --- Report and run ------------------------------------------------------

    def report_view(self, request, object_id):
        self.require(request)
        settlement_id = unquote(object_id)
        try:
            report = settlement_report_open(self.get_settlement(settlement_id))
        except ApplicationError as exc:
            if exc.code == ErrorCode.NOT_FOUND:
                raise Http404(exc.message) from None
            raise
        return FileResponse(
            report, as_attachment=True, filename=f"{settlement_id}.csv", content_type="text/csv"
        )

    def run_view(self, request):
        def perform(data) -> str:
            day = data["day"]
            cutoff = settlement_request(day=day)
            return (
                f"The settlement of {day} is queued for every merchant: what was captured or refunded "
                f"before {cutoff:%Y-%m-%d %H:%M} UTC and is not settled yet."
            )

        return self.confirmed_action(
            request,
            None,
            permission="payments.run_settlement",
            title="Run settlement for a date",
            explanation=(
                "A settlement worker settles the day as the nightly run does: per merchant and currency, "
                "every captured payment and completed refund from before the day's end that is not settled "
                "yet. Running a day again settles nothing twice."
            ),
            form_class=RunSettlementForm,
            perform=perform,
            submit="Run the settlement",
        )
