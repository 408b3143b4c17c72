"""The books after a fault: our tables against the providers' own records.

Every payment, refund and disbursement must have reached a final state once
(one audit transition into it, one event), and the providers' books (the
sandbox ``ProviderCharge`` records, kept by idempotency key as a PSP keeps
them) must hold exactly the money our tables say moved: nothing charged that
we failed, nothing we completed that was never charged, no amount differing
by a cent, and balances equal to top-ups minus payouts.
"""

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from customers.tables import Disbursement
from payflow.audit.selectors import audit_history
from payflow.balances.selectors import balances_available
from payflow.events.tables import Event
from payflow.money import format_minor_units
from payments.services import provider_key
from payments.tables import Payment, ProviderCharge, Refund

SUCCEEDED = "succeeded"


@dataclass(frozen=True)
class Kind:
    """How one kind of object is checked against the providers' books."""

    model: type
    unfinished: tuple[str, ...]
    finals: frozenset[str]  # the statuses it reaches once, each with its event
    provider_key: Callable  # object -> its ProviderCharge key
    moved: Callable  # object -> whether our books say the money moved
    money: Callable  # object -> the minor units counted as checked


def _event_types(noun: str, finals) -> frozenset[str]:
    return frozenset(f"{noun}.{status}" for status in finals)


KINDS = {
    "payment": Kind(
        Payment,
        ("pending", "processing"),
        frozenset({"completed", "failed", "authorized"}),
        lambda p: f"{p.provider}#{'charge' if p.capture else 'authorize'}#{provider_key(p)}",
        lambda p: p.status != "failed",
        lambda p: int(p.amount_captured),
    ),
    "refund": Kind(
        Refund,
        ("pending",),
        frozenset({"completed", "failed"}),
        lambda r: f"{r.provider}#refund#{r.id}",
        lambda r: r.status == "completed",
        lambda r: int(r.amount),
    ),
    "disbursement": Kind(
        Disbursement,
        ("pending", "processing"),
        frozenset({"completed", "failed"}),
        lambda d: f"{d.method}#payout#{d.id}",
        lambda d: d.status == "completed",
        lambda d: int(d.amount),
    ),
}


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

    def against_provider(kind: Kind, item) -> None:
        """The money moved at both, for the same amount, or at neither."""
        key = kind.provider_key(item)
        charge = charges.get(key)
        if charge is not None:
            matched.add(key)
        if kind.moved(item):
            if charge is None or charge.outcome != SUCCEEDED:
                books.problems.append(f"{item.id}: completed in our books, not at the provider")
            elif int(charge.amount) != int(item.amount):
                books.problems.append(
                    f"{item.id}: {item.amount} in our books, {charge.amount} at the provider"
                )
        elif charge is not None and charge.outcome == SUCCEEDED:
            books.problems.append(f"{item.id}: taken by the provider, failed in our books")

    def once(noun: str, kind: Kind, item) -> None:
        transitions = [a for a in audit_history(object_id=item.id) if a.to_status in kind.finals]
        if len(transitions) != 1:
            books.problems.append(f"{item.id}: {len(transitions)} transitions into {sorted(kind.finals)}")
        events = _event_types(noun, kind.finals)
        published = [e for e in Event.by_object.query(item.id) if e.type in events]
        if len(published) != 1:
            books.problems.append(f"{item.id}: {len(published)} events of {sorted(events)}")

    for merchant_id in merchant_ids:
        paid_out: Counter = Counter()
        for noun, kind in KINDS.items():
            for listed in kind.model.by_merchant.query(merchant_id):
                item = kind.model.get(listed.id, consistent_read=True)
                books.objects += 1
                if item.status in kind.unfinished:
                    books.problems.append(f"{item.id}: still {item.status}")
                    continue
                once(noun, kind, item)
                against_provider(kind, item)
                books.money[item.currency] += kind.money(item)
                if noun == "disbursement" and kind.moved(item):
                    paid_out[item.currency] += int(item.amount)
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
