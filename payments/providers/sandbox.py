"""The sandbox providers: ``mock``, ``razorpay_mock`` and ``cashfree_mock``.

They behave like real PSPs where it matters: each keeps its own books (the
``provider_charges`` table) keyed by the caller's idempotency key, has its own
reference format and latency, and answers the test cards and test outcomes
deterministically.
"""

import hashlib
import random
import time
from datetime import UTC, datetime

from django.conf import settings
from pynamodb.exceptions import PutError

from payflow.aws.dynamodb import condition_failed, item_or_none
from payflow.ids import random_token

from ..tables import ProviderCharge
from .base import (
    ChargeRequest,
    ChargeResult,
    Provider,
    ProviderDecline,
    ProviderTimeout,
    ProviderTransientError,
    ProviderUnavailable,
)

SUCCEEDED = "succeeded"

DECLINES = {
    "generic_decline": "The card was declined.",
    "insufficient_funds": "The card has insufficient funds.",
    "expired_card": "The card has expired.",
    "lost_card": "The card was reported lost.",
    "stolen_card": "The card was reported stolen.",
    "do_not_honor": "The bank declined the payment.",
}
# Outcomes a merchant can ask for with metadata["test_outcome"] (non-card types,
# or cards that are not test cards). Documented in the API reference.
TEST_OUTCOMES = frozenset(
    {"success", *DECLINES, "transient_error", "transient_then_success", "timeout", "provider_down"}
)


class SandboxProvider(Provider):
    latency_ms: tuple[int, int] = (20, 60)

    def reference(self) -> str:
        raise NotImplementedError

    def charge(self, request: ChargeRequest, *, idempotency_key: str) -> ChargeResult:
        return self._pay("charge", request, idempotency_key)

    def authorize(self, request: ChargeRequest, *, idempotency_key: str) -> ChargeResult:
        return self._pay("authorize", request, idempotency_key)

    def capture(self, *, amount: int, currency: str, idempotency_key: str) -> ChargeResult:
        self._wait()
        authorization = self._find("authorize", idempotency_key)
        if authorization is None or authorization.outcome != SUCCEEDED:
            raise ProviderDecline("There is no authorization to capture.", code="authorization_missing")
        if amount > authorization.amount:
            raise ProviderDecline("The capture exceeds the authorization.", code="amount_too_large")
        return ChargeResult(
            reference=self._book("capture", idempotency_key, amount, currency, SUCCEEDED).reference
        )

    def void(self, *, idempotency_key: str) -> None:
        self._wait()
        authorization = self._find("authorize", idempotency_key)
        amount = authorization.amount if authorization else 0
        currency = authorization.currency if authorization else "XXX"
        self._book("void", idempotency_key, amount, currency, SUCCEEDED)

    def refund(
        self, *, amount: int, currency: str, idempotency_key: str, sandbox_outcome: str | None = None
    ) -> ChargeResult:
        self._wait()
        outcome = "refund_declined" if sandbox_outcome == "refund_declined" else SUCCEEDED
        booked = self._book("refund", idempotency_key, amount, currency, outcome)
        if booked.outcome != SUCCEEDED:
            raise ProviderDecline("The provider declined the refund.", code=booked.outcome)
        return ChargeResult(reference=booked.reference)

    def _pay(self, operation: str, request: ChargeRequest, idempotency_key: str) -> ChargeResult:
        self._wait()
        outcome = request.sandbox_outcome
        if outcome == "provider_down" and request.attempt == 1:
            raise ProviderUnavailable(f"{self.name} is unavailable; nothing was processed.")
        if outcome == "transient_error" or (outcome == "transient_then_success" and request.attempt == 1):
            raise ProviderTransientError(f"{self.name} answered 503; try again.", code="provider_error")

        booked = self._book(
            operation,
            idempotency_key,
            request.amount,
            request.currency,
            self._decide(request, idempotency_key),
        )
        if outcome == "timeout" and request.attempt == 1:
            # The charge went through but the answer is lost: only the
            # idempotency key keeps the retry from charging again.
            raise ProviderTimeout(f"{self.name} did not answer in time.")
        if booked.outcome != SUCCEEDED:
            raise ProviderDecline(
                DECLINES.get(booked.outcome, "The payment was declined."), code=booked.outcome
            )
        return ChargeResult(reference=booked.reference)

    def _wait(self) -> None:
        scale = settings.PAYMENTS_PROVIDER_LATENCY_SCALE
        if scale > 0:
            time.sleep(random.uniform(*self.latency_ms) / 1000 * scale)

    def _decide(self, request: ChargeRequest, idempotency_key: str) -> str:
        outcome = request.sandbox_outcome
        if outcome in DECLINES:
            return outcome
        if outcome is not None:
            return SUCCEEDED
        # Random by the configured success rate, but fixed per key.
        draw = int(hashlib.sha256(idempotency_key.encode()).hexdigest()[:8], 16) / 0xFFFFFFFF
        return SUCCEEDED if draw < settings.PAYMENTS_SANDBOX_SUCCESS_RATE else "do_not_honor"

    def _find(self, operation: str, idempotency_key: str) -> ProviderCharge | None:
        return item_or_none(ProviderCharge, f"{self.name}#{operation}#{idempotency_key}", consistent=True)

    def _book(
        self, operation: str, idempotency_key: str, amount: int, currency: str, outcome: str
    ) -> ProviderCharge:
        """Record the operation once per key; a repeat gets the first record back."""
        key = f"{self.name}#{operation}#{idempotency_key}"
        record = ProviderCharge(
            key,
            provider=self.name,
            reference=self.reference(),
            outcome=outcome,
            amount=amount,
            currency=currency,
            created_at=datetime.now(UTC),
        )
        try:
            record.save(condition=ProviderCharge.key.does_not_exist())
        except PutError as exc:
            if not condition_failed(exc):
                raise ProviderTimeout(f"{self.name} could not be reached.") from exc
            record = ProviderCharge(key)
            record.update(actions=[ProviderCharge.calls.add(1)])  # reads the record back
            if (record.amount, record.currency) != (amount, currency):
                raise ProviderDecline(
                    "The idempotency key was used for another amount.", code="idempotency_mismatch"
                ) from exc
        return record


class MockProvider(SandboxProvider):
    name = "mock"
    latency_ms = (20, 60)

    def reference(self) -> str:
        return "mock_" + random_token(20)


class RazorpayMockProvider(SandboxProvider):
    name = "razorpay_mock"
    latency_ms = (40, 120)

    def reference(self) -> str:
        return "pay_" + random_token(14)


class CashfreeMockProvider(SandboxProvider):
    name = "cashfree_mock"
    latency_ms = (60, 180)

    def reference(self) -> str:
        return str(random.randint(10**9, 10**10 - 1))


PROVIDERS: dict[str, Provider] = {
    provider.name: provider for provider in (MockProvider(), RazorpayMockProvider(), CashfreeMockProvider())
}


def provider_get(name: str) -> Provider:
    return PROVIDERS[name]
