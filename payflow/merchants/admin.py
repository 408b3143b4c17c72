from django.contrib import admin, messages
from django.utils.html import format_html

from .models import ApiKey, Merchant
from .services import api_key_issue, api_key_revoke


class ApiKeyInline(admin.TabularInline):
    model = ApiKey
    fields = ("prefix", "label", "created_at", "revoked_at")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Merchant)
class MerchantAdmin(admin.ModelAdmin):
    list_display = ("name", "id", "created_at")
    search_fields = ("name", "id")
    readonly_fields = ("id", "created_at")
    inlines = (ApiKeyInline,)
    actions = ("issue_api_key",)

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
