"""``DynamoAdmin``: list, detail and action views of a DynamoDB resource in the Django admin.

A subclass names its placeholder model, builds a ``Listing`` from a page of a
selector and a ``Detail`` from an item, and adds action views with
``confirmed_action``. ``admin_view`` only checks ``is_staff``, so every view
here checks its own permission, and every action POST checks it again.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.admin.utils import quote, unquote
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseNotAllowed, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from payflow.aws.dynamodb import not_found
from payflow.errors import ApplicationError, ErrorCode
from payflow.merchants.selectors import merchant_choices
from payflow.money import format_minor_units


@dataclass
class Listing:
    """One page of a list: column headings, rendered rows and the cursor to the next page."""

    columns: list[str]
    rows: list[list[Any]]
    next_cursor: str | None = None
    note: str = ""
    actions: list["Action"] = field(default_factory=list)  # on the whole list, e.g. a run for a date


@dataclass
class Section:
    """A block of a detail page: label/value pairs, or a table."""

    title: str
    pairs: list[tuple[str, Any]] | None = None
    columns: list[str] | None = None
    rows: list[list[Any]] | None = None
    empty: str = "None."


@dataclass
class Action:
    label: str
    url: str
    permission: str  # "<app_label>.<codename>"
    danger: bool = False


@dataclass
class Detail:
    title: str
    sections: list[Section]
    actions: list[Action] = field(default_factory=list)


class MerchantFilterForm(forms.Form):
    """A list's filters: an exact search ``q`` first, then the merchant (blank: ``merchant_blank``)."""

    merchant = forms.ChoiceField(required=False)
    merchant_blank = "—"  # "any" where the list spans merchants without one chosen
    field_order = ("q", "merchant")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["merchant"].choices = [("", self.merchant_blank), *merchant_choices()]


class ReasonForm(forms.Form):
    reason = forms.CharField(
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text="Why: kept in the admin log with your name.",
    )


def money(amount, currency: str) -> str:
    if amount is None:
        return "—"
    return f"{format_minor_units(int(amount), currency)} {currency}"


def when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S UTC") if value else "—"


def admin_link(app_model: str, object_id: str | None, text: str | None = None):
    """A link to an object's admin page, e.g. ``admin_link("payments_payment", "pay_1")``."""
    if not object_id:
        return "—"
    url = reverse(f"admin:{app_model}_change", args=[quote(object_id)])
    return format_html('<a href="{}">{}</a>', url, text or object_id)


class DynamoAdmin(admin.ModelAdmin):
    """The admin of a DynamoDB resource, through its unmanaged placeholder model."""

    filter_form: type[forms.Form] | None = None
    list_template = "admin/console/list.html"
    detail_template = "admin/console/detail.html"
    confirm_template = "admin/console/confirm.html"

    # Items are written by services only: the stock add/change/delete do not apply.
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def listing(self, request, filters: dict, cursor: str | None) -> Listing:
        raise NotImplementedError

    def detail(self, request, object_id: str) -> Detail:
        raise NotImplementedError

    def found(self, item, object_id: str):
        """``item``, or the one "not found" (a 404 page) when there is none."""
        if item is None:
            raise not_found(self.opts.verbose_name, object_id)
        return item

    def row(self, item) -> list:
        """One item as the list's columns show it."""
        raise NotImplementedError

    def search_listing(self, columns: list[str], found, merchant_id: str | None = None, **extra) -> Listing:
        """Exact matches of a search: the chosen merchant's only, when one is chosen."""
        rows = [self.row(i) for i in found if i is not None and merchant_id in (None, i.merchant_id)]
        return Listing(columns, rows, note="Exact matches of the search.", **extra)

    def page_listing(self, columns: list[str], page, note: str = "", **extra) -> Listing:
        return Listing(columns, [self.row(i) for i in page.items], page.next_cursor, note, **extra)

    def merchant_required(self, columns: list[str], searchable_by: str) -> Listing:
        """The list before a merchant is chosen, where its index is per merchant."""
        plural = self.opts.verbose_name_plural.capitalize()
        note = f"{plural} are listed per merchant: choose one, or search by {searchable_by}."
        return Listing(columns, [], note=note)

    def action_urls(self) -> list:
        """Extra URL patterns, before the detail page's catch-all."""
        return []

    # --- URLs and views ------------------------------------------------------

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        wrap = self.admin_site.admin_view
        return [
            path("", wrap(self.list_view), name="{}_{}_changelist".format(*info)),
            *[
                path(route, wrap(view), name="{}_{}_{}".format(*info, name))
                for route, view, name in self.action_urls()
            ],
            path("<path:object_id>/", wrap(self.detail_view), name="{}_{}_change".format(*info)),
        ]

    def url(self, name: str, *args) -> str:
        info = self.opts.app_label, self.opts.model_name
        return reverse("admin:{}_{}_{}".format(*info, name), args=[quote(a) for a in args])

    def require(self, request, permission: str | None = None) -> None:
        if permission is None:
            allowed = self.has_view_permission(request)
        else:
            allowed = request.user.has_perm(permission)
        if not allowed:
            raise PermissionDenied

    def render(self, request, template: str, context: dict) -> TemplateResponse:
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "changelist_url": self.url("changelist"),
            **context,
        }
        return TemplateResponse(request, template, context)

    def list_view(self, request):
        self.require(request)
        if request.method not in ("GET", "HEAD"):  # actions have URLs of their own
            return HttpResponseNotAllowed(["GET", "HEAD"])
        form = self.filter_form(request.GET or None) if self.filter_form else None
        filters = form.cleaned_data if form is not None and form.is_valid() else {}
        cursor = request.GET.get("cursor") or None
        error = None
        try:
            listing = self.listing(request, filters, cursor)
        except ApplicationError as exc:
            error = exc.message
            listing = Listing(columns=[], rows=[])
        next_url = None
        if listing.next_cursor:
            query = request.GET.copy()
            query["cursor"] = listing.next_cursor
            next_url = "?" + query.urlencode()
        first_url = None
        if cursor:
            query = request.GET.copy()
            query.pop("cursor", None)
            first_url = "?" + query.urlencode()
        return self.render(
            request,
            self.list_template,
            {
                "title": self.opts.verbose_name_plural.capitalize(),
                "form": form,
                "listing": listing,
                "error": error,
                "next_url": next_url,
                "first_url": first_url,
                "actions": [a for a in listing.actions if request.user.has_perm(a.permission)],
            },
        )

    def detail_view(self, request, object_id):
        self.require(request)
        if request.method not in ("GET", "HEAD"):
            return HttpResponseNotAllowed(["GET", "HEAD"])
        object_id = unquote(object_id)
        try:
            detail = self.detail(request, object_id)
        except ApplicationError as exc:
            if exc.code == ErrorCode.NOT_FOUND:
                raise Http404(exc.message) from None
            raise
        actions = [a for a in detail.actions if request.user.has_perm(a.permission)]
        return self.render(
            request,
            self.detail_template,
            {
                "title": detail.title,
                "object_id": object_id,
                "detail": detail,
                "actions": actions,
                "log_entries": self.log_entries(object_id),
            },
        )

    # --- Actions ---------------------------------------------------------------

    def confirmed_action(
        self,
        request,
        object_id: str | None,
        *,
        permission: str,
        title: str,
        perform: Callable[[dict], str],
        form_class: type[forms.Form] = ReasonForm,
        explanation: str = "",
        submit: str = "Confirm",
        initial: dict | None = None,
    ):
        """A confirmation page whose POST runs ``perform(cleaned_data)`` and logs it.

        ``perform`` returns the message for the admin log and the operator; an
        ``ApplicationError`` it raises is shown on the form, with nothing logged.
        With ``object_id`` None the action is on the whole list: it is logged
        without an object and the operator goes back to the list.
        """
        self.require(request, permission)
        done_url = self.url("changelist") if object_id is None else self.url("change", object_id)
        form = form_class(request.POST or None, initial=initial)
        if request.method == "POST" and form.is_valid():
            try:
                message = perform(form.cleaned_data)
            except ApplicationError as exc:
                form.add_error(None, exc.message)
            else:
                reason = form.cleaned_data.get("reason")
                self.log(request, object_id, f"{message} Reason: {reason}" if reason else message)
                self.message_user(request, message, messages.SUCCESS)
                return HttpResponseRedirect(done_url)
        return self.render(
            request,
            self.confirm_template,
            {
                "title": title,
                "object_id": object_id,
                "form": form,
                "explanation": explanation,
                "submit": submit,
                "detail_url": done_url,
            },
        )

    def content_type(self) -> ContentType:
        return ContentType.objects.get_for_model(self.model, for_concrete_model=False)

    def log(self, request, object_id: str | None, message: str) -> None:
        LogEntry.objects.create(
            user_id=request.user.pk,
            content_type=self.content_type(),
            object_id=object_id,
            object_repr=object_id or self.opts.verbose_name_plural,
            action_flag=CHANGE,
            change_message=message,
        )

    def log_entries(self, object_id: str):
        return (
            LogEntry.objects.filter(content_type=self.content_type(), object_id=object_id)
            .select_related("user")
            .order_by("-action_time")[:50]
        )
