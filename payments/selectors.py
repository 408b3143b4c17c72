"""Payment reads. Every list is a key or index query on a merchant-scoped key."""

from datetime import UTC, date, datetime, timedelta

from django.core.files import File
from django.core.files.storage import default_storage

from customers.tables import Customer
from payflow.audit.selectors import audit_history
from payflow.audit.tables import AuditRecord
from payflow.aws.dynamodb import item_or_none, owned_get
from payflow.aws.pagination import (
    Page,
    cursor_decode,
    cursor_encode,
    query_page,
    query_page_bounded,
    search_results,
)
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
        if created_gte >= created_lt:  # an empty range (DynamoDB refuses BETWEEN with bounds reversed)
            return Page(items=[], has_more=False, next_cursor=None)
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


# Operators' lists read at most this many payments a page when filtering by
# type or provider, and walk back at most this many empty days.
OPERATOR_MAX_EXAMINED = 1000
OPERATOR_MAX_EMPTY_DAYS = 31


def payment_find(payment_id: str) -> Payment | None:
    """A payment of any merchant, by id: the operators' view."""
    return item_or_none(Payment, payment_id)


def payment_search(*, term: str, merchant_id: str | None = None) -> list[Payment]:
    """Payments whose id, idempotency key or provider reference is ``term``, or of the customer
    ``term`` (PayFlow's ``cus_…`` id, or the merchant's own id when ``merchant_id`` is given).

    Newest first; each is one key or index lookup, across merchants unless one is given.
    """
    found = [payment_find(term)]
    for index in (Payment.by_idempotency_key, Payment.by_provider_reference):
        found += index.query(term, scan_index_forward=False, limit=50)
    customer_keys = []
    if merchant_id is not None:
        customer_keys.append(f"{merchant_id}#{term}")
    if term.startswith("cus_"):
        customer = item_or_none(Customer, term)
        if customer is not None and customer.created_key is not None:
            customer_keys.append(f"{customer.merchant_id}#{customer.id}")
            if customer.customer_id:
                customer_keys.append(f"{customer.merchant_id}#{customer.customer_id}")
    for key in dict.fromkeys(customer_keys):
        found += Payment.by_merchant_customer.query(key, scan_index_forward=False, limit=50)
    return search_results(found, merchant_id=merchant_id)


def payment_list_operator(
    *,
    merchant_id: str | None = None,
    status: str | None = None,
    payment_type: str | None = None,
    provider: str | None = None,
    created_gte: datetime | None = None,
    created_lt: datetime | None = None,
    limit: int = 50,
    starting_after: str | None = None,
) -> Page:
    """Payments of one merchant or all, newest first, filtered as operators need.

    Merchant and status pick the index; the date range is a key condition;
    type and provider are filters applied while reading, so such a page may
    come back short with a cursor to read on.
    """
    if merchant_id is None and status is None:
        return _payment_list_by_day(
            payment_type=payment_type,
            provider=provider,
            created_gte=created_gte,
            created_lt=created_lt,
            limit=limit,
            starting_after=starting_after,
        )
    if merchant_id is not None and status is not None:
        index, hash_name, hash_value = (
            Payment.by_merchant_status,
            "merchant_status",
            f"{merchant_id}#{status}",
        )
    elif merchant_id is not None:
        index, hash_name, hash_value = Payment.by_merchant, "merchant_id", merchant_id
    else:
        index, hash_name, hash_value = Payment.by_status, "status", status
    return query_page_bounded(
        index,
        hash_name,
        hash_value,
        range_condition=_created_range(created_gte, created_lt),
        filter_condition=_type_provider_filter(payment_type, provider),
        limit=limit,
        starting_after=starting_after,
        max_examined=OPERATOR_MAX_EXAMINED,
    )


def _created_range(created_gte: datetime | None, created_lt: datetime | None):
    if created_gte is not None and created_lt is not None:
        return Payment.created_key.between(time_key(created_gte), time_key(created_lt))
    if created_gte is not None:
        return Payment.created_key >= time_key(created_gte)
    if created_lt is not None:
        return Payment.created_key < time_key(created_lt)
    return None


def _type_provider_filter(payment_type: str | None, provider: str | None):
    condition = None
    for attribute, value in ((Payment.type, payment_type), (Payment.provider, provider)):
        if value is not None:
            clause = attribute == value
            condition = clause if condition is None else condition & clause
    return condition


def _payment_list_by_day(
    *,
    payment_type: str | None,
    provider: str | None,
    created_gte: datetime | None,
    created_lt: datetime | None,
    limit: int,
    starting_after: str | None,
) -> Page:
    """All merchants' payments, one day's partition after another, newest first."""
    index_name = "by-day-walk"
    if starting_after:
        position = cursor_decode(starting_after, index=index_name)
        day, inner = date.fromisoformat(position["day"]), position.get("cursor")
    else:
        latest = created_lt - timedelta(microseconds=1) if created_lt else datetime.now(UTC)
        day, inner = latest.date(), None
    first_day = created_gte.date() if created_gte else None
    items: list[Payment] = []
    empty_days = 0
    budget = OPERATOR_MAX_EXAMINED  # items read for this page, over all the days it walks
    while first_day is None or day >= first_day:
        page = query_page_bounded(
            Payment.by_day,
            "created_day",
            day.isoformat(),
            range_condition=_created_range(created_gte, created_lt),
            filter_condition=_type_provider_filter(payment_type, provider),
            limit=limit - len(items),
            starting_after=inner,
            max_examined=budget,
        )
        items.extend(page.items)
        budget -= page.examined
        empty_days = 0 if page.items else empty_days + 1
        if page.has_more:
            cursor = cursor_encode(index_name, {"day": day.isoformat(), "cursor": page.next_cursor})
            return Page(items, True, cursor, examined=OPERATOR_MAX_EXAMINED - budget)
        day, inner = day - timedelta(days=1), None
        # A rare filter would read every day for one page: past the budget, a short page and a cursor.
        if len(items) >= limit or empty_days >= OPERATOR_MAX_EMPTY_DAYS or budget <= 0:
            reached_start = first_day is not None and day < first_day
            if reached_start:
                break
            cursor = cursor_encode(index_name, {"day": day.isoformat()})
            return Page(items, True, cursor, examined=OPERATOR_MAX_EXAMINED - budget)
    return Page(items, False, None, examined=OPERATOR_MAX_EXAMINED - budget)


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


def refund_find(refund_id: str) -> Refund | None:
    """A refund of any merchant, by id: the operators' view."""
    return item_or_none(Refund, refund_id)


def refund_search(*, term: str, merchant_id: str | None = None) -> list[Refund]:
    """The refund whose id is ``term``, or the refunds of the payment ``term``; newest first."""
    found = [refund_find(term), *Refund.by_payment.query(term, scan_index_forward=False, limit=100)]
    return search_results(found, merchant_id=merchant_id)


def refund_list_operator(
    *, merchant_id: str, status: str | None = None, limit: int = 50, starting_after: str | None = None
) -> Page:
    """A merchant's refunds, newest first; the status applies while reading, so pages may be short."""
    return query_page_bounded(
        Refund.by_merchant,
        "merchant_id",
        merchant_id,
        filter_condition=Refund.status == status if status is not None else None,
        limit=limit,
        starting_after=starting_after,
        max_examined=OPERATOR_MAX_EXAMINED,
    )


def settlement_get(*, merchant_id: str, settlement_id: str) -> Settlement:
    return owned_get(Settlement, settlement_id, merchant_id=merchant_id, noun="settlement")


def settlement_list(*, merchant_id: str, limit: int = 10, starting_after: str | None = None) -> Page:
    return query_page(
        Settlement.by_merchant, "merchant_id", merchant_id, limit=limit, starting_after=starting_after
    )


def settlement_find(settlement_id: str) -> Settlement | None:
    """A settlement of any merchant, by id: the operators' view."""
    return item_or_none(Settlement, settlement_id)


def settlement_list_operator(
    *,
    merchant_id: str | None = None,
    status: str | None = None,
    day: date | None = None,
    limit: int = 50,
    starting_after: str | None = None,
) -> Page:
    """Settlements newest first: a merchant's, or across merchants those of one status (completed if none).

    The day, and the status within a merchant, are filters applied while reading.
    """
    conditions = [Settlement.day == day.isoformat()] if day is not None else []
    if merchant_id is not None:
        index, hash_name, hash_value = Settlement.by_merchant, "merchant_id", merchant_id
        if status is not None:
            conditions.append(Settlement.status == status)
    else:
        index, hash_name, hash_value = Settlement.by_status, "status", status or "completed"
    filter_condition = None
    for condition in conditions:
        filter_condition = condition if filter_condition is None else filter_condition & condition
    return query_page_bounded(
        index,
        hash_name,
        hash_value,
        filter_condition=filter_condition,
        limit=limit,
        starting_after=starting_after,
        max_examined=OPERATOR_MAX_EXAMINED,
    )


def settlement_lines(*, settlement_id: str, limit: int = 100) -> tuple[list[Payment], list[Refund]]:
    """The first ``limit`` payments and refunds a settlement settled, in the order they were captured."""
    return (
        list(Payment.by_settlement.query(settlement_id, limit=limit)),
        list(Refund.by_settlement.query(settlement_id, limit=limit)),
    )


def settlement_report_open(settlement: Settlement) -> File:
    """The settlement's CSV report in storage, open for reading; NOT_FOUND while it has none."""
    if settlement.report_path is None:
        raise ApplicationError(
            ErrorCode.NOT_FOUND,
            f"Settlement {settlement.id} has no report yet: it is {settlement.status}.",
            param="id",
        )
    return default_storage.open(settlement.report_path, "rb")


def settlement_report(*, merchant_id: str, settlement_id: str) -> bytes:
    settlement = settlement_get(merchant_id=merchant_id, settlement_id=settlement_id)
    with settlement_report_open(settlement) as report:
        return report.read()
