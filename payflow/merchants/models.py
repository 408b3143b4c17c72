from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone

from payflow.ids import new_id


def new_merchant_id() -> str:
    return new_id("mch")


RULE_KEYS = {"name", "provider", "currencies", "types", "min_amount", "max_amount"}


def validate_routing_rules(rules) -> None:
    """Rules in the form of PAYMENTS_ROUTING_RULES, naming configured providers only."""
    if not isinstance(rules, list):
        raise ValidationError("Routing rules are a JSON list of rules.")
    providers = {settings.PAYMENTS_DEFAULT_PROVIDER, *settings.PAYMENTS_PROVIDER_FALLBACKS}
    for number, rule in enumerate(rules, start=1):
        if not isinstance(rule, dict) or not {"name", "provider"} <= rule.keys():
            raise ValidationError(f"Rule {number} needs a name and a provider.")
        if unknown := rule.keys() - RULE_KEYS:
            raise ValidationError(f"Rule {number} has unknown keys: {', '.join(sorted(unknown))}.")
        if rule["provider"] not in providers:
            known = ", ".join(sorted(providers))
            raise ValidationError(f"Rule {number} names {rule['provider']!r}; configured providers: {known}.")
        for key in ("currencies", "types"):
            if key in rule and not (
                isinstance(rule[key], list) and rule[key] and all(isinstance(v, str) for v in rule[key])
            ):
                raise ValidationError(f"Rule {number}: {key} is a non-empty list of strings.")
        for key in ("min_amount", "max_amount"):
            if key in rule and not _is_decimal_string(rule[key]):
                raise ValidationError(f"Rule {number}: {key} is a decimal string such as '100.00'.")


def _is_decimal_string(value) -> bool:
    try:
        return isinstance(value, str) and Decimal(value).is_finite()
    except InvalidOperation:
        return False


class Merchant(models.Model):
    id = models.CharField(primary_key=True, max_length=32, default=new_merchant_id, editable=False)
    name = models.CharField(max_length=200)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    routing_rules = models.JSONField(
        default=list,
        blank=True,
        validators=[validate_routing_rules],
        help_text=(
            "Tried before the platform's rules, first match wins. Example: "
            '[{"name": "eur-cards", "provider": "cashfree_mock", "currencies": ["EUR"], '
            '"types": ["card"], "min_amount": "10.00", "max_amount": "5000.00"}]'
        ),
    )
    rate_limit_per_second = models.PositiveIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(100_000)],
        help_text="Requests per second each of its API keys may sustain. Empty: the platform's default.",
    )
    rate_limit_burst = models.PositiveIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(1_000_000)],
        help_text="Requests each key may send at once. Empty: the platform's default.",
    )

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
