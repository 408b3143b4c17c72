import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from payments.routing import payment_route

RULES = [
    {"name": "upi-to-razorpay", "provider": "razorpay_mock", "types": ["upi"]},
    {"name": "mid-value", "provider": "cashfree_mock", "min_amount": "100", "max_amount": "1000"},
]


@pytest.fixture
def rules(settings):
    settings.PAYMENTS_ROUTING_RULES = RULES


@pytest.mark.parametrize(
    ("amount", "currency", "payment_type", "provider", "rule"),
    [
        (5000, "USD", "upi", "razorpay_mock", "upi-to-razorpay"),
        (10000, "USD", "eft", "cashfree_mock", "mid-value"),
        (99999, "USD", "eft", "cashfree_mock", "mid-value"),
        (100000, "USD", "eft", "mock", "default"),
        (9999, "USD", "eft", "mock", "default"),
        (100, "JPY", "eft", "cashfree_mock", "mid-value"),
    ],
)
def test_the_first_matching_rule_picks_the_provider(rules, amount, currency, payment_type, provider, rule):
    decision = payment_route(amount=amount, currency=currency, payment_type=payment_type)
    assert (decision.provider, decision.rule) == (provider, rule)
    assert provider not in decision.fallbacks


def test_the_decision_says_why(rules):
    decision = payment_route(amount=10000, currency="USD", payment_type="eft")
    assert decision.reason == "amount 100.00 is at least 100; amount 100.00 is below 1000"
    assert decision.fallbacks == ["mock", "razorpay_mock"]


def test_an_unknown_provider_in_the_rules_stops_start_up(settings):
    settings.PAYMENTS_ROUTING_RULES = [{"name": "typo", "provider": "stripe_mock"}]
    with pytest.raises(SystemCheckError, match="stripe_mock"):
        call_command("check")
