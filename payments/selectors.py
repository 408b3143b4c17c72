"""Payment reads. Every list is a key or index query on a merchant-scoped key."""

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.core.files.storage import default_storage

from payflow.audit.selectors import audit_history
from payflow.audit.tables import AuditRecord
from payflow.errors import ApplicationError, ErrorCode

from .tables import Payment, Refund, Settlement, time_key


def _owned(model, object_id: str, *, merchant_id: str, noun: str, consistent: bool = False):
    """The merchant's object; another merchant's id is "not found", never "forbidden"."""
    try:
        found = model.get(object_id, consistent_read=consistent)
    except model.DoesNotExist:
        found = None
    if found is None or found.merchant_id != merchant_id:
        raise ApplicationError(ErrorCode.NOT_FOUND, f"No such {noun}: '{object_id}'.", param="id")
    return found


def payment_get(*, merchant_id: str, payment_id: str, consistent: bool = False) -> Payment:
    return _owned(Payment, payment_id, merchant_id=merchant_id, noun="payment", consistent=consistent)


def payment_history(*, merchant_id: str, payment_id: str) -> list[AuditRecord]:
    payment_get(merchant_id=merchant_id, payment_id=payment_id)
    return audit_history(object_id=payment_id)


@dataclass(frozen=True)
class Page:
    items: list
    has_more: bool
    next_cursor: str | None


def _sign(payload: bytes) -> str:
    key = hashlib.sha256(b"payflow-cursor:" + settings.SECRET_KEY.encode()).digest()
    return hmac.new(key, payload, hashlib.sha256).hexdigest()[:32]


def cursor_encode(index: str, key: dict[str, str]) -> str:
    payload = json.dumps([index, key], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(payload).decode().rstrip("=") + "." + _sign(payload)


def cursor_decode(cursor: str, *, index: str) -> dict[str, str]:
    invalid = ApplicationError(ErrorCode.INVALID_REQUEST, "Invalid cursor.", param="starting_after")
    encoded, _, signature = cursor.partition(".")
    try:
        payload = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
    except ValueError:
        raise invalid from None
    if not hmac.compare_digest(_sign(payload), signature):
        raise invalid
    cursor_index, key = json.loads(payload)
    if cursor_index != index:
        raise ApplicationError(
            ErrorCode.INVALID_REQUEST,
            "The cursor belongs to a list with other filters.",
            param="starting_after",
        )
    return key


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

    return _page(
        index,
        hash_name,
        hash_value,
        range_condition=range_condition,
        filter_condition=filter_condition,
        limit=limit,
        starting_after=starting_after,
    )


def _page(
    index,
    hash_name: str,
    hash_value: str,
    *,
    range_condition=None,
    filter_condition=None,
    limit: int,
    starting_after: str | None,
) -> Page:
    """One page of an index query, newest first, with a signed cursor to the next."""
    index_name = index.Meta.index_name
    start = None
    if starting_after:
        key = cursor_decode(starting_after, index=index_name)
        if key.get(hash_name) != hash_value:
            raise ApplicationError(
                ErrorCode.INVALID_REQUEST,
                "The cursor belongs to a list with other filters.",
                param="starting_after",
            )
        start = {name: {"S": value} for name, value in key.items()}

    items = list(
        index.query(
            hash_value,
            range_condition,
            filter_condition=filter_condition,
            scan_index_forward=False,
            limit=limit + 1,
            last_evaluated_key=start,
            page_size=limit + 1,
        )
    )
    has_more = len(items) > limit
    items = items[:limit]
    next_cursor = None
    if has_more:
        last = items[-1]
        next_cursor = cursor_encode(
            index_name, {"id": last.id, hash_name: hash_value, "created_key": last.created_key}
        )
    return Page(items=items, has_more=has_more, next_cursor=next_cursor)


def refund_get(*, merchant_id: str, refund_id: str) -> Refund:
    return _owned(Refund, refund_id, merchant_id=merchant_id, noun="refund")


def refund_list(
    *, merchant_id: str, payment_id: str | None = None, limit: int = 10, starting_after: str | None = None
) -> Page:
    """The merchant's refunds (of one payment, if given), newest first."""
    if payment_id is not None:
        payment_get(merchant_id=merchant_id, payment_id=payment_id)
        index, hash_name, hash_value = Refund.by_payment, "payment_id", payment_id
    else:
        index, hash_name, hash_value = Refund.by_merchant, "merchant_id", merchant_id
    return _page(index, hash_name, hash_value, limit=limit, starting_after=starting_after)


def settlement_get(*, merchant_id: str, settlement_id: str) -> Settlement:
    return _owned(Settlement, settlement_id, merchant_id=merchant_id, noun="settlement")


def settlement_list(*, merchant_id: str, limit: int = 10, starting_after: str | None = None) -> Page:
    return _page(
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
