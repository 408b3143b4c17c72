"""Payout providers (sandbox): PayPal, Stripe and ACH.

Their credentials come from AWS Secrets Manager when
``PAYOUT_CREDENTIALS_SECRET`` names a secret (the emulator serves it
locally), else from ``PAYOUT_CREDENTIALS`` in the environment. They are
used to sign each payout and are never logged or returned.
"""

import hashlib
import hmac
import json
import random
import threading
from dataclasses import dataclass
from datetime import UTC, datetime

from django.conf import settings
from pynamodb.exceptions import PutError

from payflow.aws.clients import aws_client
from payflow.aws.dynamodb import condition_failed
from payflow.ids import random_token
from payments.tables import ProviderCharge

METHODS = ("paypal", "stripe", "ach")
# Outcomes a merchant can ask for with metadata["test_outcome"].
PAYOUT_TEST_OUTCOMES = frozenset({"success", "payout_declined", "ach_return"})
ACH_RETURN_CODE = "R01"  # insufficient funds at the receiving bank


class PayoutDeclined(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


class PayoutNotConfigured(Exception):
    pass


@dataclass(frozen=True)
class PayoutResult:
    reference: str
    returned: bool = False  # ACH only: the payout will come back when it settles


_credentials_lock = threading.Lock()
_credentials: dict | None = None


def payout_credentials() -> dict:
    """``{method: {"client_id": …, "secret": …}}``, read once per process."""
    global _credentials
    with _credentials_lock:
        if _credentials is None:
            if settings.PAYOUT_CREDENTIALS_SECRET:
                raw = aws_client("secretsmanager").get_secret_value(
                    SecretId=settings.PAYOUT_CREDENTIALS_SECRET
                )
                _credentials = json.loads(raw["SecretString"])
            else:
                _credentials = json.loads(settings.PAYOUT_CREDENTIALS or "{}")
        return _credentials


def payout_credentials_forget() -> None:
    """Read the credentials again on next use (after a rotation)."""
    global _credentials
    with _credentials_lock:
        _credentials = None


def payout_send(
    *,
    method: str,
    amount: int,
    currency: str,
    email: str | None,
    idempotency_key: str,
    test_outcome: str | None,
) -> PayoutResult:
    """Send a payout once per idempotency key; the provider's books remember it."""
    credentials = payout_credentials().get(method)
    if not credentials:
        raise PayoutNotConfigured(f"No credentials for the {method} payout provider.")
    signature = hmac.new(
        credentials["secret"].encode(), f"{idempotency_key}:{amount}:{currency}".encode(), hashlib.sha256
    ).hexdigest()
    outcome = "payout_declined" if test_outcome == "payout_declined" else "succeeded"
    reference = {
        "paypal": lambda: "PAYOUT-" + random_token(17).upper(),
        "stripe": lambda: "po_" + random_token(24),
        "ach": lambda: "ach_" + str(random.randint(10**14, 10**15 - 1)),
    }[method]()
    record = ProviderCharge(
        f"{method}#payout#{idempotency_key}",
        provider=f"{method}:{credentials['client_id']}",
        reference=f"{reference}:{signature[:16]}",
        outcome=outcome,
        amount=amount,
        currency=currency,
        created_at=datetime.now(UTC),
    )
    try:
        record.save(condition=ProviderCharge.key.does_not_exist())
    except PutError as exc:
        if not condition_failed(exc):
            raise
        record = ProviderCharge(record.key)
        record.update(actions=[ProviderCharge.calls.add(1)])  # reads the record back
    if record.outcome != "succeeded":
        raise PayoutDeclined(record.outcome, f"The {method} payout was declined.")
    return PayoutResult(
        reference=record.reference.split(":")[0], returned=method == "ach" and test_outcome == "ach_return"
    )
