"""Rule-based provider routing.

Rules are data: the merchant's own (set by operators), then
``PAYMENTS_ROUTING_RULES``; the first rule whose conditions all hold picks the
provider; otherwise ``PAYMENTS_DEFAULT_PROVIDER``. The other
providers of ``PAYMENTS_PROVIDER_FALLBACKS`` follow in order, for when the
chosen one is definitely unavailable. The decision is stored on the payment.
"""

from dataclasses import asdict, dataclass
from decimal import Decimal

from django.conf import settings
from django.core.checks import Error, register

from payflow.money import format_minor_units

from .providers import PROVIDERS


@dataclass(frozen=True)
class RoutingDecision:
    provider: str
    rule: str
    reason: str
    fallbacks: list[str]

    def as_dict(self) -> dict:
        return asdict(self)


def _matches(rule: dict, *, amount: Decimal, currency: str, payment_type: str) -> str | None:
    """Why the rule matches, or None."""
    reasons = []
    if "currencies" in rule:
        if currency not in rule["currencies"]:
            return None
        reasons.append(f"currency {currency} is one of {', '.join(rule['currencies'])}")
    if "types" in rule:
        if payment_type not in rule["types"]:
            return None
        reasons.append(f"type {payment_type} is one of {', '.join(rule['types'])}")
    if "min_amount" in rule:
        if amount < Decimal(rule["min_amount"]):
            return None
        reasons.append(f"amount {amount} is at least {rule['min_amount']}")
    if "max_amount" in rule:
        if amount >= Decimal(rule["max_amount"]):
            return None
        reasons.append(f"amount {amount} is below {rule['max_amount']}")
    return "; ".join(reasons)


def payment_route(
    *, amount: int, currency: str, payment_type: str, merchant_rules: list[dict] = ()
) -> RoutingDecision:
    major = Decimal(format_minor_units(amount, currency))
    chosen, rule_name, reason = settings.PAYMENTS_DEFAULT_PROVIDER, "default", "no rule matched"
    rules = [(rule, "merchant rule: ") for rule in merchant_rules]
    rules += [(rule, "") for rule in settings.PAYMENTS_ROUTING_RULES]
    for rule, source in rules:
        why = _matches(rule, amount=major, currency=currency, payment_type=payment_type)
        if why is not None:
            chosen, rule_name, reason = rule["provider"], rule["name"], source + (why or "matches everything")
            break
    fallbacks = [name for name in settings.PAYMENTS_PROVIDER_FALLBACKS if name != chosen]
    return RoutingDecision(provider=chosen, rule=rule_name, reason=reason, fallbacks=fallbacks)


@register()
def check_routing_settings(app_configs, **kwargs):
    named = [settings.PAYMENTS_DEFAULT_PROVIDER, *settings.PAYMENTS_PROVIDER_FALLBACKS]
    named += [rule.get("provider") for rule in settings.PAYMENTS_ROUTING_RULES]
    return [
        Error(f"Routing names an unknown payment provider: {name!r}.", id="payments.E001")
        for name in dict.fromkeys(named)
        if name not in PROVIDERS
    ]
