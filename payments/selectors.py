"""Payment reads. Every list is a key or index query on a merchant-scoped key."""

from datetime import datetime

from django.core.files.storage import default_storage

from payflow.audit.selectors import audit_history
from payflow.audit.tables import AuditRecord
from payflow.aws.dynamodb import owned_get
from payflow.aws.pagination import Page, query_page
from payflow.errors import ApplicationError, ErrorCode

from .tables import Payment, Refund, Settlement, time_key


def payment_get(*, merchant_id: str, payment_id: str, consistent: bool = False) -> Payment:
    return owned_get(Payment, payment_id, merchant_id=merchant_id, noun="payment", consistent=consistent)


def payment_history(*, merchant_id: str, payment_id: str) -> list[AuditRecord]:
    payment_get(merchant_id=merchant_id, payment_id=payment_id)
    return audit_history(object_id=payment_id)


def payment_list(
    *,
    merchant_id: str,
    status: str | None = None,
    customer_id: str | None = None,
    created_gte: datetime | None = None,
    created_lt: datetime | None = None,
    limit: int = 10,
    starting_after: str | None = None,
) -> Page:
    """The merchant's payments, newest first, ``limit`` at a time."""
    filter_condition = None
    if customer_id is not None:
        index, hash_name, hash_value = (
            Payment.by_merchant_customer,
            "merchant_customer",
            f"{merchant_id}#{customer_id}",
        )
        if status is not None:
            filter_condition = Payment.status == status
    elif status is not None:
        index, hash_name, hash_value = (
            Payment.by_merchant_status,
            "merchant_status",
            f"{merchant_id}#{status}",
        )
    else:
        index, hash_name, hash_value = Payment.by_merchant, "merchant_id", merchant_id

    range_condition = None
    if created_gte is not None and created_lt is not None:
        range_condition = Payment.created_key.between(time_key(created_gte), time_key(created_lt))
    elif created_gte is not None:
        range_condition = Payment.created_key >= time_key(created_gte)
    elif created_lt is not None:
        range_condition = Payment.created_key < time_key(created_lt)

    return query_page(
        index,
        hash_name,
        hash_value,
        range_condition=range_condition,
        filter_condition=filter_condition,
        limit=limit,
        starting_after=starting_after,
    )


def refund_get(*, merchant_id: str, refund_id: str) -> Refund:
    return owned_get(Refund, refund_id, merchant_id=merchant_id, noun="refund")


def refund_list(
    *, merchant_id: str, payment_id: str | None = None, limit: int = 10, starting_after: str | None = None
) -> Page:
    """The merchant's refunds (of one payment, if given), newest first."""
    if payment_id is not None:
        payment_get(merchant_id=merchant_id, payment_id=payment_id)
        index, hash_name, hash_value = Refund.by_payment, "payment_id", payment_id
    else:
        index, hash_name, hash_value = Refund.by_merchant, "merchant_id", merchant_id
    return query_page(index, hash_name, hash_value, limit=limit, starting_after=starting_after)


def settlement_get(*, merchant_id: str, settlement_id: str) -> Settlement:
    return owned_get(Settlement, settlement_id, merchant_id=merchant_id, noun="settlement")


def settlement_list(*, merchant_id: str, limit: int = 10, starting_after: str | None = None) -> Page:
    return query_page(
        Settlement.by_merchant, "merchant_id", merchant_id, limit=limit, starting_after=starting_after
    )


def settlement_report(*, merchant_id: str, settlement_id: str) -> bytes:
    settlement = settlement_get(merchant_id=merchant_id, settlement_id=settlement_id)
    if settlement.report_path is None:
        raise ApplicationError(
            ErrorCode.NOT_FOUND,
            f"Settlement {settlement_id} has no report yet: it is {settlement.status}.",
            param="id",
        )
    with default_storage.open(settlement.report_path, "rb") as report:
        return report.read()
