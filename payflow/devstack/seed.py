"""Seed a local stack with operator-console data: payments written straight into DynamoDB.

``make bench``'s admin phase runs it against its own emulator and SQLite::

    manage.py shell -c "from payflow.devstack.seed import main; main(payments=10000)"

Why not through the API: on this 2-core machine the API takes ~35 payments/s
and the worker finishes ~14/s while the CPU is shared (measured), so 10,000
would take over ten minutes, and every payment would be dated today, while
the operators' lists need weeks of data. So the items are written as the
services write them (the same tables, keys, helpers and audit/event shapes)
with batch writes: merchants created 5 days before the first payment,
customers, payments of every status, type and provider spread over the last
``days`` days, each with its audit trail and events, refunds, and a webhook
endpoint per merchant with a delivery of each outcome event. The data is
only as real as its shapes: no provider was called and nothing is settled.
"""

import json
import random
import time
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

from pynamodb.models import Model

from customers.representations import customer_representation
from customers.selectors import reference_key
from customers.tables import Customer
from payflow.audit.services import audit_record_new
from payflow.events.services import event_new
from payflow.ids import new_id, random_token
from payflow.merchants.services import merchant_create
from payments.cards import CardDetails
from payments.providers import provider_get
from payments.providers.sandbox import DECLINES
from payments.representations import payment_representation, refund_representation
from payments.routing import payment_route
from payments.tables import Payment, Refund, created_key, time_key
from webhooks.services import ENABLED, FAILED, SUCCEEDED, delivery_id_of, event_payload
from webhooks.signing import secret_new
from webhooks.tables import Attempt, WebhookDelivery, WebhookEndpoint

# (name, share of the payments): uneven, as real merchants are.
MERCHANTS = (
    ("Northwind Traders", 0.40),
    ("Globex Retail", 0.25),
    ("Initech Subscriptions", 0.15),
    ("Umbrella Travel", 0.12),
    ("Acme Marketplace", 0.08),
)
STATUSES = {
    "completed": 0.62,
    "failed": 0.12,
    "refunded": 0.07,
    "partially_refunded": 0.06,
    "authorized": 0.05,
    "canceled": 0.04,
    "pending": 0.04,
}
TYPES = {"card": 0.45, "eft": 0.15, "ach": 0.15, "upi": 0.10, "wallet": 0.10, "wire": 0.05}
CURRENCIES = {"USD": 0.65, "EUR": 0.15, "GBP": 0.10, "CAD": 0.10}
BRANDS = {"visa": 0.55, "mastercard": 0.30, "amex": 0.10, "discover": 0.05}
# The merchants' endpoints hear of outcomes, not of every step.
HOOKED_EVENTS = [
    "payment.authorized",
    "payment.completed",
    "payment.failed",
    "payment.partially_refunded",
    "payment.refunded",
    "refund.completed",
    "refund.failed",
]
CUSTOMER_EVERY = 25  # one customer per this many payments
WITH_CUSTOMER, WITH_KEY, REROUTED, HOOK_FAILED, HIGH_VALUE = 0.4, 0.85, 0.05, 0.03, 0.02
CHUNK = 250  # payments generated and written per task
THREADS = 4


def pick(rng: random.Random, weights: dict[str, float]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


class Batch:
    """Items of one chunk, by table; ``write`` batch-writes them (25 a request, retrying unprocessed)."""

    def __init__(self) -> None:
        self.items: dict[type[Model], list[Model]] = defaultdict(list)
        self.counts: Counter[str] = Counter()

    def add(self, item: Model) -> None:
        self.items[type(item)].append(item)
        self.counts["items"] += 1

    def write(self) -> None:
        for model, items in self.items.items():
            with model.batch_write() as batch:
                for item in items:
                    batch.save(item)


class Seeder:
    def __init__(self, *, payments: int, days: float, seed: int) -> None:
        self.payments, self.days, self.seed = payments, days, seed
        self.now = datetime.now(UTC)
        self.merchants: list[tuple[str, str, float]] = []  # id, name, share
        self.endpoints: dict[str, str] = {}  # merchant id -> endpoint id
        self.customers: dict[str, list[str]] = {}  # merchant id -> customer ids
        self.samples: dict[str, str] = {}
        self.by_merchant: Counter[str] = Counter()

    # --- the setting: merchants, their endpoints and customers ------------------------------
    def prepare(self) -> Batch:
        batch = Batch()
        first = self.now - timedelta(days=self.days + 5)
        rng = random.Random(self.seed)
        for name, share in MERCHANTS[: min(len(MERCHANTS), max(1, self.payments // 10))]:
            merchant = merchant_create(name=name)
            merchant.created_at = first
            merchant.save(update_fields=["created_at"])
            self.merchants.append((merchant.id, name, share))
            endpoint = WebhookEndpoint(
                new_id("we"),
                merchant_id=merchant.id,
                url=f"https://hooks.{name.split()[0].lower()}.example/payflow",
                enabled_events=HOOKED_EVENTS,
                status=ENABLED,
                secret=secret_new(),
                created_at=first,
                updated_at=first,
            )
            endpoint.created_key = f"{time_key(first)}#{endpoint.id}"
            batch.add(endpoint)
            self.endpoints[merchant.id] = endpoint.id
            self.customers[merchant.id] = [
                self.customer(rng, batch, merchant.id, n, at=first + timedelta(days=rng.random() * 5))
                for n in range(1, max(1, round(self.payments * share / CUSTOMER_EVERY)) + 1)
            ]
        return batch

    def customer(self, rng, batch: Batch, merchant_id: str, n: int, *, at: datetime) -> str:
        customer = Customer(
            new_id("cus"),
            merchant_id=merchant_id,
            customer_id=f"cust-{n:05d}",
            email=f"customer{n}@example.com",
            name=f"Customer {n}",
            created_at=at,
            updated_at=at,
        )
        customer.created_key = f"{time_key(at)}#{customer.id}"
        batch.add(customer)
        batch.add(
            Customer(
                reference_key(merchant_id, customer.customer_id), merchant_id=merchant_id, target=customer.id
            )
        )
        self.event(rng, batch, merchant_id, "customer.created", customer_representation(customer), at)
        batch.counts["customers"] += 1
        return customer.id

    # --- payments ----------------------------------------------------------------------------
    def chunk(self, index: int) -> Counter[str]:
        rng = random.Random(self.seed * 100_003 + index)
        batch = Batch()
        for n in range(index * CHUNK, min(self.payments, (index + 1) * CHUNK)):
            self.payment(rng, batch, n)
        batch.write()
        return batch.counts

    def payment(self, rng: random.Random, batch: Batch, n: int) -> None:
        """One payment as the worker leaves it in ``status``, with its audit trail, events and refunds."""
        merchant_id, merchant_name, _ = rng.choices(self.merchants, weights=[m[2] for m in self.merchants])[0]
        status, payment_type = pick(rng, STATUSES), pick(rng, TYPES)
        currency = "INR" if payment_type == "upi" else pick(rng, CURRENCIES)
        amount = rng.randint(1_000_000, 5_000_000) if rng.random() < HIGH_VALUE else 0
        amount = amount or max(100, int(rng.lognormvariate(8.0, 1.2)))
        # Pending payments are minutes old; authorizations expire after 7 days.
        span = {"pending": 10 / 1440, "authorized": 5}.get(status, self.days)
        created = self.now - timedelta(days=rng.random() * span, seconds=30)
        routing = payment_route(amount=amount, currency=currency, payment_type=payment_type).as_dict()
        customer_id = rng.choice(self.customers[merchant_id]) if rng.random() < WITH_CUSTOMER else None
        # A canceled payment was either canceled while pending or an authorization voided.
        voided = status == "canceled" and rng.random() < 0.5
        payment = Payment(
            new_id("pay"),
            merchant_id=merchant_id,
            created_day=created.date().isoformat(),
            merchant_customer=f"{merchant_id}#{customer_id}" if customer_id else None,
            amount=amount,
            currency=currency,
            type=payment_type,
            description=f"Order #{100_000 + n}",
            payee=merchant_name,
            customer_id=customer_id,
            metadata={"order_id": f"ord_{100_000 + n}"},
            card=self.card(rng) if payment_type == "card" else None,
            capture=status != "authorized" and not voided,
            provider=routing["provider"],
            routing=routing,
            attempts=0,
            idempotency_key=f"{rng.getrandbits(128):032x}" if rng.random() < WITH_KEY else None,
            created_at=created,
        )
        payment.created_key = created_key(created, payment.id)
        at = created
        audit = [(None, "pending", "api", "created", at)]
        if status != "pending" and not (status == "canceled" and not voided):
            at += timedelta(milliseconds=rng.randint(30, 400))
            payment.attempts = 1
            audit.append(("pending", "processing", "worker", None, at))
            if rng.random() < REROUTED:
                fallback = routing["fallbacks"][0]
                why = f"{payment.provider} unavailable; trying {fallback}"
                payment.provider, payment.attempts = fallback, 2
                audit.append(("processing", "processing", "worker", why, at))
            at += timedelta(milliseconds=rng.randint(40, 1500))
        if status == "failed":
            code = rng.choice(list(DECLINES))
            payment.failure_code, payment.failure_message = code, DECLINES[code]
            audit.append(("processing", "failed", "worker", code, at))
        elif status == "authorized" or voided:
            payment.provider_reference = provider_get(payment.provider).reference()
            payment.authorized_at = at
            audit.append(("processing", "authorized", "worker", None, at))
        elif status != "pending" and status != "canceled":
            payment.provider_reference = provider_get(payment.provider).reference()
            payment.amount_captured, payment.captured_at = amount, at
            payment.unsettled_key, payment.money_key = merchant_id, f"{time_key(at)}#{payment.id}"
            audit.append(("processing", "completed", "worker", None, at))
        if status == "canceled":
            at = min(at + timedelta(minutes=rng.random() * (1440 if voided else 5)), self.now)
            payment.canceled_at, payment.cancellation_reason = at, "requested_by_customer"
            audit.append((audit[-1][1], "canceled", "api", "requested_by_customer", at))
        if status in ("refunded", "partially_refunded"):
            refund = self.refund(rng, batch, payment, full=status == "refunded", after=at)
            at = refund.created_at
            audit.append(("completed", status, "api", f"refund {refund.id}", at))
        payment.status, payment.updated_at = status, at
        payment.merchant_status = f"{merchant_id}#{status}"
        body = payment_representation(payment)
        for from_status, to_status, actor, reason, when in audit:
            batch.add(
                audit_record_new(
                    object_id=payment.id,
                    merchant_id=merchant_id,
                    from_status=from_status,
                    to_status=to_status,
                    actor=actor,
                    reason=reason,
                    at=when,
                )
            )
            if from_status != to_status:
                event_type = "payment.created" if from_status is None else f"payment.{to_status}"
                self.event(rng, batch, merchant_id, event_type, body | {"status": to_status}, when)
        batch.add(payment)
        batch.counts["payments"] += 1
        batch.counts["audit"] += len(audit)
        batch.counts[f"status.{status}"] += 1
        batch.counts[f"merchant.{merchant_id}"] += 1
        self.sample(payment)

    def refund(self, rng, batch: Batch, payment: Payment, *, full: bool, after: datetime) -> Refund:
        """A completed refund of the captured payment, made within three days."""
        created = min(after + timedelta(hours=rng.random() * 72), self.now - timedelta(seconds=10))
        amount = int(payment.amount) if full else max(1, int(payment.amount) * rng.randint(10, 90) // 100)
        refund = Refund(
            new_id("re"),
            merchant_id=payment.merchant_id,
            payment_id=payment.id,
            amount=amount,
            currency=payment.currency,
            status="completed",
            reason=rng.choice(["requested_by_customer", "duplicate", "fraudulent"]),
            provider=payment.provider,
            provider_reference=provider_get(payment.provider).reference(),
            created_at=created,
        )
        refund.created_key = created_key(created, refund.id)
        completed = created + timedelta(milliseconds=rng.randint(200, 5000))
        refund.completed_at = refund.updated_at = completed
        refund.unsettled_key, refund.money_key = payment.merchant_id, f"{time_key(completed)}#{refund.id}"
        body = refund_representation(refund)
        for from_status, to_status, actor, event_type, at in (
            (None, "pending", "api", "refund.created", created),
            ("pending", "completed", "worker", "refund.completed", completed),
        ):
            batch.add(
                audit_record_new(
                    object_id=refund.id,
                    merchant_id=refund.merchant_id,
                    from_status=from_status,
                    to_status=to_status,
                    actor=actor,
                    reason="created" if from_status is None else None,
                    at=at,
                )
            )
            self.event(rng, batch, refund.merchant_id, event_type, body | {"status": to_status}, at)
        payment.amount_refunded = amount
        batch.add(refund)
        batch.counts["refunds"] += 1
        batch.counts["audit"] += 2
        return refund

    def event(self, rng, batch: Batch, merchant_id: str, event_type: str, obj: dict, at: datetime) -> None:
        """The event, and its delivery to the merchant's endpoint if it listens (3% failed for good)."""
        event = event_new(merchant_id=merchant_id, type=event_type, obj=obj, at=at)
        batch.add(event)
        batch.counts["events"] += 1
        if event_type not in HOOKED_EVENTS:
            return
        endpoint_id = self.endpoints[merchant_id]
        delivery_id = delivery_id_of(event.id, endpoint_id)
        failed = rng.random() < HOOK_FAILED
        attempts = [
            Attempt(
                at=min(at + timedelta(seconds=2**i), self.now),
                trigger="scheduled",
                status_code=503 if failed else 200,
                latency_ms=rng.randint(30, 900),
                response_body="Service Unavailable" if failed else "",
            )
            for i in range(8 if failed else 1)
        ]
        status = FAILED if failed else SUCCEEDED
        batch.add(
            WebhookDelivery(
                delivery_id,
                merchant_id=merchant_id,
                event_id=event.id,
                event_type=event_type,
                endpoint_id=endpoint_id,
                endpoint_status=f"{endpoint_id}#{status}",
                created_key=f"{time_key(at)}#{delivery_id}",
                payload=event_payload(event),
                status=status,
                attempt_count=len(attempts),
                scheduled_attempts=len(attempts),
                attempts=attempts,
                last_status_code=attempts[-1].status_code,
                last_error="HTTP 503" if failed else None,
                last_attempt_at=attempts[-1].at,
                created_at=at,
                updated_at=attempts[-1].at,
                expires_at=event.expires_at,
            )
        )
        batch.counts["deliveries"] += 1
        batch.counts["deliveries.failed"] += failed

    def card(self, rng: random.Random) -> dict:
        return CardDetails(
            brand=pick(rng, BRANDS),
            last4=f"{rng.randint(0, 9999):04d}",
            exp_month=rng.randint(1, 12),
            exp_year=self.now.year + rng.randint(1, 5),
            fingerprint=random_token(16),
        ).as_dict()

    def sample(self, payment: Payment) -> None:
        """Ids the admin phase searches for and opens: the first of each kind the seeding makes."""
        wanted = {"payment_id": payment.id, "idempotency_key": payment.idempotency_key}
        wanted |= {"provider_reference": payment.provider_reference, "customer_id": payment.customer_id}
        wanted |= {f"{payment.status}_payment_id": payment.id}
        for name, value in wanted.items():
            if value:
                self.samples.setdefault(name, value)

    # --- the run -----------------------------------------------------------------------------
    def run(self) -> dict:
        started = time.perf_counter()
        setting = self.prepare()
        setting.write()
        counts = setting.counts
        chunks = range((self.payments + CHUNK - 1) // CHUNK)
        with ThreadPoolExecutor(THREADS) as pool:
            for done in pool.map(self.chunk, chunks):
                counts += done
        seconds = time.perf_counter() - started
        return {
            "payments": counts["payments"],
            "refunds": counts["refunds"],
            "customers": counts["customers"],
            "audit_records": counts["audit"],
            "events": counts["events"],
            "deliveries": counts["deliveries"],
            "deliveries_failed": counts["deliveries.failed"],
            "statuses": {k.split(".", 1)[1]: v for k, v in sorted(counts.items()) if k.startswith("status.")},
            "merchants": [
                {"id": merchant_id, "name": name, "payments": counts[f"merchant.{merchant_id}"]}
                for merchant_id, name, _ in self.merchants
            ],
            "samples": self.samples,
            "days": self.days,
            "seconds": round(seconds, 1),
            "items": counts["items"],
            "items_per_s": round(counts["items"] / seconds),
        }


def main(*, payments: int, days: float = 30, seed: int = 7) -> dict:
    """Seed and print a one-line JSON summary (the bench reads the last line)."""
    summary = Seeder(payments=payments, days=days, seed=seed).run()
    print(json.dumps(summary))
    return summary
