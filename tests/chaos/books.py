"""The books after a fault: our tables against the providers' own records.

Every payment, refund and disbursement must have reached a final state once
(one audit transition into it, one event), and the providers' books (the
sandbox ``ProviderCharge`` records, kept by idempotency key as a PSP keeps
them) must hold exactly the money our tables say moved: nothing charged that
we failed, nothing we completed that was never charged, no amount differing
by a cent, and balances equal to top-ups minus payouts.
"""

from collections import Counter
from dataclasses import dataclass, field

from customers.tables import Disbursement
from payflow.audit.selectors import audit_history
from payflow.balances.selectors import balances_available
from payflow.events.tables import Event
from payflow.money import format_minor_units
from payments.services import provider_key
from payments.tables import Payment, ProviderCharge, Refund

SUCCEEDED = "succeeded"


@dataclass
class Books:
    objects: int = 0
    money: Counter = field(default_factory=Counter)  # currency -> minor units checked
    problems: list[str] = field(default_factory=list)  # lost or duplicated money, double transitions
    repeated_calls: int = 0  # provider calls repeated after a lost answer (booked once by key)

    @property
    def money_checked(self) -> str:
        return ", ".join(format_minor_units(v, c) + f" {c}" for c, v in sorted(self.money.items()))

    def report(self, figures: dict) -> None:
        figures["objects checked"] = self.objects
        figures["money checked"] = self.money_checked
        figures["repeated provider calls (booked once)"] = self.repeated_calls
        figures["duplicates or losses found"] = len(self.problems)


def check(merchant_ids: list[str], *, top_ups: dict[tuple[str, str], int] | None = None) -> Books:
    books = Books()
    charges = {c.key: c for c in ProviderCharge.scan(consistent_read=True)}
    matched: set[str] = set()
    books.repeated_calls = sum(int(c.calls) - 1 for c in charges.values())

    def provider_record(key: str, amount: int, what: str, *, moved: bool) -> None:
        """``moved``: our books say the money moved, so the provider must have exactly that."""
        charge = charges.get(key)
        if charge is not None:
            matched.add(key)
        if moved:
            if charge is None or charge.outcome != SUCCEEDED:
                books.problems.append(f"{what}: completed in our books, not at the provider")
            elif int(charge.amount) != amount:
                books.problems.append(f"{what}: {amount} in our books, {charge.amount} at the provider")
        elif charge is not None and charge.outcome == SUCCEEDED:
            books.problems.append(f"{what}: taken by the provider, failed in our books")

    def once(object_id: str, finals: set[str], events: set[str]) -> None:
        transitions = [a for a in audit_history(object_id=object_id) if a.to_status in finals]
        if len(transitions) != 1:
            books.problems.append(f"{object_id}: {len(transitions)} transitions into {sorted(finals)}")
        published = [e for e in Event.by_object.query(object_id) if e.type in events]
        if len(published) != 1:
            books.problems.append(f"{object_id}: {len(published)} events of {sorted(events)}")

    for merchant_id in merchant_ids:
        for listed in Payment.by_merchant.query(merchant_id):
            payment = Payment.get(listed.id, consistent_read=True)
            books.objects += 1
            if payment.status in ("pending", "processing"):
                books.problems.append(f"{payment.id}: still {payment.status}")
                continue
            once(
                payment.id,
                {"completed", "failed", "authorized"},
                {"payment.completed", "payment.failed", "payment.authorized"},
            )
            operation = "charge" if payment.capture else "authorize"
            captured = int(payment.amount_captured)
            provider_record(
                f"{payment.provider}#{operation}#{provider_key(payment)}",
                int(payment.amount),
                payment.id,
                moved=payment.status not in ("failed",),
            )
            books.money[payment.currency] += captured
        for listed in Refund.by_merchant.query(merchant_id):
            refund = Refund.get(listed.id, consistent_read=True)
            books.objects += 1
            if refund.status == "pending":
                books.problems.append(f"{refund.id}: still pending")
                continue
            once(refund.id, {"completed", "failed"}, {"refund.completed", "refund.failed"})
            provider_record(
                f"{refund.provider}#refund#{refund.id}",
                int(refund.amount),
                refund.id,
                moved=refund.status == "completed",
            )
            books.money[refund.currency] += int(refund.amount)
        paid_out: Counter = Counter()
        for listed in Disbursement.by_merchant.query(merchant_id):
            disbursement = Disbursement.get(listed.id, consistent_read=True)
            books.objects += 1
            if disbursement.status in ("pending", "processing"):
                books.problems.append(f"{disbursement.id}: still {disbursement.status}")
                continue
            once(
                disbursement.id,
                {"completed", "failed"},
                {"disbursement.completed", "disbursement.failed"},
            )
            completed = disbursement.status == "completed"
            provider_record(
                f"{disbursement.method}#payout#{disbursement.id}",
                int(disbursement.amount),
                disbursement.id,
                moved=completed,
            )
            if completed:
                paid_out[disbursement.currency] += int(disbursement.amount)
            books.money[disbursement.currency] += int(disbursement.amount)
        for (owner, currency), amount in (top_ups or {}).items():
            if owner != merchant_id:
                continue
            balance = balances_available(merchant_id=merchant_id).get(currency, 0)
            if balance != amount - paid_out[currency]:
                expected = amount - paid_out[currency]
                books.problems.append(f"{merchant_id} {currency}: balance {balance}, expected {expected}")

    for key, charge in charges.items():
        if (
            key not in matched
            and charge.outcome == SUCCEEDED
            and "#capture#" not in key
            and "#void#" not in key
        ):
            books.problems.append(f"provider record {key} ({charge.amount} {charge.currency}) has no object")
    return books
