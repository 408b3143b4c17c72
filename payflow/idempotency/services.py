"""Claim, complete and release idempotency keys.

A claim is one conditional write, never read-then-write: it succeeds when no
record exists, the old one is past retention, or an in-progress claim was
abandoned (its request crashed). Completion is conditional on still holding
the claim, so a request that outlived its lock can never complete twice.
"""

import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from django.conf import settings
from pynamodb.exceptions import DeleteError, PutError
from pynamodb.transactions import TransactWrite

from payflow.aws.dynamodb import condition_failed
from payflow.errors import ApplicationError, ErrorCode

from .tables import IdempotencyRecord

IN_PROGRESS = "in_progress"
COMPLETE = "complete"


@dataclass
class IdempotencyClaim:
    record_key: str
    token: str
    fingerprint: str
    completed: bool = field(default=False)


@dataclass(frozen=True)
class IdempotentReplay:
    status: int
    body: dict


def request_fingerprint(*, method: str, path: str, data) -> str:
    """A keyed hash of the request, so a stored fingerprint reveals nothing (card numbers included)."""
    canonical = json.dumps([method, path, data], sort_keys=True, default=str, separators=(",", ":"))
    key = hashlib.sha256(b"payflow-idempotency:" + settings.SECRET_KEY.encode()).digest()
    return hmac.new(key, canonical.encode(), hashlib.sha256).hexdigest()


def idempotency_claim(*, merchant_id: str, key: str, fingerprint: str) -> IdempotencyClaim | IdempotentReplay:
    """Claim ``key`` for this request, or say what an earlier request with it did.

    Raises 422 ``idempotency_key_reused`` for other parameters and 409
    ``idempotency_key_in_use`` while the first request still runs.
    """
    record_key = f"{merchant_id}#{key}"
    now = time.time()
    claim = IdempotencyClaim(record_key=record_key, token=secrets.token_hex(16), fingerprint=fingerprint)
    retention = settings.IDEMPOTENCY_RETENTION_SECONDS
    record = IdempotencyRecord(
        record_key,
        status=IN_PROGRESS,
        fingerprint=fingerprint,
        claim_token=claim.token,
        locked_until=int(now + settings.IDEMPOTENCY_LOCK_SECONDS),
        created_at=datetime.fromtimestamp(now, UTC),
        retain_until=int(now + retention),
        # DynamoDB may delete up to 48 h late; retain_until is what counts.
        expires_at=timedelta(seconds=retention + 3600),
    )
    condition = (
        IdempotencyRecord.key.does_not_exist()
        | (IdempotencyRecord.retain_until < int(now))
        | ((IdempotencyRecord.status == IN_PROGRESS) & (IdempotencyRecord.locked_until < int(now)))
    )
    try:
        record.save(condition=condition)
        return claim
    except PutError as exc:
        if not condition_failed(exc):
            raise

    existing = IdempotencyRecord.get(record_key, consistent_read=True)
    if existing.fingerprint != fingerprint:
        raise ApplicationError(
            ErrorCode.IDEMPOTENCY_KEY_REUSED,
            "This idempotency key was already used with other parameters.",
            param="idempotency_key",
        )
    if existing.status == COMPLETE:
        return IdempotentReplay(status=int(existing.response_status), body=json.loads(existing.response_body))
    raise ApplicationError(
        ErrorCode.IDEMPOTENCY_KEY_IN_USE,
        "A request with this idempotency key is still being processed; retry shortly.",
        param="idempotency_key",
        headers={"Retry-After": "1"},
    )


def _completion_actions(status: int, body: dict) -> list:
    return [
        IdempotencyRecord.status.set(COMPLETE),
        IdempotencyRecord.response_status.set(status),
        IdempotencyRecord.response_body.set(json.dumps(body, separators=(",", ":"))),
    ]


def _held_condition(claim: IdempotencyClaim):
    return (IdempotencyRecord.status == IN_PROGRESS) & (IdempotencyRecord.claim_token == claim.token)


def idempotency_complete_in(transaction: TransactWrite, *, claim: IdempotencyClaim, status: int, body: dict):
    """Add the completion to a transaction that makes the request's own writes."""
    transaction.update(
        IdempotencyRecord(claim.record_key),
        actions=_completion_actions(status, body),
        condition=_held_condition(claim),
    )


def idempotency_complete(*, claim: IdempotencyClaim, status: int, body: dict) -> None:
    IdempotencyRecord(claim.record_key).update(
        actions=_completion_actions(status, body), condition=_held_condition(claim)
    )
    claim.completed = True


def idempotency_release(*, claim: IdempotencyClaim) -> None:
    """Give the key back after a failure that changed nothing, so a retry can run at once."""
    try:
        IdempotencyRecord(claim.record_key).delete(condition=_held_condition(claim))
    except DeleteError as exc:
        if not condition_failed(exc):
            raise


# The work of a request: given its claim (or None without a key), it returns (status, body).
Work = Callable[[IdempotencyClaim | None], tuple[int, dict]]


def idempotent_run(
    *, merchant_id: str, key: str, fingerprint: str, work: Work, keep_refusals: bool = True
) -> tuple[int, dict, bool]:
    """Run ``work`` once for this key: its (status, body, replayed).

    A repeat gets the first answer back (201 becomes 200: the repeat created
    nothing). A refusal (an ``ApplicationError`` below 500) is an answer too
    and is kept for the same request, unless ``keep_refusals`` is False (an
    operator's form, sent again once corrected); an error of ours or of AWS
    frees the key for a retry. ``work`` may complete the claim itself, in the
    transaction that does the work.
    """
    outcome = idempotency_claim(merchant_id=merchant_id, key=key, fingerprint=fingerprint)
    if isinstance(outcome, IdempotentReplay):
        return (200 if outcome.status == 201 else outcome.status), outcome.body, True
    claim = outcome
    try:
        status, body = work(claim)
    except ApplicationError as error:
        if error.status >= 500 or not keep_refusals:
            idempotency_release(claim=claim)
        else:
            idempotency_complete(claim=claim, status=error.status, body=error.as_body())
        raise
    except BaseException:
        idempotency_release(claim=claim)
        raise
    if not claim.completed:
        idempotency_complete(claim=claim, status=status, body=body)
    return status, body, False
