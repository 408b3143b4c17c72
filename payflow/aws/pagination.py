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
