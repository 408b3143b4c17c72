from django.db import models
from django.utils import timezone

from payflow.ids import new_id


def new_merchant_id() -> str:
    return new_id("mch")


class Merchant(models.Model):
    id = models.CharField(primary_key=True, max_length=32, default=new_merchant_id, editable=False)
    name = models.CharField(max_length=200)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ("-created_at",)

    def __str__(self) -> str:
        return f"{self.name} ({self.id})"


class ApiKey(models.Model):
    """A merchant's secret key. Only its SHA-256 and a readable prefix are kept."""

    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="api_keys")
    label = models.CharField(max_length=100, blank=True)
    prefix = models.CharField(max_length=16, help_text="The key's first characters, to recognise it.")
    secret_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = "API key"
        ordering = ("-created_at",)

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.merchant.name})"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None
