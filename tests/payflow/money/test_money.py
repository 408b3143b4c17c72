from decimal import Decimal

import pytest

from payflow.money import (
    CURRENCY_EXPONENTS,
    MoneyError,
    currency_exponent,
    format_minor_units,
    normalize_currency,
    round_half_even_minor,
    to_minor_units,
)

MAX = 99_999_999
ZERO_DECIMAL = [
    "BIF",
    "CLP",
    "DJF",
    "GNF",
    "ISK",
    "JPY",
    "KMF",
    "KRW",
    "MGA",
    "PYG",
    "RWF",
    "UGX",
    "VND",
    "VUV",
    "XAF",
    "XOF",
    "XPF",
]
THREE_DECIMAL = ["BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"]


@pytest.mark.parametrize(
    ("amount", "currency", "minor", "wire"),
    [
        ("250.00", "CAD", 25000, "250.00"),
        ("250", "CAD", 25000, "250.00"),
        ("0.01", "USD", 1, "0.01"),
        ("19.9", "EUR", 1990, "19.90"),
        ("250", "JPY", 250, "250"),
        ("250.00", "JPY", 250, "250"),
        ("1.5", "KWD", 1500, "1.500"),
        ("0.001", "BHD", 1, "0.001"),
        ("1.230000", "USD", 123, "1.23"),
        (250, "USD", 25000, "250.00"),
        (Decimal("19.99"), "USD", 1999, "19.99"),
        (Decimal("1E+2"), "JPY", 100, "100"),
    ],
)
def test_amounts_convert_to_exact_minor_units_and_back(amount, currency, minor, wire):
    assert to_minor_units(amount, currency, max_minor=MAX) == minor
    assert format_minor_units(minor, currency) == wire


def test_currency_codes_are_matched_case_insensitively_and_stored_upper_case():
    assert normalize_currency("cad") == "CAD"
    assert currency_exponent("jpy") == 0
    assert to_minor_units("1.00", "usd", max_minor=MAX) == 100


@pytest.mark.parametrize("amount", [250.0, 0.1, 1e3, float("nan")])
def test_floats_are_refused(amount):
    with pytest.raises(MoneyError, match="never a float"):
        to_minor_units(amount, "USD", max_minor=MAX)


@pytest.mark.parametrize("amount", [True, False])
def test_booleans_are_refused(amount):
    with pytest.raises(MoneyError, match="decimal string"):
        to_minor_units(amount, "USD", max_minor=MAX)


@pytest.mark.parametrize(
    "amount",
    ["", " 1", "1 ", "1.", ".5", "-1", "+1", "1e2", "1,00", "1.0\n", "١٢", "0x10", "1" * 31, None, [1]],
)
def test_malformed_amounts_are_refused(amount):
    with pytest.raises(MoneyError, match="decimal string"):
        to_minor_units(amount, "USD", max_minor=MAX)


@pytest.mark.parametrize(
    "amount", [Decimal("NaN"), Decimal("Infinity"), Decimal("-Infinity"), Decimal("sNaN")]
)
def test_non_finite_decimals_are_refused(amount):
    with pytest.raises(MoneyError, match="decimal string"):
        to_minor_units(amount, "USD", max_minor=MAX)


@pytest.mark.parametrize("amount", ["0", "0.00", 0, -5, Decimal("-1.00"), Decimal("-0")])
def test_zero_and_negative_amounts_are_refused(amount):
    with pytest.raises(MoneyError, match=r"^Amount must be greater than zero\.$"):
        to_minor_units(amount, "USD", max_minor=MAX)


@pytest.mark.parametrize(
    ("amount", "currency", "message"),
    [
        ("250.5", "JPY", "JPY amounts have no decimal places."),
        ("0.1", "KRW", "KRW amounts have no decimal places."),
        ("1.234", "USD", "USD amounts have at most 2 decimal places."),
        ("1.2345", "KWD", "KWD amounts have at most 3 decimal places."),
        (Decimal("100.5"), "JPY", "JPY amounts have no decimal places."),
        # More digits than the default decimal context keeps: must not be rounded into a valid amount.
        (Decimal("1.000000000000000000000000000000001"), "USD", "USD amounts have at most 2 decimal places."),
    ],
)
def test_more_decimals_than_the_currency_has_are_refused_naming_the_currency(amount, currency, message):
    with pytest.raises(MoneyError) as caught:
        to_minor_units(amount, currency, max_minor=MAX)
    assert str(caught.value) == message


@pytest.mark.parametrize(
    "currency", ["XYZ", "xts", "XXX", "XAU", "XAG", "XPD", "XPT", "BOV", "CHE", "XDR", "HRK"]
)
def test_unknown_currencies_are_refused(currency):
    with pytest.raises(MoneyError) as caught:
        to_minor_units("1.00", currency, max_minor=MAX)
    assert str(caught.value) == f"Unknown currency '{currency.upper()}'."


@pytest.mark.parametrize("currency", ["US", "USDD", "", "U$D", "ÜSD", 840, None, "X" * 10_000])
def test_currency_must_be_three_letters(currency):
    with pytest.raises(MoneyError, match=r"^Currency must be a three-letter ISO 4217 code\.$"):
        normalize_currency(currency)


def test_amounts_up_to_the_maximum_are_accepted():
    assert to_minor_units("999.99", "USD", max_minor=99_999) == 99_999


@pytest.mark.parametrize(
    ("amount", "currency", "max_minor", "message"),
    [
        ("1000.00", "USD", 99_999, "Amount exceeds the maximum of 999.99 USD."),
        ("1000000", "JPY", 999_999, "Amount exceeds the maximum of 999999 JPY."),
        ("10", "KWD", 9_999, "Amount exceeds the maximum of 9.999 KWD."),
        (10**100, "USD", MAX, "Amount exceeds the maximum of 999999.99 USD."),
        (Decimal("1E+999999999"), "USD", MAX, "Amount exceeds the maximum of 999999.99 USD."),
    ],
)
def test_amounts_above_the_maximum_are_refused(amount, currency, max_minor, message):
    with pytest.raises(MoneyError) as caught:
        to_minor_units(amount, currency, max_minor=max_minor)
    assert str(caught.value) == message


@pytest.mark.parametrize("amount", ["9" * 10_000, "1." + "5" * 10_000, "x" * 10_000])
def test_error_messages_never_echo_huge_input(amount):
    with pytest.raises(MoneyError) as caught:
        to_minor_units(amount, "USD", max_minor=MAX)
    assert len(str(caught.value)) < 100


@pytest.mark.parametrize("currency", ZERO_DECIMAL)
def test_zero_decimal_currencies(currency):
    assert currency_exponent(currency) == 0


@pytest.mark.parametrize("currency", THREE_DECIMAL)
def test_three_decimal_currencies(currency):
    assert currency_exponent(currency) == 3


@pytest.mark.parametrize(
    "currency", ["USD", "EUR", "GBP", "CAD", "ZWG", "VES", "VED", "SLE", "MRU", "STN", "XCG"]
)
def test_current_two_decimal_currencies(currency):
    assert currency_exponent(currency) == 2


def test_the_currency_list_holds_every_active_code_and_nothing_else():
    assert len(CURRENCY_EXPONENTS) == 155
    assert all(len(code) == 3 and code.isupper() for code in CURRENCY_EXPONENTS)
    assert set(CURRENCY_EXPONENTS.values()) == {0, 2, 3}
    assert {code for code, exponent in CURRENCY_EXPONENTS.items() if exponent != 2} == {
        *ZERO_DECIMAL,
        *THREE_DECIMAL,
    }


@pytest.mark.parametrize("currency", sorted(CURRENCY_EXPONENTS))
def test_every_currency_round_trips(currency):
    for minor in (1, 5, 10, 99, 100, 101, 999, 1000, 25_000, 123_456, 10_000_000, MAX):
        wire = format_minor_units(minor, currency)
        assert to_minor_units(wire, currency, max_minor=MAX) == minor


@pytest.mark.parametrize(
    ("minor", "currency", "wire"),
    [
        (0, "USD", "0.00"),
        (5, "USD", "0.05"),
        (-5, "USD", "-0.05"),
        (-25000, "CAD", "-250.00"),
        (-250, "JPY", "-250"),
        (5, "KWD", "0.005"),
        (-1500, "KWD", "-1.500"),
        (10**30, "USD", "10000000000000000000000000000.00"),
    ],
)
def test_format_minor_units(minor, currency, wire):
    assert format_minor_units(minor, currency) == wire


@pytest.mark.parametrize(
    ("value", "rounded"),
    [
        ("0.5", 0),
        ("1.5", 2),
        ("2.5", 2),
        ("2.4999", 2),
        ("2.5001", 3),
        ("-0.5", 0),
        ("-1.5", -2),
        ("-2.6", -3),
        ("7", 7),
        ("12345678901234567890123456789.5", 12345678901234567890123456790),
    ],
)
def test_round_half_even_minor(value, rounded):
    assert round_half_even_minor(Decimal(value)) == rounded
