"""Primary account numbers (card numbers): what is one.

The payments app validates card numbers with it; the log scrubber uses it to
tell a card number from any other run of digits.
"""


def luhn_valid(number: str) -> bool:
    """Whether ``number`` (ASCII digits) passes the Luhn checksum every card number carries."""
    if not (isinstance(number, str) and number.isascii() and number.isdigit()):
        return False
    total = 0
    for position, char in enumerate(reversed(number)):
        digit = int(char)
        if position % 2:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return total % 10 == 0
