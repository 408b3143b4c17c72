import re
from datetime import UTC, datetime

import pytest

from payflow.pan import luhn_valid
from payments.cards import (
    TEST_CARD_OUTCOMES,
    CardDetails,
    CardError,
    card_brand,
    card_intake,
)

KEY = b"test-fingerprint-key"
FUTURE_YEAR = datetime.now(UTC).year + 3


def intake(number="4242424242424242", *, exp_month=12, exp_year=FUTURE_YEAR, cvc="123", key=KEY):
    return card_intake(number=number, exp_month=exp_month, exp_year=exp_year, cvc=cvc, fingerprint_key=key)


@pytest.mark.parametrize(
    ("number", "outcome"),
    [
        ("4242424242424242", "success"),
        ("4000000000000002", "generic_decline"),
        ("4000000000009995", "insufficient_funds"),
        ("4000000000000069", "expired_card"),
        ("4000000000009987", "lost_card"),
        ("4000000000009979", "stolen_card"),
    ],
)
def test_test_cards_drive_sandbox_outcomes(number, outcome):
    details, sandbox_outcome = intake(number)
    assert sandbox_outcome == outcome
    assert details.brand == "visa"
    assert details.last4 == number[-4:]


def test_every_test_card_is_a_valid_card_number():
    assert all(luhn_valid(number) for number in TEST_CARD_OUTCOMES)


def test_an_ordinary_card_has_no_sandbox_outcome():
    details, outcome = intake("5555555555554444")
    assert outcome is None
    assert details == CardDetails(
        brand="mastercard",
        last4="4444",
        exp_month=12,
        exp_year=FUTURE_YEAR,
        fingerprint=details.fingerprint,
    )


@pytest.mark.parametrize("number", ["4242 4242 4242 4242", "4242-4242-4242-4242", " 4242424242424242 "])
def test_spaces_and_dashes_in_the_number_are_ignored(number):
    assert intake(number) == intake("4242424242424242")


def test_stored_details_hold_no_card_number():
    details, _ = intake()
    stored = details.as_dict()
    assert set(stored) == {"brand", "last4", "exp_month", "exp_year", "fingerprint"}
    assert stored["last4"] == "4242" and stored["brand"] == "visa"
    assert "4242424242424242" not in repr(stored)
    assert not any("42424242" in str(value) for value in stored.values())


@pytest.mark.parametrize(
    ("number", "brand"),
    [
        ("4242424242424242", "visa"),
        ("5105105105105100", "mastercard"),
        ("5555555555554444", "mastercard"),
        ("2221000000000009", "mastercard"),
        ("2720990000000000", "mastercard"),
        ("378282246310005", "amex"),
        ("341111111111111", "amex"),
        ("6011111111111117", "discover"),
        ("6445644564456445", "discover"),
        ("6500000000000002", "discover"),
        ("3528000000000000", "jcb"),
        ("3566002020360505", "jcb"),
        ("3589000000000000", "jcb"),
        ("30569309025904", "diners"),
        ("30000000000004", "diners"),
        ("36227206271667", "diners"),
        ("38520000023237", "diners"),
        ("39000000000000", "diners"),
        ("6200000000000005", "unionpay"),
        ("2220990000000000", "unknown"),
        ("2721000000000000", "unknown"),
        ("3527000000000000", "unknown"),
        ("3590000000000000", "unknown"),
        ("3060000000000000", "unknown"),
        ("6430000000000000", "unknown"),
        ("5600000000000000", "unknown"),
        ("1234567812345678", "unknown"),
        ("", "unknown"),
    ],
)
def test_card_brand(number, brand):
    assert card_brand(number) == brand


@pytest.mark.parametrize("number", ["4242424242424242", "79927398713", "0", "378282246310005"])
def test_luhn_accepts_valid_numbers(number):
    assert luhn_valid(number)


@pytest.mark.parametrize(
    "number", ["4242424242424241", "4242424242424243", "", "abc", "4242 4242 4242 4242", "٤٢٤٢٤٢٤٢٤٢٤٢٤٢٤٢"]
)
def test_luhn_rejects_invalid_numbers(number):
    assert not luhn_valid(number)


@pytest.mark.parametrize("number", ["424242424242", "4242424242424242428"])
def test_card_numbers_of_12_to_19_digits_are_accepted(number):
    details, outcome = intake(number)
    assert (details.last4, outcome) == (number[-4:], None)


@pytest.mark.parametrize(
    "number",
    [
        "4242424242424241",  # fails Luhn
        "42424242420",  # 11 digits, passes Luhn
        "42424242424242424242",  # 20 digits, passes Luhn
        "4242x42424242424",
        "",
        "٤٢٤٢٤٢٤٢٤٢٤٢٤٢٤٢",
        None,
    ],
)
def test_invalid_card_numbers_are_refused(number):
    with pytest.raises(CardError) as caught:
        intake(number)
    assert caught.value.param == "card[number]"
    assert str(caught.value) == "The card number is not a valid card number."


@pytest.mark.parametrize("exp_month", [0, 13, -1, True, "12", 12.0, None])
def test_expiry_month_must_be_1_to_12(exp_month):
    with pytest.raises(CardError) as caught:
        intake(exp_month=exp_month)
    assert caught.value.param == "card[exp_month]"


@pytest.mark.parametrize("exp_year", [26, 99, 0, 1999, 2101, 20300, "2030", True])
def test_expiry_year_must_have_four_digits(exp_year):
    with pytest.raises(CardError) as caught:
        intake(exp_year=exp_year)
    assert caught.value.param == "card[exp_year]"


@pytest.mark.parametrize(("number", "cvc"), [("378282246310005", "1234"), ("4242424242424242", "123")])
def test_security_code_length_follows_the_brand(number, cvc):
    details, _ = intake(number, cvc=cvc)
    assert details.last4 == number[-4:]


@pytest.mark.parametrize(
    ("number", "cvc", "message"),
    [
        ("378282246310005", "123", "The card's security code must be 4 digits."),
        ("4242424242424242", "1234", "The card's security code must be 3 digits."),
        ("4242424242424242", "12a", "The card's security code must be 3 digits."),
        ("4242424242424242", "", "The card's security code must be 3 digits."),
        ("4242424242424242", "١٢٣", "The card's security code must be 3 digits."),
    ],
)
def test_wrong_security_codes_are_refused(number, cvc, message):
    with pytest.raises(CardError) as caught:
        intake(number, cvc=cvc)
    assert caught.value.param == "card[cvc]"
    assert str(caught.value) == message


@pytest.mark.parametrize(
    "fields",
    [
        {"number": "4242424242424241"},
        {"number": "4242 4242 4242 4241"},
        {"number": "4242424242424242", "exp_month": 13},
        {"number": "4242424242424242", "exp_year": 30},
        {"number": "4242424242424242", "cvc": "98765"},
        {"number": "4242424242424242", "cvc": "98"},
        {"number": "378282246310005", "cvc": "987"},
    ],
)
def test_no_error_message_repeats_the_card_number_or_security_code(fields):
    with pytest.raises(CardError) as caught:
        intake(**fields)
    shown = f"{caught.value} {caught.value.args} {caught.value.message}"
    digits = re.sub(r"\D", "", fields["number"])
    assert digits not in shown
    assert digits[-4:] not in shown
    assert fields.get("cvc", "123") not in shown


def test_a_past_expiry_is_accepted_and_declined_as_expired():
    details, outcome = intake("5555555555554444", exp_month=1, exp_year=2020)
    assert outcome == "expired_card"
    assert (details.exp_month, details.exp_year) == (1, 2020)


def test_a_past_expiry_overrides_the_success_test_card_only():
    assert intake("4242424242424242", exp_month=12, exp_year=2000)[1] == "expired_card"
    assert intake("4000000000000002", exp_month=12, exp_year=2000)[1] == "generic_decline"
    assert intake("4000000000009979", exp_month=12, exp_year=2000)[1] == "stolen_card"


def test_a_card_is_good_through_its_expiry_month():
    now = datetime.now(UTC)
    assert intake(exp_month=now.month, exp_year=now.year)[1] == "success"
    last_month = (now.year, now.month - 1) if now.month > 1 else (now.year - 1, 12)
    assert intake(exp_month=last_month[1], exp_year=last_month[0])[1] == "expired_card"


def test_the_fingerprint_is_stable_for_a_card_and_key():
    first, _ = intake("4242 4242 4242 4242", exp_month=1, cvc="111")
    second, _ = intake("4242424242424242", exp_month=6, cvc="999")
    assert first.fingerprint == second.fingerprint
    assert len(first.fingerprint) == 16
    assert re.fullmatch(r"[A-Za-z0-9_-]{16}", first.fingerprint)


def test_the_fingerprint_depends_on_the_key_and_the_card():
    base = intake()[0].fingerprint
    assert intake(key=b"another-key")[0].fingerprint != base
    assert intake("4000000000000002")[0].fingerprint != base


def test_an_empty_fingerprint_key_is_a_configuration_error():
    with pytest.raises(ValueError, match="fingerprint_key"):
        intake(key=b"")
