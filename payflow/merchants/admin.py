from django import forms
from django.contrib import admin, messages
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.admin.utils import quote, unquote
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from payflow.balances.selectors import balances_available
from payflow.balances.services import balance_top_up
from payflow.errors import ApplicationError
from payflow.money import MoneyError, format_minor_units, normalize_currency, to_minor_units

from .models import ApiKey, Merchant
from .services import api_key_issue, api_key_revoke, merchant_save


class ApiKeyInline(admin.TabularInline):
    model = ApiKey
    fields = ("prefix", "label", "created_at", "revoked_at")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False


class TopUpForm(forms.Form):
    currency = forms.CharField(max_length=3, help_text="ISO 4217, e.g. USD.")
    amount = forms.CharField(max_length=32, help_text='In major units, e.g. "2500.00".')
    note = forms.CharField(max_length=200, help_text="Why: kept in the ledger.")

    def clean(self):
        data = super().clean()
        try:
            data["currency"] = normalize_currency(data.get("currency", ""))
            data["minor"] = to_minor_units(data.get("amount", ""), data["currency"], max_minor=10**13)
        except MoneyError as exc:
            raise forms.ValidationError(str(exc)) from None
        return data


@admin.register(Merchant)
class MerchantAdmin(admin.ModelAdmin):
    list_display = ("name", "id", "created_at")
    search_fields = ("name", "id")
    fields = (
        "id",
        "name",
        "created_at",
        "balance",
        "payments",
        "rate_limit_per_second",
        "rate_limit_burst",
        "routing_rules",
    )
    readonly_fields = ("id", "created_at", "balance", "payments")
    inlines = (ApiKeyInline,)
    actions = ("issue_api_key",)

    def save_model(self, request, obj, form, change):
        merchant_save(merchant=obj)

    @admin.display(description="Payments")
    def payments(self, merchant):
        url = reverse("admin:payments_payment_changelist") + f"?merchant={merchant.pk}"
        return format_html('<a href="{}">This merchant\'s payments</a>', url)

    @admin.display(description="Available balance")
    def balance(self, merchant):
        amounts = balances_available(merchant_id=merchant.id)
        shown = ", ".join(f"{format_minor_units(a, c)} {c}" for c, a in sorted(amounts.items())) or "none"
        url = reverse("admin:merchants_merchant_top_up", args=[quote(merchant.pk)])
        return format_html('{} — <a href="{}">top up</a>', shown, url)

    def get_urls(self):
        top_up = self.admin_site.admin_view(self.top_up_view)
        return [
            path("<path:object_id>/top-up/", top_up, name="merchants_merchant_top_up"),
            *super().get_urls(),
        ]

    def top_up_view(self, request, object_id):
        # admin_view only checks is_staff: the permission is checked here.
        if not self.has_change_permission(request):
            raise PermissionDenied
        merchant = get_object_or_404(Merchant, pk=unquote(object_id))
        form = TopUpForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                balance_top_up(
                    merchant_id=merchant.id,
                    currency=data["currency"],
                    amount=data["minor"],
                    operator=request.user.get_username(),
                    note=data["note"],
                )
            except ApplicationError as error:
                form.add_error(None, error.message)
            else:
                message = f"Credited {data['amount']} {data['currency']}: {data['note']}"
                LogEntry.objects.log_actions(
                    user_id=request.user.pk,
                    queryset=[merchant],
                    action_flag=CHANGE,
                    change_message=message,
                    single_object=True,
                )
                self.message_user(request, message, messages.SUCCESS)
                return redirect(reverse("admin:merchants_merchant_change", args=[quote(merchant.pk)]))
        balances = [
            (currency, format_minor_units(amount, currency))
            for currency, amount in sorted(balances_available(merchant_id=merchant.id).items())
        ]
        context = {
            **self.admin_site.each_context(request),
            "merchant": merchant,
            "form": form,
            "balances": balances,
            "title": "Top up",
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/merchants/top_up.html", context)

    @admin.action(description="Issue a new API key (shown once)", permissions=("change",))
    def issue_api_key(self, request, queryset):
        for merchant in queryset:
            _, secret = api_key_issue(merchant=merchant, label=f"issued by {request.user.get_username()}")
            self.message_user(
                request,
                format_html(
                    "New API key for {}: <code>{}</code> — copy it now, it is not shown again.",
                    merchant.name,
                    secret,
                ),
                messages.WARNING,
            )


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = ("prefix", "merchant", "label", "created_at", "revoked_at")
    list_filter = ("revoked_at",)
    search_fields = ("prefix", "merchant__name", "merchant__id")
    readonly_fields = ("merchant", "prefix", "created_at", "revoked_at")
    fields = ("merchant", "label", "prefix", "created_at", "revoked_at")
    actions = ("revoke",)

    def has_add_permission(self, request):
        # Keys are issued from the merchant page, where the secret can be shown once.
        return False

    @admin.action(description="Revoke the selected keys", permissions=("change",))
    def revoke(self, request, queryset):
        for key in queryset:
            api_key_revoke(key=key)
        self.message_user(request, f"Revoked {queryset.count()} key(s).", messages.SUCCESS)
