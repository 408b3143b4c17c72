"""Customer writes, and disbursements: paying money out to customers."""

import json
import logging
import time
from datetime import UTC, datetime

from django.conf import settings
from django.core.mail import send_mail
from pynamodb.exceptions import TransactWriteError

from payflow.audit.services import audit_record_new
from payflow.aws.clients import aws_client
from payflow.aws.dynamodb import (
    cancellation_codes,
    conditions_failed,
    transact_write,
    transact_write_retrying,
    update_if,
)
from payflow.aws.leases import RetryLater, lease_seconds, lease_take
from payflow.balances.services import balance_credit_in, balance_debit_in, insufficient_balance
from payflow.balances.tables import Balance
from payflow.errors import ApplicationError, ErrorCode
from payflow.events.services import event_record
from payflow.idempotency.services import idempotency_complete_in
from payflow.ids import new_id
from payflow.money import amount_to_minor
from payflow.outbox.services import outbox_entry_new, outbox_entry_ref, outbox_publish
from payments.representations import plain_dict
from payments.tables import time_key

from .payouts import ACH_RETURN_CODE, PayoutDeclined, PayoutNotConfigured, payout_send
from .representations import customer_representation, disbursement_representation
from .selectors import customer_get, reference_key
from .tables import Customer, Disbursement

logger = logging.getLogger(__name__)


def _now() -> datetime:
    return datetime.now(UTC)


def customer_create(
    *,
    merchant_id: str,
    email: str,
    customer_id: str | None = None,
    name: str | None = None,
    metadata: dict[str, str] | None = None,
    claim=None,
) -> tuple[Customer, dict]:
    """Create a customer; the merchant's own ``customer_id`` is unique per merchant (409 otherwise)."""
    now = _now()
    customer = Customer(
        new_id("cus"),
        merchant_id=merchant_id,
        customer_id=customer_id,
        email=email,
        name=name,
        metadata=metadata or {},
        created_at=now,
        updated_at=now,
    )
    customer.created_key = f"{time_key(now)}#{customer.id}"
    body = customer_representation(customer)
    try:
        with transact_write() as transaction:
            transaction.save(customer, condition=Customer.id.does_not_exist())
            if customer_id is not None:
                transaction.save(
                    Customer(
                        reference_key(merchant_id, customer_id), merchant_id=merchant_id, target=customer.id
                    ),
                    condition=Customer.id.does_not_exist(),
                )
            event_record(transaction, merchant_id=merchant_id, type="customer.created", obj=body, at=now)
            if claim is not None:
                idempotency_complete_in(transaction, claim=claim, status=201, body=body)
    except TransactWriteError as exc:
        if customer_id is not None and cancellation_codes(exc)[1:2] == ["ConditionalCheckFailed"]:
            raise ApplicationError(
                ErrorCode.CUSTOMER_EXISTS,
                f"A customer with customer_id '{customer_id}' exists.",
                param="customer_id",
            ) from None
        raise
    if claim is not None:
        claim.completed = True
    return customer, body


def customer_update(
    *, customer: Customer, email: str | None = None, name: str | None = None, metadata: dict | None = None
) -> Customer:
    now = _now()
    actions = [Customer.updated_at.set(now)]
    if email is not None:
        customer.email = email
        actions.append(Customer.email.set(email))
    if name is not None:
        customer.name = name
        actions.append(Customer.name.set(name))
    if metadata is not None:
        customer.metadata = metadata
        actions.append(Customer.metadata.set(metadata))
    customer.updated_at = now
    with transact_write() as transaction:
        transaction.update(customer, actions=actions, condition=Customer.id.exists())
        event_record(
            transaction,
            merchant_id=customer.merchant_id,
            type="customer.updated",
            obj=customer_representation(customer),
            at=now,
        )
    return customer


# --- Disbursements -------------------------------------------------------------

DISBURSE_TASK = "customers.tasks.process_disbursement_task"
NOTIFY_TASK = "customers.tasks.notify_disbursement_task"
PENDING, PROCESSING, COMPLETED, FAILED, RETURNED = "pending", "processing", "completed", "failed", "returned"
FINAL = frozenset({COMPLETED, FAILED, RETURNED})


def disbursement_create(
    *,
    merchant_id: str,
    customer_id: str,
    amount: object,
    currency: str,
    method: str,
    email: str | None = None,
    description: str | None = None,
    metadata: dict[str, str] | None = None,
    claim=None,
) -> tuple[Disbursement, dict]:
    """Reserve the amount on the merchant's balance and queue the payout.

    The balance debit is conditional on it covering the amount, in the same
    transaction as the disbursement, so concurrent payouts never overdraw.
    """
    customer = customer_get(merchant_id=merchant_id, customer_id=customer_id)
    minor = amount_to_minor(amount, currency)
    now = _now()
    disbursement_id = new_id("dsb")
    disbursement = Disbursement(
        disbursement_id,
        merchant_id=merchant_id,
        customer_id=customer.id,
        created_key=f"{time_key(now)}#{disbursement_id}",
        merchant_status=f"{merchant_id}#{PENDING}",
        merchant_customer=f"{merchant_id}#{customer.id}",
        amount=minor,
        currency=currency,
        method=method,
        email=email or customer.email,
        description=description,
        metadata=metadata or {},
        status=PENDING,
        created_at=now,
        updated_at=now,
    )
    body = disbursement_representation(disbursement)

    def write(transaction) -> None:
        transaction.save(disbursement, condition=Disbursement.id.does_not_exist())
        transaction.save(_audit(disbursement, None, PENDING, "api", "created", now))
        transaction.save(outbox_entry_new(task=DISBURSE_TASK, object_id=disbursement_id))
        event_record(transaction, merchant_id=merchant_id, type="disbursement.created", obj=body, at=now)
        balance_debit_in(
            transaction,
            merchant_id=merchant_id,
            currency=currency,
            amount=minor,
            kind="disbursement",
            reference=disbursement_id,
            at=now,
        )
        if claim is not None:
            idempotency_complete_in(transaction, claim=claim, status=201, body=body)

    try:
        transact_write_retrying(write, attempts=20)
    except TransactWriteError as exc:
        if any(isinstance(item, Balance) for item in conditions_failed(exc)):
            raise insufficient_balance(currency) from None
        raise
    if claim is not None:
        claim.completed = True
    outbox_publish(task=DISBURSE_TASK, object_id=disbursement_id)
    return disbursement, body


def _audit(disbursement: Disbursement, from_status, to_status: str, actor: str, reason, at):
    return audit_record_new(
        object_id=disbursement.id,
        merchant_id=disbursement.merchant_id,
        from_status=from_status,
        to_status=to_status,
        actor=actor,
        reason=reason,
        at=at,
    )


def _move(
    disbursement: Disbursement,
    to_status: str,
    *,
    actions: list,
    reason: str | None = None,
    refund_balance: bool = False,
    finish: bool = False,
) -> bool:
    """One conditional transition with its audit record and event; False if someone moved it first."""
    now = _now()
    from_status = disbursement.status
    disbursement.status, disbursement.updated_at = to_status, now

    def write(transaction) -> None:
        transaction.update(
            disbursement,
            actions=[
                Disbursement.status.set(to_status),
                Disbursement.merchant_status.set(f"{disbursement.merchant_id}#{to_status}"),
                Disbursement.updated_at.set(now),
                *actions,
            ],
            condition=Disbursement.status == from_status,
        )
        transaction.save(_audit(disbursement, from_status, to_status, "worker", reason, now))
        if to_status in FINAL:
            # The notification must not be lost either: it goes through the outbox too.
            transaction.save(outbox_entry_new(task=NOTIFY_TASK, object_id=disbursement.id))
            event_record(
                transaction,
                merchant_id=disbursement.merchant_id,
                type=f"disbursement.{to_status}",
                obj=disbursement_representation(disbursement),
                at=now,
            )
        if refund_balance:
            balance_credit_in(
                transaction,
                merchant_id=disbursement.merchant_id,
                currency=disbursement.currency,
                amount=int(disbursement.amount),
                kind="disbursement_reversal",
                reference=disbursement.id,
                at=now,
                description=reason,
            )
        if finish:
            transaction.delete(outbox_entry_ref(task=DISBURSE_TASK, object_id=disbursement.id))

    try:
        transact_write_retrying(write)
    except TransactWriteError as exc:
        if "ConditionalCheckFailed" in cancellation_codes(exc):
            disbursement.status = from_status
            return False
        raise
    if to_status in FINAL:
        outbox_publish(task=NOTIFY_TASK, object_id=disbursement.id)
    return True


def disbursement_process(*, disbursement_id: str) -> RetryLater | None:
    """Pay a pending disbursement out; safe to run any number of times.

    Returns ``RetryLater`` while another worker holds the disbursement.
    """
    try:
        disbursement = Disbursement.get(disbursement_id, consistent_read=True)
    except Disbursement.DoesNotExist:
        logger.error("disbursement %s does not exist; nothing to process", disbursement_id)
        return None
    if disbursement.status == PENDING:
        # Moving it to processing takes the lease: a duplicate message loses the move.
        lease = Disbursement.lease_until.set(int(time.time()) + lease_seconds())
        if not _move(disbursement, PROCESSING, actions=[lease]):
            return None
    elif disbursement.status == PROCESSING and not disbursement.ach_due:
        # Resumed after a crash, or a duplicate: one worker at a time calls the provider.
        retry = lease_take(
            disbursement,
            condition=(Disbursement.status == PROCESSING) & Disbursement.ach_due.does_not_exist(),
        )
        if retry is not None:
            return retry
    if disbursement.status != PROCESSING or disbursement.ach_due:
        return None
    test_outcome = plain_dict(disbursement.metadata).get("test_outcome")
    try:
        result = payout_send(
            method=disbursement.method,
            amount=int(disbursement.amount),
            currency=disbursement.currency,
            email=disbursement.email,
            idempotency_key=disbursement.id,
            test_outcome=test_outcome,
        )
    except (PayoutDeclined, PayoutNotConfigured) as error:
        code = getattr(error, "code", "provider_not_configured")
        _move(
            disbursement,
            FAILED,
            actions=[Disbursement.failure_code.set(code), Disbursement.failure_message.set(str(error))],
            reason=code,
            refund_balance=True,
            finish=True,
        )
        return None
    if disbursement.method == "ach":
        # ACH settles days later; the ach-due index hands it to the beat task then.
        settles_at = int(time.time()) + settings.ACH_SETTLEMENT_DELAY_SECONDS
        disbursement.update(
            actions=[
                Disbursement.provider_reference.set(result.reference),
                Disbursement.ach_due.set("ach"),
                Disbursement.settles_at.set(settles_at),
                Disbursement.return_code.set(ACH_RETURN_CODE if result.returned else None),
            ],
            condition=Disbursement.status == PROCESSING,
        )
        return None
    _move(
        disbursement,
        COMPLETED,
        actions=[
            Disbursement.provider_reference.set(result.reference),
            Disbursement.completed_at.set(_now()),
        ],
        finish=True,
    )
    return None


def ach_settle_due() -> int:
    """Complete (or return) every ACH payout whose settlement delay has passed."""
    settled = 0
    for disbursement in Disbursement.ach_due_index.query("ach", Disbursement.settles_at <= int(time.time())):
        if disbursement.return_code:
            moved = _move(
                disbursement,
                RETURNED,
                actions=[Disbursement.ach_due.remove(), Disbursement.failure_code.set("ach_returned")],
                reason=f"returned {disbursement.return_code}",
                refund_balance=True,
                finish=True,
            )
        else:
            moved = _move(
                disbursement,
                COMPLETED,
                actions=[Disbursement.ach_due.remove(), Disbursement.completed_at.set(_now())],
                finish=True,
            )
        settled += moved
    return settled


def disbursement_notify(*, disbursement_id: str) -> bool:
    """Tell the customer how their payout ended: email once, and SNS if configured."""
    disbursement = Disbursement.get(disbursement_id, consistent_read=True)
    if disbursement.status not in FINAL or disbursement.notified == disbursement.status:
        outbox_entry_ref(task=NOTIFY_TASK, object_id=disbursement_id).delete()
        return False
    body = disbursement_representation(disbursement)
    amount = f"{body['amount']} {disbursement.currency}"
    subject = {
        COMPLETED: f"Your payout of {amount} is on its way",
        FAILED: f"Your payout of {amount} could not be made",
        RETURNED: f"Your payout of {amount} was returned by your bank",
    }[disbursement.status]
    # Claim the notification first: a duplicate task finds it claimed.
    if not update_if(
        disbursement,
        actions=[Disbursement.notified.set(disbursement.status)],
        condition=Disbursement.notified.does_not_exist() | (Disbursement.notified != disbursement.status),
    ):
        return False
    try:
        if disbursement.email:
            send_mail(subject, f"{subject}.\n\nReference: {disbursement.id}\n", None, [disbursement.email])
        if settings.DISBURSEMENT_SNS_TOPIC_ARN:
            aws_client("sns").publish(
                TopicArn=settings.DISBURSEMENT_SNS_TOPIC_ARN,
                Subject=subject[:100],
                Message=json.dumps({"type": f"disbursement.{disbursement.status}", "disbursement": body}),
            )
    except Exception:
        # Not sent: give the claim back so that the outbox sweeper tries again.
        disbursement.update(actions=[Disbursement.notified.remove()])
        raise
    outbox_entry_ref(task=NOTIFY_TASK, object_id=disbursement_id).delete()
    return True
