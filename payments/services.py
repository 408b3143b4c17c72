"""Payment writes: creation (API) and processing (worker).

Every transition is one conditional update on the expected current status,
written in one transaction with its audit record, so SQS's at-least-once
delivery and duplicate tasks can never apply a transition twice.
"""

import logging
import time
from datetime import UTC, datetime, timedelta

from django.conf import settings
from pynamodb.exceptions import TransactWriteError

from payflow.audit.services import audit_record_new
from payflow.aws.dynamodb import (
    cancellation_codes,
    transact_write,
    transact_write_retrying,
    update_if,
)
from payflow.aws.leases import RetryLater, lease_seconds, lease_take
from payflow.errors import ApplicationError, ErrorCode
from payflow.events.services import EVENT_TYPES, event_new, event_record, event_write
from payflow.idempotency.services import IdempotencyClaim, idempotency_complete_in
from payflow.ids import new_id
from payflow.merchants.selectors import merchant_routing_rules
from payflow.money import amount_to_minor, format_minor_units
from payflow.observability.logs import log_context_bind
from payflow.observability.metrics import payment_status_record
from payflow.outbox.services import outbox_entry_new, outbox_entry_ref, outbox_publish

from .cards import CardDetails
from .providers import (
    ChargeRequest,
    ProviderDecline,
    ProviderTransientError,
    ProviderUnavailable,
    provider_get,
)
from .representations import payment_representation, plain_dict, refund_representation
from .routing import payment_route
from .selectors import payment_get
from .tables import Payment, Refund, created_key, time_key

logger = logging.getLogger(__name__)

PROCESS_TASK = "payments.tasks.process_payment_task"

PENDING, PROCESSING, AUTHORIZED = "pending", "processing", "authorized"
COMPLETED, FAILED, CANCELED = "completed", "failed", "canceled"
PARTIALLY_REFUNDED, REFUNDED = "partially_refunded", "refunded"
# Statuses the worker has nothing more to do for.
SETTLED_BY_WORKER = frozenset({AUTHORIZED, COMPLETED, FAILED, CANCELED, PARTIALLY_REFUNDED, REFUNDED})
TRANSITIONS = {
    PENDING: {PROCESSING, CANCELED},
    PROCESSING: {PROCESSING, AUTHORIZED, COMPLETED, FAILED},
    FAILED: {PENDING},  # an operator's retry
    AUTHORIZED: {COMPLETED, CANCELED},
    COMPLETED: {PARTIALLY_REFUNDED, REFUNDED},
    PARTIALLY_REFUNDED: {PARTIALLY_REFUNDED, REFUNDED, COMPLETED},
    REFUNDED: {PARTIALLY_REFUNDED, COMPLETED},
}


class TransitionConflict(Exception):
    """The payment was not in the expected state: someone else moved it first."""


def _now() -> datetime:
    return datetime.now(UTC)


def payment_create(
    *,
    merchant_id: str,
    amount: int,
    currency: str,
    payment_type: str,
    description: str | None = None,
    payee: str | None = None,
    customer_id: str | None = None,
    metadata: dict[str, str] | None = None,
    card: CardDetails | None = None,
    sandbox_outcome: str | None = None,
    capture: bool = True,
    idempotency_key: str | None = None,
    claim: IdempotencyClaim | None = None,
) -> tuple[Payment, dict]:
    """Write a pending payment, then publish its processing task.

    One transaction writes the payment, its audit record, an outbox entry and
    (with a key) the idempotency record's response; the task is published
    after the commit, and the outbox sweeper publishes it again should that
    fail. Returns the payment and its representation.
    """
    now = _now()
    payment_id = new_id("pay")
    log_context_bind(payment_id=payment_id)
    routing = payment_route(
        amount=amount,
        currency=currency,
        payment_type=payment_type,
        merchant_rules=merchant_routing_rules(merchant_id=merchant_id),
    )
    payment = Payment(
        payment_id,
        merchant_id=merchant_id,
        created_key=created_key(now, payment_id),
        created_day=now.date().isoformat(),
        merchant_status=f"{merchant_id}#{PENDING}",
        merchant_customer=f"{merchant_id}#{customer_id}" if customer_id else None,
        amount=amount,
        currency=currency,
        status=PENDING,
        type=payment_type,
        description=description,
        payee=payee,
        customer_id=customer_id,
        metadata=metadata or {},
        card=card.as_dict() if card else None,
        capture=capture,
        provider=routing.provider,
        routing=routing.as_dict(),
        attempts=0,
        sandbox_outcome=sandbox_outcome,
        idempotency_key=idempotency_key,
        created_at=now,
        updated_at=now,
    )
    body = payment_representation(payment)
    with transact_write() as transaction:
        transaction.save(payment, condition=Payment.id.does_not_exist())
        transaction.save(
            audit_record_new(
                object_id=payment_id,
                merchant_id=merchant_id,
                from_status=None,
                to_status=PENDING,
                actor="api",
                reason="created",
                at=now,
            )
        )
        transaction.save(outbox_entry_new(task=PROCESS_TASK, object_id=payment_id))
        event_record(transaction, merchant_id=merchant_id, type="payment.created", obj=body, at=now)
        if claim is not None:
            idempotency_complete_in(transaction, claim=claim, status=201, body=body)
    if claim is not None:
        claim.completed = True
    payment_status_record(status=PENDING, amount=amount, currency=currency)
    outbox_publish(task=PROCESS_TASK, object_id=payment_id)
    return payment, body


def _transition(
    payment: Payment,
    to_status: str,
    *,
    actor: str,
    reason: str | None = None,
    changes: dict | None = None,
    condition=None,
    finish_outbox: bool = False,
    start_outbox: bool = False,
) -> None:
    """Move the payment to ``to_status`` with ``changes`` (None removes), if nobody moved it first.

    The update, its audit record and (on a status change to a status merchants
    are told about) its event are one transaction; the event carries the
    payment as it is after the change. ``start_outbox`` queues processing.
    """
    if to_status not in TRANSITIONS.get(payment.status, ()):
        raise ApplicationError(
            ErrorCode.INVALID_STATE,
            f"A {payment.status} payment cannot become {to_status}.",
        )
    now = _now()
    from_status = payment.status
    changes = {**(changes or {}), "status": to_status, "updated_at": now}
    before = {name: getattr(payment, name) for name in changes}
    for name, value in changes.items():
        setattr(payment, name, value)
    expected = Payment.status == from_status
    actions = [
        getattr(Payment, name).remove() if value is None else getattr(Payment, name).set(value)
        for name, value in changes.items()
    ]
    actions.append(Payment.merchant_status.set(f"{payment.merchant_id}#{to_status}"))
    event = None
    if to_status != from_status and f"payment.{to_status}" in EVENT_TYPES:
        event = event_new(
            merchant_id=payment.merchant_id,
            type=f"payment.{to_status}",
            obj=payment_representation(payment),
            at=now,
        )

    def write(transaction) -> None:
        transaction.update(
            payment, actions=actions, condition=expected & condition if condition is not None else expected
        )
        transaction.save(
            audit_record_new(
                object_id=payment.id,
                merchant_id=payment.merchant_id,
                from_status=from_status,
                to_status=to_status,
                actor=actor,
                reason=reason,
                at=now,
            )
        )
        if event is not None:
            event_write(transaction, event)
        if finish_outbox:
            transaction.delete(outbox_entry_ref(task=PROCESS_TASK, object_id=payment.id))
        if start_outbox:
            transaction.save(outbox_entry_new(task=PROCESS_TASK, object_id=payment.id))

    try:
        transact_write_retrying(write)
    except TransactWriteError as exc:
        for name, value in before.items():
            setattr(payment, name, value)
        if "ConditionalCheckFailed" in cancellation_codes(exc):
            raise TransitionConflict(payment.id) from exc
        raise
    payment.merchant_status = f"{payment.merchant_id}#{to_status}"
    logger.info(
        "payment %s: %s -> %s by %s",
        payment.id,
        from_status,
        to_status,
        actor,
        extra={"payment_id": payment.id, "merchant_id": payment.merchant_id, "to_status": to_status},
    )
    if to_status != from_status:
        payment_status_record(
            status=to_status,
            amount=payment.amount,
            currency=payment.currency,
            outcome_of_processing=from_status == PROCESSING,
        )


def payment_process(*, payment_id: str) -> RetryLater | None:
    """Take a payment through its provider. Safe to run any number of times.

    Returns ``RetryLater`` when the task should run again later (a transient
    provider error, or another worker holding the payment).
    """
    try:
        payment = Payment.get(payment_id, consistent_read=True)
    except Payment.DoesNotExist:
        logger.error("payment %s does not exist; nothing to process", payment_id)
        return None
    if payment.status in SETTLED_BY_WORKER:
        return None

    now = time.time()
    if payment.status == PROCESSING and (payment.lease_until or 0) > now:
        # Another worker holds it (a duplicate message); look again once its lease ends.
        return RetryLater(countdown=payment.lease_until - now + 0.5)

    resumed = payment.status == PROCESSING
    attempt = int(payment.attempts) + 1
    try:
        _transition(
            payment,
            PROCESSING,
            actor="worker",
            reason="resumed after an interrupted attempt" if resumed else None,
            changes={"attempts": attempt, "lease_until": int(now + lease_seconds())},
            # The attempt is recorded before the provider is called.
            condition=Payment.attempts == payment.attempts,
        )
    except TransitionConflict:
        return None
    return _charge(payment)


def _charge(payment: Payment) -> RetryLater | None:
    tried = [payment.provider]
    while True:
        provider = provider_get(payment.provider)
        request = ChargeRequest(
            payment_id=payment.id,
            amount=int(payment.amount),
            currency=payment.currency,
            type=payment.type,
            attempt=int(payment.attempts),
            sandbox_outcome=payment.sandbox_outcome,
        )
        call = provider.charge if payment.capture else provider.authorize
        try:
            result = call(request, idempotency_key=provider_key(payment))
        except ProviderDecline as decline:
            return _finish(payment, FAILED, reason=decline.code, failure=decline)
        except ProviderUnavailable as unavailable:
            fallback = next((n for n in payment.routing["fallbacks"] if n not in tried), None)
            if fallback is None:
                return _finish(payment, FAILED, reason="no provider available", failure=unavailable)
            tried.append(fallback)
            payment = _switch_provider(payment, fallback, unavailable)
            continue
        except ProviderTransientError as error:
            if int(payment.attempts) > settings.PAYMENTS_MAX_RETRIES:
                return _finish(payment, FAILED, reason="retries exhausted", failure=error)
            return _retry_later(payment, error)
        if not payment.capture:
            return _finish(payment, AUTHORIZED, reference=result.reference)
        return _finish(payment, COMPLETED, reference=result.reference)


def _switch_provider(payment: Payment, fallback: str, cause: Exception) -> Payment:
    """Record the move to a fallback provider (and the new attempt) before calling it."""
    attempt = int(payment.attempts) + 1
    _transition(
        payment,
        PROCESSING,
        actor="worker",
        reason=f"{payment.provider} unavailable ({cause}); trying {fallback}",
        changes={"provider": fallback, "attempts": attempt},
        condition=Payment.attempts == payment.attempts,
    )
    return payment


def _retry_later(payment: Payment, error: Exception) -> RetryLater:
    countdown = min(settings.PAYMENTS_RETRY_BACKOFF_SECONDS * 2 ** (int(payment.attempts) - 1), 60)
    # Give up the lease so that the retry may take the payment at once.
    payment.update(
        actions=[
            Payment.lease_until.set(0),
            Payment.failure_code.set(getattr(error, "code", "provider_error")),
        ],
        condition=(Payment.status == PROCESSING) & (Payment.attempts == payment.attempts),
    )
    logger.warning(
        "payment %s: attempt %s failed (%s); retrying in %.1fs",
        payment.id,
        payment.attempts,
        error,
        countdown,
    )
    return RetryLater(countdown=countdown)


def _finish(
    payment: Payment,
    status: str,
    *,
    reason: str | None = None,
    reference: str | None = None,
    failure: Exception | None = None,
) -> None:
    now = _now()
    changes: dict = {"lease_until": None}
    if reference is not None:
        changes |= {"provider_reference": reference, "failure_code": None}
    if status == AUTHORIZED:
        changes["authorized_at"] = now
    if status == COMPLETED:
        changes |= {"amount_captured": int(payment.amount), **_captured_changes(payment, now)}
    if failure is not None:
        changes |= {
            "failure_code": getattr(failure, "code", "provider_error"),
            "failure_message": getattr(failure, "message", str(failure)),
        }
    try:
        _transition(
            payment,
            status,
            actor="worker",
            reason=reason,
            changes=changes,
            condition=Payment.attempts == payment.attempts,
            finish_outbox=True,
        )
    except TransitionConflict:
        logger.warning("payment %s was finished by another worker", payment.id)
    return None


def _captured_changes(payment: Payment, now: datetime) -> dict:
    """Captured money waits for settlement in the sparse ``unsettled`` index."""
    return {
        "captured_at": now,
        "unsettled_key": payment.merchant_id,
        "money_key": f"{time_key(now)}#{payment.id}",
    }


def _not_capturable(payment: Payment, why: str) -> ApplicationError:
    return ApplicationError(
        ErrorCode.PAYMENT_NOT_CAPTURABLE, f"Payment {payment.id} cannot be captured: {why}.", param="id"
    )


def payment_capture(*, payment: Payment, amount: int | None = None, actor: str = "api") -> Payment:
    """Capture an authorized payment once, in full or in part; the rest is released.

    The provider capture is idempotent on the payment id and comes first; the
    conditional transition then lets exactly one of concurrent captures win.
    """
    if payment.status != AUTHORIZED:
        raise _not_capturable(payment, f"it is {payment.status}")
    amount = int(payment.amount) if amount is None else amount
    if not 0 < amount <= int(payment.amount):
        raise ApplicationError(
            ErrorCode.INVALID_REQUEST,
            f"The amount to capture must be more than zero and at most the authorized {payment.amount}.",
            param="amount",
        )
    try:
        provider_get(payment.provider).capture(
            amount=amount, currency=payment.currency, idempotency_key=provider_key(payment)
        )
    except ProviderDecline as decline:
        raise _not_capturable(payment, decline.message) from None
    now = _now()
    try:
        _transition(
            payment,
            COMPLETED,
            actor=actor,
            reason=f"captured {amount} of {payment.amount}",
            changes={"amount_captured": amount, **_captured_changes(payment, now)},
        )
    except TransitionConflict:
        raise _not_capturable(payment, "it was captured or canceled meanwhile") from None
    return payment


def payment_cancel(*, payment: Payment, reason: str = "requested_by_customer", actor: str = "api") -> Payment:
    """Cancel a pending payment, or void an authorized one."""
    if payment.status not in (PENDING, AUTHORIZED):
        raise ApplicationError(
            ErrorCode.PAYMENT_NOT_CANCELABLE,
            f"Payment {payment.id} cannot be canceled: it is {payment.status}.",
            param="id",
        )
    if payment.status == AUTHORIZED:
        provider_get(payment.provider).void(idempotency_key=provider_key(payment))
    now = _now()
    try:
        _transition(
            payment,
            CANCELED,
            actor=actor,
            reason=reason,
            changes={"canceled_at": now, "cancellation_reason": reason},
            finish_outbox=payment.status == PENDING,
        )
    except TransitionConflict:
        raise ApplicationError(
            ErrorCode.PAYMENT_NOT_CANCELABLE,
            f"Payment {payment.id} changed meanwhile and can no longer be canceled.",
            param="id",
        ) from None
    return payment


# Declines the issuer gives for good: card network rules forbid reattempting them.
FINAL_DECLINES = frozenset({"lost_card", "stolen_card", "expired_card", "idempotency_mismatch"})


def provider_key(payment: Payment) -> str:
    """The idempotency key of the payment's charge at its provider.

    An operator's retry is a new charge attempt, so it needs a new key: with
    the old one the provider would answer with the recorded failure.
    """
    retries = int(payment.retries or 0)
    return payment.id if retries == 0 else f"{payment.id}-retry-{retries}"


def payment_retry_refusal(payment: Payment) -> ApplicationError | None:
    """Why an operator may not retry ``payment``, or None if they may."""
    retries = int(payment.retries or 0)
    if payment.status != FAILED:
        why = f"Payment {payment.id} is {payment.status}; only a failed payment can be retried."
    elif payment.failure_code in FINAL_DECLINES:
        why = (
            f"Payment {payment.id} was declined for good ({payment.failure_code}); "
            "card networks forbid retrying it."
        )
    elif retries >= settings.PAYMENTS_OPERATOR_RETRY_LIMIT:
        why = f"Payment {payment.id} was retried {retries} times already, the most allowed."
    else:
        return None
    return ApplicationError(ErrorCode.PAYMENT_NOT_RETRYABLE, why, param="id")


def payment_retry(*, payment: Payment, actor: str, reason: str) -> Payment:
    """Send a failed payment through routing again, as a new charge attempt.

    The payment goes back to pending with its failure cleared and its primary
    provider, and is queued as a new payment is (outbox, then the task).
    """
    refusal = payment_retry_refusal(payment)
    if refusal is not None:
        raise refusal
    retries = int(payment.retries or 0)
    try:
        _transition(
            payment,
            PENDING,
            actor=actor,
            reason=f"retried: {reason}",
            changes={
                "retries": retries + 1,
                "provider": payment.routing["provider"],
                "failure_code": None,
                "failure_message": None,
                "lease_until": None,
            },
            condition=Payment.attempts == payment.attempts,
            start_outbox=True,
        )
    except TransitionConflict:
        raise ApplicationError(
            ErrorCode.PAYMENT_NOT_RETRYABLE,
            f"Payment {payment.id} changed meanwhile; look at it again.",
            param="id",
        ) from None
    outbox_publish(task=PROCESS_TASK, object_id=payment.id)
    return payment


def authorizations_expire(*, now: datetime | None = None) -> int:
    """Cancel authorizations older than AUTHORIZATION_TTL_DAYS; returns how many."""
    now = now or _now()
    cutoff = time_key(now - timedelta(days=settings.AUTHORIZATION_TTL_DAYS))
    expired = 0
    for payment in Payment.by_status.query(AUTHORIZED, Payment.created_key < cutoff):
        try:
            payment_cancel(payment=payment, reason="expired", actor="sweeper")
            expired += 1
        except ApplicationError:
            logger.info("authorization %s was captured or canceled meanwhile", payment.id)
    return expired


# --- Refunds -------------------------------------------------------------------

REFUND_TASK = "payments.tasks.process_refund_task"
REFUNDABLE = frozenset({COMPLETED, PARTIALLY_REFUNDED, REFUNDED})
# Concurrent refunds of one payment retry their optimistic write this often.
REFUND_WRITE_ATTEMPTS = 30


def _status_for_refunded(payment: Payment, refunded: int) -> str:
    if refunded == 0:
        return COMPLETED
    return REFUNDED if refunded >= int(payment.amount_captured) else PARTIALLY_REFUNDED


def _payment_refunded_update(
    transaction, payment: Payment, *, refunded: int, actor: str, reason: str, now
) -> None:
    """Set the payment's refunded total, on condition nobody changed it since it was read.

    The payment's update is the transaction's first update.
    """
    status = _status_for_refunded(payment, refunded)
    if status != payment.status and status not in TRANSITIONS.get(payment.status, ()):
        raise ApplicationError(ErrorCode.INVALID_STATE, f"A {payment.status} payment cannot become {status}.")
    after = Payment(
        payment.id,
        **{**payment.attribute_values, "amount_refunded": refunded, "status": status, "updated_at": now},
    )
    transaction.update(
        payment,
        actions=[
            Payment.amount_refunded.set(refunded),
            Payment.status.set(status),
            Payment.merchant_status.set(f"{payment.merchant_id}#{status}"),
            Payment.updated_at.set(now),
        ],
        condition=(Payment.amount_refunded == payment.amount_refunded) & (Payment.status == payment.status),
    )
    if status != payment.status:
        transaction.save(
            audit_record_new(
                object_id=payment.id,
                merchant_id=payment.merchant_id,
                from_status=payment.status,
                to_status=status,
                actor=actor,
                reason=reason,
                at=now,
            )
        )
        event_record(
            transaction,
            merchant_id=payment.merchant_id,
            type=f"payment.{status}",
            obj=payment_representation(after),
            at=now,
        )


def _collided(exc: TransactWriteError, *, last_item_is_fatal: bool) -> bool:
    """Whether to read again and retry: the payment changed (or was changing) since it was read.

    The last item's condition failing means something else (a lost
    idempotency claim, a refund already handled) when ``last_item_is_fatal``.
    """
    codes = cancellation_codes(exc)
    if last_item_is_fatal and codes and codes[-1] == "ConditionalCheckFailed":
        return False
    return "TransactionConflict" in codes or "ConditionalCheckFailed" in codes


def payment_refund_left(payment: Payment) -> int:
    """What may still be refunded of ``payment`` (minor units); 0 if it cannot be refunded."""
    if payment.status not in REFUNDABLE:
        return 0
    return int(payment.amount_captured) - int(payment.amount_refunded)


def refund_create(
    *,
    merchant_id: str,
    payment_id: str,
    amount: object | None = None,
    reason: str | None = None,
    metadata: dict[str, str] | None = None,
    actor: str = "api",
    claim: IdempotencyClaim | None = None,
) -> tuple[Refund, dict]:
    """Reserve ``amount`` (major units as sent; default: what is left) on the payment; queue the refund.

    The reservation is an optimistic conditional write on the payment's
    refunded total, so concurrent refunds can never exceed the captured amount.
    """
    for _ in range(REFUND_WRITE_ATTEMPTS):
        payment = payment_get(merchant_id=merchant_id, payment_id=payment_id, consistent=True)
        if payment.status not in REFUNDABLE:
            raise ApplicationError(
                ErrorCode.PAYMENT_NOT_REFUNDABLE,
                f"Only completed payments can be refunded; {payment.id} is {payment.status}.",
                param="payment_id",
            )
        left = payment_refund_left(payment)
        wanted = left if amount is None else amount_to_minor(amount, payment.currency)
        if not 0 < wanted <= left:
            raise ApplicationError(
                ErrorCode.REFUND_EXCEEDS_CAPTURED,
                f"The refund exceeds what is left to refund of {payment.id}: "
                f"{format_minor_units(left, payment.currency)} {payment.currency}.",
                param="amount",
            )
        now = _now()
        refund_id = new_id("re")
        log_context_bind(payment_id=payment.id, refund_id=refund_id)
        refund = Refund(
            refund_id,
            merchant_id=merchant_id,
            payment_id=payment.id,
            created_key=created_key(now, refund_id),
            amount=wanted,
            currency=payment.currency,
            status=PENDING,
            reason=reason,
            metadata=metadata or {},
            provider=payment.provider,
            created_at=now,
            updated_at=now,
        )
        body = refund_representation(refund)
        puts = [
            refund,
            audit_record_new(
                object_id=refund.id,
                merchant_id=merchant_id,
                from_status=None,
                to_status=PENDING,
                actor=actor,
                reason="created",
                at=now,
            ),
            outbox_entry_new(task=REFUND_TASK, object_id=refund.id),
        ]
        try:
            with transact_write() as transaction:
                for item in puts:
                    transaction.save(item)
                event_record(transaction, merchant_id=merchant_id, type="refund.created", obj=body, at=now)
                _payment_refunded_update(
                    transaction,
                    payment,
                    refunded=int(payment.amount_refunded) + wanted,
                    actor=actor,
                    reason=f"refund {refund.id}",
                    now=now,
                )
                if claim is not None:
                    idempotency_complete_in(transaction, claim=claim, status=201, body=body)
        except TransactWriteError as exc:
            if _collided(exc, last_item_is_fatal=claim is not None):
                continue  # another refund changed the payment first: read it again
            raise
        if claim is not None:
            claim.completed = True
        outbox_publish(task=REFUND_TASK, object_id=refund.id)
        return refund, body
    raise ApplicationError(
        ErrorCode.INVALID_STATE, "The payment is changing too fast; retry the refund.", param="payment_id"
    )


def refund_process(*, refund_id: str) -> RetryLater | None:
    """Send a pending refund to the provider; on failure give the amount back. Safe to repeat.

    Returns ``RetryLater`` while another worker holds the refund.
    """
    try:
        refund = Refund.get(refund_id, consistent_read=True)
    except Refund.DoesNotExist:
        logger.error("refund %s does not exist; nothing to process", refund_id)
        return None
    log_context_bind(payment_id=refund.payment_id)
    if refund.status != PENDING:
        return None
    # A duplicate message must not call the provider while another worker does.
    retry = lease_take(refund, condition=Refund.status == PENDING)
    if retry is not None:
        return retry
    try:
        result = provider_get(refund.provider).refund(
            amount=int(refund.amount),
            currency=refund.currency,
            idempotency_key=refund.id,
            sandbox_outcome=plain_dict(refund.metadata).get("test_outcome"),
        )
    except ProviderDecline as decline:
        _refund_fail(refund, decline)
        return None
    now = _now()
    with transact_write() as transaction:
        transaction.update(
            refund,
            actions=[
                Refund.status.set(COMPLETED),
                Refund.provider_reference.set(result.reference),
                Refund.completed_at.set(now),
                Refund.updated_at.set(now),
                Refund.unsettled_key.set(refund.merchant_id),
                Refund.money_key.set(f"{time_key(now)}#{refund.id}"),
            ],
            condition=Refund.status == PENDING,
        )
        transaction.save(_refund_audit(refund, COMPLETED, now))
        refund.status, refund.provider_reference, refund.completed_at, refund.updated_at = (
            COMPLETED,
            result.reference,
            now,
            now,
        )
        event_record(
            transaction,
            merchant_id=refund.merchant_id,
            type="refund.completed",
            obj=refund_representation(refund),
            at=now,
        )
        transaction.delete(outbox_entry_ref(task=REFUND_TASK, object_id=refund.id))
    return None


def _refund_audit(refund: Refund, to_status: str, now, reason: str | None = None):
    return audit_record_new(
        object_id=refund.id,
        merchant_id=refund.merchant_id,
        from_status=refund.status,
        to_status=to_status,
        actor="worker",
        reason=reason,
        at=now,
    )


def _refund_fail(refund: Refund, decline: ProviderDecline) -> None:
    for _ in range(REFUND_WRITE_ATTEMPTS):
        payment = Payment.get(refund.payment_id, consistent_read=True)
        now = _now()
        audit = _refund_audit(refund, FAILED, now, reason=decline.code)
        failed = Refund(
            refund.id,
            **{
                **refund.attribute_values,
                "status": FAILED,
                "failure_code": decline.code,
                "failure_message": decline.message,
                "updated_at": now,
            },
        )
        try:
            with transact_write() as transaction:
                transaction.save(audit)
                event_record(
                    transaction,
                    merchant_id=refund.merchant_id,
                    type="refund.failed",
                    obj=refund_representation(failed),
                    at=now,
                )
                _payment_refunded_update(
                    transaction,
                    payment,
                    refunded=int(payment.amount_refunded) - int(refund.amount),
                    actor="worker",
                    reason=f"refund {refund.id} failed",
                    now=now,
                )
                transaction.update(
                    refund,
                    actions=[
                        Refund.status.set(FAILED),
                        Refund.failure_code.set(decline.code),
                        Refund.failure_message.set(decline.message),
                        Refund.updated_at.set(now),
                    ],
                    condition=Refund.status == PENDING,
                )
                transaction.delete(outbox_entry_ref(task=REFUND_TASK, object_id=refund.id))
        except TransactWriteError as exc:
            # The refund's update comes last: if it failed, another task handled the refund.
            if _collided(exc, last_item_is_fatal=True):
                continue
            if cancellation_codes(exc)[-1:] == ["ConditionalCheckFailed"]:
                return
            raise
        return
    raise RuntimeError(f"could not release refund {refund.id}: the payment kept changing")


def payment_days_backfill() -> int:
    """Set ``created_day`` on payments that predate it; a maintenance Scan, never on a request path."""
    updated = 0
    for payment in Payment.scan(Payment.created_day.does_not_exist()):
        updated += update_if(
            payment,
            actions=[Payment.created_day.set(payment.created_at.date().isoformat())],
            condition=Payment.created_day.does_not_exist(),
        )
    return updated
