"""DynamoDB tables of the payments app.

Access patterns, each a key or index query (never a Scan):

- a payment by id ........................ payments: GetItem(id)
- a merchant's payments, newest first .... payments.by-merchant: merchant_id, created_key
- ... with one status .................... payments.by-merchant-status: merchant_status, created_key
- ... of one customer .................... payments.by-merchant-customer: merchant_customer, created_key
  (``created_key`` is ``<ISO created_at>#<id>``: time-ordered and unique, so
  ``created[gte]``/``created[lt]`` are key conditions too)
- a payment's refunds ..................... refunds.by-payment: payment_id, created_key
- a merchant's refunds .................... refunds.by-merchant: merchant_id, created_key
- unsettled money of a merchant ........... payments|refunds.unsettled: unsettled_key, money_key
- the items of a settlement ............... payments|refunds.by-settlement: settlement_id, money_key
- a merchant's settlements ................ settlements.by-merchant; unfinished runs: settlements.by-status
- payments in one status, oldest first .. payments.by-status: status, created_key
- all payments of a day (operators) ...... payments.by-day: created_day, created_key
- a payment by the merchant's idempotency
  key or the provider's reference ........ payments.by-idempotency-key, by-provider-reference (sparse)
- a provider's record of one charge ...... provider-charges: GetItem/conditional Put(key)
"""

from datetime import datetime

from pynamodb.attributes import (
    BooleanAttribute,
    MapAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from payflow.aws.dynamodb import table, time_key


def created_key(created_at: datetime, payment_id: str) -> str:
    return f"{time_key(created_at)}#{payment_id}"


class ByMerchant(GlobalSecondaryIndex):
    class Meta:
        index_name = "by-merchant"
        projection = AllProjection()

    merchant_id = UnicodeAttribute(hash_key=True)
    created_key = UnicodeAttribute(range_key=True)


class ByMerchantStatus(GlobalSecondaryIndex):
    class Meta:
        index_name = "by-merchant-status"
        projection = AllProjection()

    merchant_status = UnicodeAttribute(hash_key=True)
    created_key = UnicodeAttribute(range_key=True)


class ByMerchantCustomer(GlobalSecondaryIndex):
    class Meta:
        index_name = "by-merchant-customer"
        projection = AllProjection()

    merchant_customer = UnicodeAttribute(hash_key=True)
    created_key = UnicodeAttribute(range_key=True)


class ByStatus(GlobalSecondaryIndex):
    """Across merchants: the expiry sweeper's authorized payments, operators' lists."""

    class Meta:
        index_name = "by-status"
        projection = AllProjection()

    status = UnicodeAttribute(hash_key=True)
    created_key = UnicodeAttribute(range_key=True)


class ByDay(GlobalSecondaryIndex):
    """Across merchants and statuses, one UTC day per partition: the operators' newest-first list."""

    class Meta:
        index_name = "by-day"
        projection = AllProjection()

    created_day = UnicodeAttribute(hash_key=True)
    created_key = UnicodeAttribute(range_key=True)


class ByIdempotencyKey(GlobalSecondaryIndex):
    """Sparse: operators' exact search. Keys are unique per merchant only, so this may find several."""

    class Meta:
        index_name = "by-idempotency-key"
        projection = AllProjection()

    idempotency_key = UnicodeAttribute(hash_key=True)
    created_key = UnicodeAttribute(range_key=True)


class ByProviderReference(GlobalSecondaryIndex):
    """Sparse: operators' exact search by the provider's reference of the charge."""

    class Meta:
        index_name = "by-provider-reference"
        projection = AllProjection()

    provider_reference = UnicodeAttribute(hash_key=True)
    created_key = UnicodeAttribute(range_key=True)


class Unsettled(GlobalSecondaryIndex):
    """Sparse: captured (or completed, for refunds) and not yet settled, per merchant."""

    class Meta:
        index_name = "unsettled"
        projection = AllProjection()

    unsettled_key = UnicodeAttribute(hash_key=True)  # the merchant id, removed once settled
    money_key = UnicodeAttribute(range_key=True)  # "<ISO captured_at/completed_at>#<id>"


class BySettlement(GlobalSecondaryIndex):
    class Meta:
        index_name = "by-settlement"
        projection = AllProjection()

    settlement_id = UnicodeAttribute(hash_key=True)
    money_key = UnicodeAttribute(range_key=True)


@table("payments")
class Payment(Model):
    class Meta:
        pass

    id = UnicodeAttribute(hash_key=True)
    merchant_id = UnicodeAttribute()
    created_key = UnicodeAttribute()
    created_day = UnicodeAttribute(null=True)  # "YYYY-MM-DD" of created_at
    merchant_status = UnicodeAttribute()
    merchant_customer = UnicodeAttribute(null=True)

    amount = NumberAttribute()  # minor units of the currency
    currency = UnicodeAttribute()
    status = UnicodeAttribute()
    type = UnicodeAttribute()
    description = UnicodeAttribute(null=True)
    payee = UnicodeAttribute(null=True)  # "merchant" in the API: the payee/descriptor
    customer_id = UnicodeAttribute(null=True)
    metadata = MapAttribute(default=dict)
    card = MapAttribute(null=True)  # brand, last4, exp_month, exp_year, fingerprint — never the number
    capture = BooleanAttribute(default=True)  # False: authorize now, capture later
    amount_captured = NumberAttribute(default=0)
    amount_refunded = NumberAttribute(default=0)  # pending and completed refunds
    authorized_at = UTCDateTimeAttribute(null=True)
    captured_at = UTCDateTimeAttribute(null=True)
    canceled_at = UTCDateTimeAttribute(null=True)
    cancellation_reason = UnicodeAttribute(null=True)
    # Settlement: set on capture, cleared (unsettled_key) or filled in when settled.
    unsettled_key = UnicodeAttribute(null=True)
    money_key = UnicodeAttribute(null=True)
    fee = NumberAttribute(null=True)  # minor units, fixed when settled
    settlement_id = UnicodeAttribute(null=True)
    settled_at = UTCDateTimeAttribute(null=True)

    provider = UnicodeAttribute()
    routing = MapAttribute()
    provider_reference = UnicodeAttribute(null=True)
    attempts = NumberAttribute(default=0)
    retries = NumberAttribute(default=0)  # by operators, after the payment failed
    failure_code = UnicodeAttribute(null=True)
    failure_message = UnicodeAttribute(null=True)
    # What the sandbox provider will answer (test cards, metadata["test_outcome"]).
    sandbox_outcome = UnicodeAttribute(null=True)
    # While processing: until when the current worker owns the payment.
    lease_until = NumberAttribute(null=True)
    idempotency_key = UnicodeAttribute(null=True)

    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()

    by_merchant = ByMerchant()
    by_merchant_status = ByMerchantStatus()
    by_merchant_customer = ByMerchantCustomer()
    by_status = ByStatus()
    by_day = ByDay()
    by_idempotency_key = ByIdempotencyKey()
    by_provider_reference = ByProviderReference()
    unsettled = Unsettled()
    by_settlement = BySettlement()


class RefundsByPayment(GlobalSecondaryIndex):
    class Meta:
        index_name = "by-payment"
        projection = AllProjection()

    payment_id = UnicodeAttribute(hash_key=True)
    created_key = UnicodeAttribute(range_key=True)


class RefundsByMerchant(GlobalSecondaryIndex):
    class Meta:
        index_name = "by-merchant"
        projection = AllProjection()

    merchant_id = UnicodeAttribute(hash_key=True)
    created_key = UnicodeAttribute(range_key=True)


@table("refunds")
class Refund(Model):
    """A refund of (part of) a captured payment.

    Its amount is reserved on the payment (``amount_refunded``) when the refund
    is created and given back if the refund fails.
    """

    class Meta:
        pass

    id = UnicodeAttribute(hash_key=True)
    merchant_id = UnicodeAttribute()
    payment_id = UnicodeAttribute()
    created_key = UnicodeAttribute()
    amount = NumberAttribute()  # minor units
    currency = UnicodeAttribute()
    status = UnicodeAttribute()  # pending | completed | failed
    reason = UnicodeAttribute(null=True)
    metadata = MapAttribute(default=dict)
    provider = UnicodeAttribute()
    provider_reference = UnicodeAttribute(null=True)
    failure_code = UnicodeAttribute(null=True)
    failure_message = UnicodeAttribute(null=True)
    # While pending: until when a worker owns the call to the provider.
    lease_until = NumberAttribute(null=True)
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
    completed_at = UTCDateTimeAttribute(null=True)
    unsettled_key = UnicodeAttribute(null=True)
    money_key = UnicodeAttribute(null=True)
    settlement_id = UnicodeAttribute(null=True)
    settled_at = UTCDateTimeAttribute(null=True)

    by_payment = RefundsByPayment()
    by_merchant = RefundsByMerchant()
    unsettled = Unsettled()
    by_settlement = BySettlement()


class SettlementsByMerchant(GlobalSecondaryIndex):
    class Meta:
        index_name = "by-merchant"
        projection = AllProjection()

    merchant_id = UnicodeAttribute(hash_key=True)
    created_key = UnicodeAttribute(range_key=True)


class SettlementsByStatus(GlobalSecondaryIndex):
    class Meta:
        index_name = "by-status"
        projection = AllProjection()

    status = UnicodeAttribute(hash_key=True)
    created_key = UnicodeAttribute(range_key=True)


@table("settlements")
class Settlement(Model):
    """One merchant's settled money in one currency for one day (T+1)."""

    class Meta:
        pass

    id = UnicodeAttribute(hash_key=True)  # deterministic: merchant, currency, day
    merchant_id = UnicodeAttribute()
    currency = UnicodeAttribute()
    day = UnicodeAttribute()  # YYYY-MM-DD settled; the cutoff is the next midnight UTC
    cutoff = UTCDateTimeAttribute()
    status = UnicodeAttribute()  # in_progress | completed
    created_key = UnicodeAttribute()
    payment_count = NumberAttribute(default=0)
    refund_count = NumberAttribute(default=0)
    gross = NumberAttribute(default=0)  # minor units
    refunds = NumberAttribute(default=0)
    fees = NumberAttribute(default=0)
    net = NumberAttribute(default=0)
    report_path = UnicodeAttribute(null=True)
    credited = NumberAttribute(null=True)  # net already added to the merchant's balance
    created_at = UTCDateTimeAttribute()
    completed_at = UTCDateTimeAttribute(null=True)

    by_merchant = SettlementsByMerchant()
    by_status = SettlementsByStatus()


@table("provider-charges")
class ProviderCharge(Model):
    """The sandbox providers' own books: one record per idempotency key, as a real PSP keeps."""

    class Meta:
        pass

    key = UnicodeAttribute(hash_key=True)  # "<provider>#<operation>#<idempotency key>"
    provider = UnicodeAttribute()
    reference = UnicodeAttribute()
    outcome = UnicodeAttribute()  # "succeeded" | decline code
    amount = NumberAttribute()
    currency = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    # Every time the provider was asked for this key. Above 1 only when a call
    # was repeated (its answer lost, or a duplicate message): never charged twice,
    # but the chaos suite counts it.
    calls = NumberAttribute(default=1)
