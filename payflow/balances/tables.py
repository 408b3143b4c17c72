"""Merchant balances and the ledger that explains them.

- a merchant's available money, per currency .... balances: merchant_id, currency
- every movement of it, oldest first ............ ledger: account, at_key
Ledger rows have no TTL: they are the books.
"""

from pynamodb.attributes import NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.models import Model

from payflow.aws.dynamodb import table


@table("balances")
class Balance(Model):
    class Meta:
        pass

    merchant_id = UnicodeAttribute(hash_key=True)
    currency = UnicodeAttribute(range_key=True)
    available = NumberAttribute(default=0)  # minor units; never below zero


@table("ledger")
class LedgerEntry(Model):
    class Meta:
        pass

    account = UnicodeAttribute(hash_key=True)
    at_key = UnicodeAttribute(range_key=True)  # "<ISO at>#<reference>"
    amount = NumberAttribute()  # signed minor units
    kind = UnicodeAttribute()  # settlement | disbursement | disbursement_reversal | top_up
    reference = UnicodeAttribute()  # the settlement, disbursement or operator action
    description = UnicodeAttribute(null=True)
    at = UTCDateTimeAttribute()
