"""Money: integer minor units inside, plain decimal strings on the wire, never a float."""

import re
from decimal import MAX_EMAX, MAX_PREC, MIN_EMIN, ROUND_HALF_EVEN, Context, Decimal

from django.conf import settings

from payflow.errors import ApplicationError, ErrorCode

# Active ISO 4217 codes (list one) without funds, precious metals, units of account and test codes.
# BGN is left out: Bulgaria has paid in euro since 2026-01-01.
_TWO_DECIMAL = """
    AED AFN ALL AMD AOA ARS AUD AWG AZN BAM BBD BDT BMD BND BOB BRL BSD BTN BWP BYN BZD CAD CDF
    CHF CNY COP CRC CUP CVE CZK DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD GTQ GYD HKD
    HNL HTG HUF IDR ILS INR IRR JMD KES KGS KHR KPW KYD KZT LAK LBP LKR LRD LSL MAD MDL MKD MMK MNT
    MOP MRU MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD PAB PEN PGK PHP PKR PLN QAR RON RSD RUB
    SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT TOP TRY TTD TWD TZS UAH
    USD UYU UZS VED VES WST XCD XCG YER ZAR ZMW ZWG
"""
# The card networks' zero-decimal set, which is what providers accept; ISO gives MGA two decimals.
_ZERO_DECIMAL = "BIF CLP DJF GNF ISK JPY KMF KRW MGA PYG RWF UGX VND VUV XAF XOF XPF"
_THREE_DECIMAL = "BHD IQD JOD KWD LYD OMR TND"

CURRENCY_EXPONENTS: dict[str, int] = {
    **dict.fromkeys(_TWO_DECIMAL.split(), 2),
    **dict.fromkeys(_ZERO_DECIMAL.split(), 0),
    **dict.fromkeys(_THREE_DECIMAL.split(), 3),
}

_PLAIN_DECIMAL = re.compile(r"[0-9]+(\.[0-9]+)?")
_MAX_AMOUNT_CHARS = 30
# The default context rounds to 28 digits; an amount must never be rounded without anyone noticing.
_EXACT = Context(prec=MAX_PREC, Emax=MAX_EMAX, Emin=MIN_EMIN)


class MoneyError(ValueError):
    """An amount or currency a client sent that PayFlow cannot accept; the message is safe to show."""


def normalize_currency(value: object) -> str:
    if not (isinstance(value, str) and len(value) == 3 and value.isascii() and value.isalpha()):
        raise MoneyError("Currency must be a three-letter ISO 4217 code.")
    return value.upper()


def currency_exponent(currency: str) -> int:
    code = normalize_currency(currency)
    try:
        return CURRENCY_EXPONENTS[code]
    except KeyError:
        raise MoneyError(f"Unknown currency '{code}'.") from None


def _parse_amount(amount: object) -> Decimal:
    if isinstance(amount, float):
        raise MoneyError("Amount must be a decimal string such as '250.00', never a float.")
    if isinstance(amount, str):
        if len(amount) > _MAX_AMOUNT_CHARS or not _PLAIN_DECIMAL.fullmatch(amount):
            raise MoneyError("Amount must be a plain decimal string such as '250.00'.")
        return Decimal(amount)
    if isinstance(amount, int) and not isinstance(amount, bool):
        return Decimal(amount)
    if isinstance(amount, Decimal) and amount.is_finite():
        return amount
    raise MoneyError("Amount must be a decimal string such as '250.00' or an integer.")


def to_minor_units(amount: object, currency: str, *, max_minor: int) -> int:
    """The exact integer minor units of ``amount`` (a decimal string, int or Decimal) in ``currency``."""
    code = normalize_currency(currency)
    exponent = currency_exponent(code)
    value = _parse_amount(amount)
    if value <= 0:
        raise MoneyError("Amount must be greater than zero.")
    minor = value.scaleb(exponent, context=_EXACT)
    if minor != minor.to_integral_value(context=_EXACT):
        if exponent == 0:
            raise MoneyError(f"{code} amounts have no decimal places.")
        raise MoneyError(f"{code} amounts have at most {exponent} decimal places.")
    if minor > max_minor:
        raise MoneyError(f"Amount exceeds the maximum of {format_minor_units(max_minor, code)} {code}.")
    return int(minor)


def format_minor_units(minor: int, currency: str) -> str:
    """The wire form of ``minor`` units: "250.00" CAD, "250" JPY, "-1.500" KWD."""
    exponent = currency_exponent(currency)
    sign = "-" if minor < 0 else ""
    major, fraction = divmod(abs(minor), 10**exponent)
    if exponent == 0:
        return f"{sign}{major}"
    return f"{sign}{major}.{fraction:0{exponent}d}"


def round_half_even_minor(value: Decimal) -> int:
    """Round a computed amount in minor units (a fee, a split) to a whole unit, banker's rounding."""
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_EVEN, context=_EXACT))


def amount_to_minor(amount: object, currency: str, *, param: str = "amount") -> int:
    """``to_minor_units`` for request input: a bad amount is a 400 naming ``param``."""
    try:
        return to_minor_units(amount, currency, max_minor=settings.PAYMENTS_MAX_AMOUNT_MINOR)
    except MoneyError as exc:
        raise ApplicationError(ErrorCode.INVALID_REQUEST, f"{param}: {exc}", param=param) from None
