"""Card intake: check a card and keep its brand, last4, expiry and a keyed fingerprint, never the number."""

import base64
import dataclasses
import hashlib
import hmac
from datetime import UTC, datetime

from payflow.pan import luhn_valid

TEST_CARD_OUTCOMES: dict[str, str] = {
    "4242424242424242": "success",
    "4000000000000002": "generic_decline",
    "4000000000009995": "insufficient_funds",
    "4000000000000069": "expired_card",
    "4000000000009987": "lost_card",
    "4000000000009979": "stolen_card",
}

# (brand, lowest prefix, highest prefix): equal-length digit strings compare like the numbers they spell.
_BRAND_PREFIX_RANGES: tuple[tuple[str, str, str], ...] = (
    ("visa", "4", "4"),
    ("mastercard", "51", "55"),
    ("mastercard", "2221", "2720"),
    ("amex", "34", "34"),
    ("amex", "37", "37"),
    ("discover", "6011", "6011"),
    ("discover", "644", "649"),
    ("discover", "65", "65"),
    ("jcb", "3528", "3589"),
    ("diners", "300", "305"),
    ("diners", "36", "36"),
    ("diners", "38", "39"),
    ("unionpay", "62", "62"),
)

_SEPARATORS = str.maketrans("", "", " -")


@dataclasses.dataclass(frozen=True)
class CardDetails:
    brand: str
    last4: str
    exp_month: int
    exp_year: int
    fingerprint: str

    def as_dict(self) -> dict[str, str | int]:
        return dataclasses.asdict(self)


class CardError(ValueError):
    """A card field a client got wrong. The message never repeats the number or the CVC."""

    def __init__(self, message: str, *, param: str) -> None:
        super().__init__(message)
        self.message = message
        self.param = param


def _is_ascii_digits(value: object) -> bool:
    return isinstance(value, str) and value.isascii() and value.isdigit()


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def card_brand(number: str) -> str:
    for brand, low, high in _BRAND_PREFIX_RANGES:
        prefix = number[: len(low)]
        if len(prefix) == len(low) and _is_ascii_digits(prefix) and low <= prefix <= high:
            return brand
    return "unknown"


def card_fingerprint(number: str, *, fingerprint_key: bytes) -> str:
    """The same card gives the same 16 characters under one key; without the key they reveal nothing."""
    if not fingerprint_key:
        raise ValueError("fingerprint_key must not be empty.")
    digest = hmac.new(fingerprint_key, number.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:12]).decode()


def _has_expired(*, exp_month: int, exp_year: int) -> bool:
    # A card is good through the last moment of its expiry month.
    now = datetime.now(UTC)
    return (now.year, now.month) > (exp_year, exp_month)


def card_intake(
    *, number: str, exp_month: int, exp_year: int, cvc: str, fingerprint_key: bytes
) -> tuple[CardDetails, str | None]:
    """Check a card and return what may be stored, plus the sandbox outcome its number or expiry forces.

    A past expiry is not an intake error: the provider declines such a card as ``expired_card``.
    """
    digits = number.translate(_SEPARATORS) if isinstance(number, str) else ""
    if not (12 <= len(digits) <= 19 and luhn_valid(digits)):
        raise CardError("The card number is not a valid card number.", param="card[number]")
    if not (_is_int(exp_month) and 1 <= exp_month <= 12):
        raise CardError("The card's expiration month must be between 1 and 12.", param="card[exp_month]")
    if not (_is_int(exp_year) and 2000 <= exp_year <= 2100):
        raise CardError(
            "The card's expiration year must be four digits, between 2000 and 2100.", param="card[exp_year]"
        )
    brand = card_brand(digits)
    cvc_length = 4 if brand == "amex" else 3
    if not (_is_ascii_digits(cvc) and len(cvc) == cvc_length):
        raise CardError(f"The card's security code must be {cvc_length} digits.", param="card[cvc]")

    details = CardDetails(
        brand=brand,
        last4=digits[-4:],
        exp_month=exp_month,
        exp_year=exp_year,
        fingerprint=card_fingerprint(digits, fingerprint_key=fingerprint_key),
    )
    outcome = TEST_CARD_OUTCOMES.get(digits)
    if outcome in (None, "success") and _has_expired(exp_month=exp_month, exp_year=exp_year):
        outcome = "expired_card"
    return details, outcome
