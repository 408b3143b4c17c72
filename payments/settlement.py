"""T+1 settlement and the money check.

A run settles, per merchant and currency, every captured payment and every
completed refund from before the cutoff (the midnight UTC after ``day``)
that is not settled yet. It is safe to repeat and to crash:

1. the settlement record is opened (``in_progress``) under an id derived
   from merchant, currency and day, so a re-run finds the same record;
2. each item is marked with that id by a conditional write (never twice);
3. the totals are computed from the items that carry the id, the CSV report
   is written to S3, and the record is completed with its
   ``settlement.completed`` event in one transaction.

A run that dies after 1 or 2 is finished by the next run, which also picks
up every settlement still ``in_progress``.
"""

import csv
import hashlib
import io
import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from celery import current_app
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from pynamodb.exceptions import PutError

from payflow.aws.dynamodb import condition_failed, transact_write, update_if
from payflow.balances.services import balance_credit_in
from payflow.errors import ApplicationError, ErrorCode
from payflow.events.services import event_record
from payflow.money import currency_exponent, format_minor_units, round_half_even_minor

from .representations import iso, settlement_representation
from .tables import Payment, Refund, Settlement, time_key

logger = logging.getLogger(__name__)

IN_PROGRESS, COMPLETED = "in_progress", "completed"


def payment_fee(amount_captured: int, currency: str) -> int:
    """The processing fee of a captured amount, in minor units (2.9 % + 0.30 by default)."""
    percent = round_half_even_minor(Decimal(amount_captured) * Decimal(settings.SETTLEMENT_FEE_PERCENT) / 100)
    fixed = round_half_even_minor(Decimal(settings.SETTLEMENT_FEE_FIXED).scaleb(currency_exponent(currency)))
    return percent + fixed


def settlement_id_for(*, merchant_id: str, currency: str, day: date) -> str:
    digest = hashlib.sha256(f"{merchant_id}|{currency}|{day.isoformat()}".encode()).hexdigest()
    return f"stl_{digest[:24]}"


def _cutoff(day: date) -> datetime:
    return datetime.combine(day + timedelta(days=1), time.min, tzinfo=UTC)


SETTLE_DAY_TASK = "payments.tasks.settle_day_task"


def settlement_request(*, day: date) -> datetime:
    """Queue the settlement of ``day`` for every merchant, as the nightly run does; returns its cutoff.

    Only a day that has ended (UTC) can be settled: one still running would be
    closed with part of its money, and the rest left for no settlement.
    """
    if day >= datetime.now(UTC).date():
        raise ApplicationError(
            ErrorCode.INVALID_REQUEST, "Only a day that has ended (UTC) can be settled.", param="day"
        )
    # By name: the task module imports this one.
    current_app.send_task(SETTLE_DAY_TASK, args=[day.isoformat()])
    return _cutoff(day)


@dataclass(frozen=True)
class RunResult:
    settlements: list[str]
    payments: int
    refunds: int


def settlement_run(*, day: date, merchant_ids: list[str]) -> RunResult:
    """Settle ``day`` for these merchants, and finish any settlement left in progress."""
    cutoff = _cutoff(day)
    touched: set[str] = set()
    payments = refunds = 0
    for merchant_id in merchant_ids:
        unsettled = defaultdict(lambda: ([], []))
        for payment in Payment.unsettled.query(merchant_id, Payment.money_key < time_key(cutoff)):
            unsettled[payment.currency][0].append(payment)
        for refund in Refund.unsettled.query(merchant_id, Refund.money_key < time_key(cutoff)):
            unsettled[refund.currency][1].append(refund)
        for currency, (currency_payments, currency_refunds) in unsettled.items():
            settlement = _open(merchant_id=merchant_id, currency=currency, day=day)
            payments += sum(_mark_payment(p, settlement.id) for p in currency_payments)
            refunds += sum(_mark_refund(r, settlement.id) for r in currency_refunds)
            touched.add(settlement.id)
    for settlement in Settlement.by_status.query(IN_PROGRESS):
        _complete(settlement)
        touched.add(settlement.id)
    return RunResult(settlements=sorted(touched), payments=payments, refunds=refunds)


def _open(*, merchant_id: str, currency: str, day: date) -> Settlement:
    settlement_id = settlement_id_for(merchant_id=merchant_id, currency=currency, day=day)
    now = datetime.now(UTC)
    settlement = Settlement(
        settlement_id,
        merchant_id=merchant_id,
        currency=currency,
        day=day.isoformat(),
        cutoff=_cutoff(day),
        status=IN_PROGRESS,
        created_key=f"{time_key(now)}#{settlement_id}",
        created_at=now,
    )
    try:
        settlement.save(condition=Settlement.id.does_not_exist())
    except PutError as exc:
        if not condition_failed(exc):
            raise
        settlement = Settlement.get(settlement_id, consistent_read=True)
        if settlement.status == COMPLETED:
            # Items left over for a day already settled: reopen it.
            settlement.update(actions=[Settlement.status.set(IN_PROGRESS)])
    return settlement


def _mark_payment(payment: Payment, settlement_id: str) -> bool:
    fee = payment_fee(int(payment.amount_captured), payment.currency)
    # False: settled by a concurrent run.
    return update_if(
        payment,
        actions=[
            Payment.settlement_id.set(settlement_id),
            Payment.settled_at.set(datetime.now(UTC)),
            Payment.fee.set(fee),
            Payment.unsettled_key.remove(),
        ],
        condition=Payment.settlement_id.does_not_exist(),
    )


def _mark_refund(refund: Refund, settlement_id: str) -> bool:
    return update_if(
        refund,
        actions=[
            Refund.settlement_id.set(settlement_id),
            Refund.settled_at.set(datetime.now(UTC)),
            Refund.unsettled_key.remove(),
        ],
        condition=Refund.settlement_id.does_not_exist(),
    )


def _complete(settlement: Settlement) -> None:
    payments = list(Payment.by_settlement.query(settlement.id))
    refunds = list(Refund.by_settlement.query(settlement.id))
    gross = sum(int(p.amount_captured) for p in payments)
    refunded = sum(int(r.amount) for r in refunds)
    fees = sum(int(p.fee) for p in payments)
    report_path = f"settlements/{settlement.merchant_id}/{settlement.id}.csv"
    if default_storage.exists(report_path):
        default_storage.delete(report_path)
    default_storage.save(
        report_path, ContentFile(settlement_report_csv(settlement.currency, payments, refunds))
    )

    now = datetime.now(UTC)
    already_credited = settlement.credited
    settlement.payment_count, settlement.refund_count = len(payments), len(refunds)
    settlement.gross, settlement.refunds, settlement.fees = gross, refunded, fees
    settlement.net = gross - refunded - fees
    settlement.status, settlement.completed_at, settlement.report_path = COMPLETED, now, report_path
    settlement.credited = settlement.net
    with transact_write() as transaction:
        # The balance gets what this completion adds, exactly once.
        transaction.save(
            settlement,
            condition=Settlement.credited.does_not_exist()
            if already_credited is None
            else Settlement.credited == already_credited,
        )
        delta = int(settlement.net) - int(already_credited or 0)
        if delta:
            balance_credit_in(
                transaction,
                merchant_id=settlement.merchant_id,
                currency=settlement.currency,
                amount=delta,
                kind="settlement",
                reference=settlement.id,
                at=now,
            )
        # One event per completion of a settlement id and day; a re-run overwrites it.
        event_record(
            transaction,
            merchant_id=settlement.merchant_id,
            type="settlement.completed",
            obj=settlement_representation(settlement),
            at=now,
            event_id="evt_" + settlement.id.removeprefix("stl_"),
        )
    logger.info(
        "settlement %s completed: %s payments, %s refunds", settlement.id, len(payments), len(refunds)
    )


def settlement_report_csv(currency: str, payments: list[Payment], refunds: list[Refund]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["id", "type", "amount", "fee", "net", "created", "captured_or_refunded_at"])
    money = lambda minor: format_minor_units(minor, currency)  # noqa: E731
    for p in sorted(payments, key=lambda p: p.money_key):
        captured, fee = int(p.amount_captured), int(p.fee)
        writer.writerow(
            [
                p.id,
                "payment",
                money(captured),
                money(fee),
                money(captured - fee),
                iso(p.created_at),
                iso(p.captured_at),
            ]
        )
    for r in sorted(refunds, key=lambda r: r.money_key):
        writer.writerow(
            [
                r.id,
                "refund",
                money(-int(r.amount)),
                money(0),
                money(-int(r.amount)),
                iso(r.created_at),
                iso(r.completed_at),
            ]
        )
    return buffer.getvalue()


@dataclass(frozen=True)
class Difference:
    merchant_id: str
    currency: str
    expected: int
    found: int
    detail: str


def money_reconcile(*, merchant_ids: list[str]) -> list[Difference]:
    """Check that captured - refunded - fees = settled net + not yet settled, per merchant and currency.

    Also checks every completed settlement's totals against the items that
    carry its id. Any difference of even one minor unit is reported.
    """
    differences: list[Difference] = []
    for merchant_id in merchant_ids:
        books: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        # Money of a settlement still in progress counts as not yet settled.
        completed = set()
        for settlement in Settlement.by_merchant.query(merchant_id):
            if settlement.status != COMPLETED:
                continue
            completed.add(settlement.id)
            books[settlement.currency]["settled"] += int(settlement.net)
            items_net = sum(
                int(p.amount_captured) - int(p.fee) for p in Payment.by_settlement.query(settlement.id)
            )
            items_net -= sum(int(r.amount) for r in Refund.by_settlement.query(settlement.id))
            if items_net != int(settlement.net):
                differences.append(
                    Difference(
                        merchant_id,
                        settlement.currency,
                        items_net,
                        int(settlement.net),
                        f"net of {settlement.id}",
                    )
                )
        for payment in Payment.by_merchant.query(merchant_id):
            captured = int(payment.amount_captured)
            if not captured:
                continue
            fee = payment_fee(captured, payment.currency)
            book = books[payment.currency]
            book["captured"] += captured
            book["fees"] += fee
            if payment.settlement_id not in completed:
                book["unsettled"] += captured - fee
            elif int(payment.fee) != fee:
                differences.append(
                    Difference(merchant_id, payment.currency, fee, int(payment.fee), f"fee of {payment.id}")
                )
        for refund in Refund.by_merchant.query(merchant_id):
            if refund.status != COMPLETED:
                continue
            book = books[refund.currency]
            book["refunded"] += int(refund.amount)
            if refund.settlement_id not in completed:
                book["unsettled"] -= int(refund.amount)
        for currency, book in books.items():
            expected = book["captured"] - book["refunded"] - book["fees"]
            found = book["settled"] + book["unsettled"]
            if expected != found:
                differences.append(
                    Difference(merchant_id, currency, expected, found, "captured - refunded - fees")
                )
    return differences
