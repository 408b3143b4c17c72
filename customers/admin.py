"""Customers and disbursements in the operator console: lists, search and details."""

import json
from datetime import UTC, datetime

from django import forms
from django.contrib import admin

from payflow.console.options import (
    Detail,
    DynamoAdmin,
    MerchantFilterForm,
    Section,
    admin_link,
    money,
    when,
)
from payflow.events.admin import events_section
from payments.admin.payments import history_section
from payments.representations import plain_dict
from payments.selectors import payment_search

from . import models
from .apis import DISBURSEMENT_STATUSES
from .selectors import customer_find, customer_list, customer_search, disbursement_find, disbursement_list

PAGE_SIZE = 50


def _metadata(value) -> str:
    metadata = plain_dict(value)
    return json.dumps(metadata, sort_keys=True) if metadata else "—"


class CustomerFilterForm(MerchantFilterForm):
    q = forms.CharField(
        required=False,
        label="Search",
        help_text="Exact: customer id (cus_…), or the merchant's own customer id once a merchant is chosen.",
    )


@admin.register(models.Customer)
class CustomerAdmin(DynamoAdmin):
    filter_form = CustomerFilterForm

    def listing(self, request, filters, cursor):
        columns = ["Customer", "Merchant", "Merchant's id", "Email", "Name", "Created"]
        merchant_id = filters.get("merchant") or None
        if filters.get("q"):
            found = customer_search(term=filters["q"].strip(), merchant_id=merchant_id)
            return self.search_listing(columns, found, merchant_id)
        if merchant_id is None:
            return self.merchant_required(columns, "customer id")
        return self.page_listing(
            columns, customer_list(merchant_id=merchant_id, limit=PAGE_SIZE, starting_after=cursor)
        )

    def row(self, customer) -> list:
        return [
            admin_link("customers_customer", customer.id),
            admin_link("merchants_merchant", customer.merchant_id),
            customer.customer_id or "—",
            customer.email or "—",
            customer.name or "—",
            when(customer.created_at),
        ]

    def detail(self, request, object_id):
        customer = self.found(customer_find(object_id), object_id)
        return Detail(
            title=f"Customer {customer.id}",
            sections=[
                Section(
                    "Customer",
                    pairs=[
                        ("Id", customer.id),
                        ("Merchant", admin_link("merchants_merchant", customer.merchant_id)),
                        ("Merchant's id", customer.customer_id or "—"),
                        ("Email", customer.email or "—"),
                        ("Name", customer.name or "—"),
                        ("Metadata", _metadata(customer.metadata)),
                        ("Created", when(customer.created_at)),
                        ("Updated", when(customer.updated_at)),
                    ],
                ),
                self._payments(customer),
                self._disbursements(customer),
                events_section(customer.id),
            ],
        )

    def _payments(self, customer) -> Section:
        payments = payment_search(term=customer.id, merchant_id=customer.merchant_id)
        return Section(
            "Payments",
            columns=["Payment", "Status", "Amount", "Type", "Created"],
            rows=[
                [
                    admin_link("payments_payment", p.id),
                    p.status,
                    money(p.amount, p.currency),
                    p.type,
                    when(p.created_at),
                ]
                for p in payments
            ],
        )

    def _disbursements(self, customer) -> Section:
        page = disbursement_list(merchant_id=customer.merchant_id, customer_id=customer.id, limit=PAGE_SIZE)
        return Section(
            "Disbursements",
            columns=["Disbursement", "Status", "Amount", "Method", "Created"],
            rows=[
                [
                    admin_link("customers_disbursement", d.id),
                    d.status,
                    money(d.amount, d.currency),
                    d.method,
                    when(d.created_at),
                ]
                for d in page.items
            ],
        )


class DisbursementFilterForm(MerchantFilterForm):
    q = forms.CharField(required=False, label="Search", help_text="Exact: disbursement id.")
    status = forms.ChoiceField(
        required=False, choices=[("", "any"), *((status, status) for status in DISBURSEMENT_STATUSES)]
    )


@admin.register(models.Disbursement)
class DisbursementAdmin(DynamoAdmin):
    filter_form = DisbursementFilterForm

    def listing(self, request, filters, cursor):
        columns = ["Disbursement", "Merchant", "Customer", "Status", "Amount", "Method", "Created"]
        merchant_id = filters.get("merchant") or None
        if filters.get("q"):
            return self.search_listing(columns, [disbursement_find(filters["q"].strip())], merchant_id)
        if merchant_id is None:
            return self.merchant_required(columns, "disbursement id")
        page = disbursement_list(
            merchant_id=merchant_id,
            status=filters.get("status") or None,
            limit=PAGE_SIZE,
            starting_after=cursor,
        )
        return self.page_listing(columns, page)

    def row(self, disbursement) -> list:
        return [
            admin_link("customers_disbursement", disbursement.id),
            admin_link("merchants_merchant", disbursement.merchant_id),
            admin_link("customers_customer", disbursement.customer_id),
            disbursement.status,
            money(disbursement.amount, disbursement.currency),
            disbursement.method,
            when(disbursement.created_at),
        ]

    def detail(self, request, object_id):
        d = self.found(disbursement_find(object_id), object_id)
        settles_at = datetime.fromtimestamp(float(d.settles_at), UTC) if d.settles_at is not None else None
        return Detail(
            title=f"Disbursement {d.id}",
            sections=[
                Section(
                    "Disbursement",
                    pairs=[
                        ("Id", d.id),
                        ("Merchant", admin_link("merchants_merchant", d.merchant_id)),
                        ("Customer", admin_link("customers_customer", d.customer_id)),
                        ("Status", d.status),
                        ("Amount", money(d.amount, d.currency)),
                        ("Method", d.method),
                        ("Email", d.email or "—"),
                        ("Description", d.description or "—"),
                        ("Metadata", _metadata(d.metadata)),
                        ("Provider reference", d.provider_reference or "—"),
                        ("Failure", f"{d.failure_code}: {d.failure_message}" if d.failure_code else "—"),
                        ("ACH return code", d.return_code or "—"),
                        ("ACH settles", when(settles_at)),
                        ("Customer told of", d.notified or "—"),
                        ("Created", when(d.created_at)),
                        ("Updated", when(d.updated_at)),
                        ("Completed", when(d.completed_at)),
                    ],
                ),
                history_section(d.id),
                events_section(d.id),
            ],
        )
