"""Cursor pagination over DynamoDB index queries: newest first, opaque signed cursors."""

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass

from django.conf import settings

from payflow.errors import ApplicationError, ErrorCode


@dataclass(frozen=True)
class Page:
    items: list
    has_more: bool
    next_cursor: str | None
    examined: int = 0  # items DynamoDB read for it, matching the filter or not (bounded queries)


def search_results(found, *, merchant_id: str | None = None) -> list:
    """The matches of an exact search (Nones and repeats allowed): each once, newest first, and
    only the merchant's when one is given."""
    unique = {item.id: item for item in found if item is not None}
    mine = [item for item in unique.values() if merchant_id in (None, item.merchant_id)]
    return sorted(mine, key=lambda item: item.created_key, reverse=True)


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


def _start_key(starting_after: str | None, *, index: str, hash_name: str, hash_value: str) -> dict | None:
    """DynamoDB's ExclusiveStartKey from a cursor of this index and partition, or None for the first page."""
    if not starting_after:
        return None
    key = cursor_decode(starting_after, index=index)
    if key.get(hash_name) != hash_value:
        raise ApplicationError(
            ErrorCode.INVALID_REQUEST,
            "The cursor belongs to a list with other filters.",
            param="starting_after",
        )
    return {name: {"S": value} for name, value in key.items()}


def _after(item, index_name: str, hash_name: str, hash_value: str) -> str:
    """The cursor to the page after ``item``: its key in the index."""
    return cursor_encode(index_name, {"id": item.id, hash_name: hash_value, "created_key": item.created_key})


def query_page(
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
    start = _start_key(starting_after, index=index_name, hash_name=hash_name, hash_value=hash_value)

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
    next_cursor = _after(items[-1], index_name, hash_name, hash_value) if has_more else None
    return Page(items=items, has_more=has_more, next_cursor=next_cursor)


def query_page_bounded(
    index,
    hash_name: str,
    hash_value: str,
    *,
    range_condition=None,
    filter_condition=None,
    limit: int,
    starting_after: str | None,
    max_examined: int = 1000,
) -> Page:
    """``query_page`` for filters DynamoDB applies after reading: at most ``max_examined`` items a page.

    A filter that matches few items would otherwise read the whole partition
    for one page. The page may hold fewer than ``limit`` items and still have
    a cursor: the next page goes on from the last item examined.
    """
    index_name = index.Meta.index_name
    model = index._model
    start = _start_key(starting_after, index=index_name, hash_name=hash_name, hash_value=hash_value)
    results = index.query(
        hash_value,
        range_condition,
        filter_condition=filter_condition,
        scan_index_forward=False,
        last_evaluated_key=start,
        page_size=max(1, min(max(limit + 1, 100), max_examined)),
    )
    pages = results.page_iter
    items: list = []
    examined = 0
    for page in pages:
        examined += page.get("ScannedCount", 0)
        items.extend(model.from_raw_data(raw) for raw in page.get("Items", []))
        if len(items) > limit:
            return Page(
                items=items[:limit],
                has_more=True,
                next_cursor=_after(items[limit - 1], index_name, hash_name, hash_value),
                examined=examined,
            )
        resume = pages.last_evaluated_key
        if resume is None:
            break
        if examined >= max_examined:
            return Page(
                items=items,
                has_more=True,
                next_cursor=cursor_encode(index_name, {name: value["S"] for name, value in resume.items()}),
                examined=examined,
            )
    return Page(items=items, has_more=False, next_cursor=None, examined=examined)
