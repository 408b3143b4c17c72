"""Webhook endpoints and deliveries: every write of the webhooks app.

A delivery is written in the same transaction as its event (``deliveries_add``)
and sent to the webhooks queue once that commits. The delivery doubles as its
own outbox entry: while it waits for a worker it sits in the sparse
``by-dispatch`` index, and the beat-driven dispatcher sends what is due —
a lost publish, a crashed worker or a retry hours away alike.
"""

import hashlib
import json
import logging
import random
import secrets
import threading
import time
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from celery import current_app
from django.conf import settings
from django.core.cache import cache
from pynamodb.exceptions import TransactWriteError

from payflow.aws.dynamodb import (
    Transaction,
    conditions_failed,
    item_or_none,
    not_found,
    time_key,
    transact_write,
    transact_write_retrying,
    update_if,
)
from payflow.errors import ApplicationError, ErrorCode
from payflow.events.representations import event_representation
from payflow.events.services import RETENTION, event_new, event_record
from payflow.events.tables import Event
from payflow.ids import new_id
from payflow.observability.logs import log_context_bind, log_context_get
from payflow.observability.metrics import webhook_attempt_record
from payflow.observability.prometheus import webhook_delivery_observe
from payflow.outbox.services import outbox_publish

from .representations import endpoint_representation
from .selectors import (
    endpoint_or_none,
    endpoints_of,
    endpoints_subscribed,
    subscribes,
    subscriptions_generation_key,
)
from .sender import PostResult, webhook_post
from .signing import secret_new, signature_header
from .tables import FAILING, Attempt, WebhookDelivery, WebhookEndpoint
from .urls_check import webhook_url_check

logger = logging.getLogger(__name__)

DELIVER_TASK = "webhooks.tasks.deliver_webhook_task"
USER_AGENT = "PayFlow-Webhooks/1.0 (+https://github.com/payflow/payflow)"
PENDING, SUCCEEDED, FAILED = "pending", "succeeded", "failed"
ENABLED, DISABLED = "enabled", "disabled"
ATTEMPT_LOG_SIZE = 25
# Worker clocks differ a little; an attempt this early is on time.
CLOCK_TOLERANCE_SECONDS = 1.0
# Beyond the HTTP timeout, what an attempt may take before another worker may take the delivery over.
LEASE_MARGIN_SECONDS = 10
REDISPATCH_BACKOFF_SECONDS = 30
SLOT_WAIT_SECONDS = 0.25
SATURATED_SECONDS = 1.0
# A delivery whose endpoint has every slot busy waits 1 s, 2 s, 4 s … up to a minute.
DEFER_MAX_SECONDS = 60


def _now() -> datetime:
    return datetime.now(UTC)


# --- Endpoints -------------------------------------------------------------------


def subscriptions_changed(merchant_id: str) -> None:
    """Every process sees the merchant's endpoints anew at its next event."""
    key = subscriptions_generation_key(merchant_id)
    cache.add(key, 0, None)
    cache.incr(key)


def endpoint_create(
    *, merchant_id: str, url: str, enabled_events: list[str], description: str | None = None
) -> WebhookEndpoint:
    webhook_url_check(url)
    if len(endpoints_of(merchant_id)) >= settings.WEBHOOK_MAX_ENDPOINTS_PER_MERCHANT:
        raise ApplicationError(
            ErrorCode.INVALID_REQUEST,
            f"A merchant has at most {settings.WEBHOOK_MAX_ENDPOINTS_PER_MERCHANT} webhook endpoints.",
            param="url",
        )
    now = _now()
    endpoint = WebhookEndpoint(
        new_id("we"),
        merchant_id=merchant_id,
        url=url,
        enabled_events=enabled_events,
        description=description,
        status=ENABLED,
        secret=secret_new(),
        created_at=now,
        updated_at=now,
    )
    endpoint.created_key = f"{time_key(now)}#{endpoint.id}"
    endpoint.save(condition=WebhookEndpoint.id.does_not_exist())
    subscriptions_changed(merchant_id)
    return endpoint


def endpoint_update(
    *,
    endpoint: WebhookEndpoint,
    url: str | None = None,
    enabled_events: list[str] | None = None,
    description: str | None = None,
    disabled: bool | None = None,
) -> WebhookEndpoint:
    actions = [WebhookEndpoint.updated_at.set(_now())]
    if url is not None:
        webhook_url_check(url)
        actions.append(WebhookEndpoint.url.set(url))
    if enabled_events is not None:
        actions.append(WebhookEndpoint.enabled_events.set(enabled_events))
    if description is not None:
        actions.append(WebhookEndpoint.description.set(description))
    if disabled is True:
        actions += [
            WebhookEndpoint.status.set(DISABLED),
            WebhookEndpoint.disabled_reason.set("disabled by the merchant"),
        ]
    elif disabled is False:
        # Enabled again: its failures so far no longer count towards disabling it.
        actions += [
            WebhookEndpoint.status.set(ENABLED),
            WebhookEndpoint.disabled_reason.remove(),
            WebhookEndpoint.failing_since.remove(),
        ]
    # Deleted between the caller's read and this write: as for any unknown id.
    if not update_if(endpoint, actions=actions, condition=WebhookEndpoint.id.exists()):
        raise not_found("webhook endpoint", endpoint.id)
    subscriptions_changed(endpoint.merchant_id)
    return endpoint


def endpoint_delete(*, endpoint: WebhookEndpoint) -> None:
    endpoint.delete()
    subscriptions_changed(endpoint.merchant_id)


def endpoint_rotate_secret(*, endpoint: WebhookEndpoint) -> WebhookEndpoint:
    """A new secret; the old one keeps signing for WEBHOOK_SECRET_OVERLAP_SECONDS.

    Two rotations at once both happen, one after the other: the one that loses
    the race reads the other's secret and rotates from it.
    """
    for _ in range(3):
        rotated = update_if(
            endpoint,
            actions=[
                WebhookEndpoint.previous_secret.set(endpoint.secret),
                WebhookEndpoint.previous_secret_until.set(
                    int(time.time()) + settings.WEBHOOK_SECRET_OVERLAP_SECONDS
                ),
                WebhookEndpoint.secret.set(secret_new()),
                WebhookEndpoint.updated_at.set(_now()),
            ],
            condition=WebhookEndpoint.secret == endpoint.secret,
        )
        if rotated:
            return endpoint
        try:
            endpoint.refresh(consistent_read=True)
        except WebhookEndpoint.DoesNotExist:
            raise not_found("webhook endpoint", endpoint.id) from None
    raise ApplicationError(
        ErrorCode.INVALID_STATE, "The endpoint's secret is being rotated by another request; try again."
    )


def endpoint_signing_secrets(endpoint: WebhookEndpoint) -> list[str]:
    """The secrets a delivery is signed with now: the current one, and the previous during the overlap."""
    secrets_ = [endpoint.secret]
    if endpoint.previous_secret and (endpoint.previous_secret_until or 0) > time.time():
        secrets_.append(endpoint.previous_secret)
    return secrets_


def endpoint_enable(*, endpoint: WebhookEndpoint) -> WebhookEndpoint:
    """Enable a disabled endpoint again (an operator's decision); its failing streak starts over."""
    if endpoint.status != DISABLED:
        raise ApplicationError(
            ErrorCode.INVALID_STATE, f"The webhook endpoint {endpoint.id} is not disabled."
        )
    return endpoint_update(endpoint=endpoint, disabled=False)


def endpoint_disable(*, endpoint: WebhookEndpoint, reason: str) -> bool:
    """Disable an enabled endpoint and record ``webhook_endpoint.disabled``; False if it was not enabled."""
    now = _now()
    endpoint.status, endpoint.disabled_reason, endpoint.updated_at = DISABLED, reason, now

    def write(transaction: Transaction) -> None:
        transaction.update(
            endpoint,
            actions=[
                WebhookEndpoint.status.set(DISABLED),
                WebhookEndpoint.disabled_reason.set(reason),
                WebhookEndpoint.updated_at.set(now),
            ],
            condition=WebhookEndpoint.status == ENABLED,
        )
        event_record(
            transaction,
            merchant_id=endpoint.merchant_id,
            type="webhook_endpoint.disabled",
            obj=endpoint_representation(endpoint),
            at=now,
        )

    try:
        transact_write_retrying(write)
    except TransactWriteError as exc:
        if endpoint in conditions_failed(exc):
            return False
        raise
    subscriptions_changed(endpoint.merchant_id)
    logger.warning("webhook endpoint %s disabled: %s", endpoint.id, reason)
    return True


# --- Deliveries: creation and sending ----------------------------------------------


def delivery_id_of(event_id: str, endpoint_id: str) -> str:
    """One delivery per event and endpoint, so writing it twice cannot send twice."""
    return "whd_" + hashlib.sha256(f"{event_id}|{endpoint_id}".encode()).hexdigest()[:24]


def _dispatch_shard(delivery_id: str) -> str:
    return str(zlib.crc32(delivery_id.encode()) % settings.WEBHOOK_DISPATCH_SHARDS)


def _delivery_new(
    *, event: Event, endpoint_id: str, payload: str, at: datetime, manual: bool
) -> WebhookDelivery:
    delivery_id = delivery_id_of(event.id, endpoint_id)
    now = at.timestamp()
    return WebhookDelivery(
        delivery_id,
        merchant_id=event.merchant_id,
        event_id=event.id,
        event_type=event.type,
        endpoint_id=endpoint_id,
        endpoint_status=f"{endpoint_id}#{PENDING}",
        created_key=f"{time_key(at)}#{delivery_id}",
        payload=payload,
        status=PENDING,
        manual=manual,
        next_attempt_at=now,
        # Published at once after the commit; the dispatcher sends it only if that was lost.
        dispatch_shard=_dispatch_shard(delivery_id),
        dispatch_at=now + settings.OUTBOX_GRACE_SECONDS,
        created_at=at,
        updated_at=at,
        expires_at=RETENTION,
        request_id=log_context_get("request_id"),
    )


def event_payload(event: Event) -> str:
    return json.dumps(event_representation(event), separators=(",", ":"))


def _publish(delivery_id: str, countdown: float | None = None) -> None:
    outbox_publish(task=DELIVER_TASK, object_id=delivery_id, countdown=countdown)


def deliveries_add(transaction: Transaction, event: Event) -> None:
    """An event subscriber: a delivery to each subscribed endpoint, in the event's transaction."""
    endpoint_ids = endpoints_subscribed(merchant_id=event.merchant_id, event_type=event.type)
    if event.type.startswith("webhook_endpoint."):
        # Never tell an endpoint about itself being disabled.
        subject = json.loads(event.data)["object"]["id"]
        endpoint_ids = [i for i in endpoint_ids if i != subject]
    if not endpoint_ids:
        return
    payload = event_payload(event)
    for endpoint_id in endpoint_ids:
        delivery = _delivery_new(
            event=event, endpoint_id=endpoint_id, payload=payload, at=event.created_at, manual=False
        )
        transaction.save(delivery)
        transaction.on_commit(lambda delivery_id=delivery.id: _publish(delivery_id))


def deliveries_dispatch_due() -> int:
    """Send every delivery whose dispatch time has come (beat, every few seconds); returns how many.

    Each send pushes the delivery's dispatch time back (30 s, 1 min, 2 min …
    up to 32 min), so a backlog is not flooded with duplicates; the worker's
    claim makes a duplicate harmless anyway.
    """
    now = time.time()
    sent = 0
    for shard in range(settings.WEBHOOK_DISPATCH_SHARDS):
        due = WebhookDelivery.to_dispatch.query(
            str(shard), WebhookDelivery.dispatch_at <= now, limit=settings.WEBHOOK_DISPATCH_BATCH
        )
        for item in due:
            backoff = REDISPATCH_BACKOFF_SECONDS * 2 ** min(int(item.redispatches or 0), 6)
            if not update_if(
                WebhookDelivery(item.id),
                actions=[
                    WebhookDelivery.dispatch_at.set(now + backoff),
                    WebhookDelivery.redispatches.add(1),
                ],
                condition=WebhookDelivery.dispatch_at == item.dispatch_at,
            ):
                continue  # claimed or finished meanwhile
            _publish(item.id)
            sent += 1
    return sent


# --- Deliveries: attempts --------------------------------------------------------

_slots: dict[str, threading.BoundedSemaphore] = {}
_slots_lock = threading.Lock()
# Per endpoint, in this process: until when its slots are not worth waiting for (every slot
# stayed taken through a wait), and until when it is known not to answer (an attempt timed out).
_saturated_until: dict[str, float] = {}
_unresponsive_until: dict[str, float] = {}


def _until(marks: dict[str, float], endpoint_id: str) -> bool:
    return marks.get(endpoint_id, 0.0) > time.monotonic()


@contextmanager
def endpoint_slot(endpoint_id: str) -> Iterator[bool]:
    """One of the endpoint's WEBHOOK_ENDPOINT_CONCURRENCY slots in this process, if one frees up soon."""
    with _slots_lock:
        slot = _slots.get(endpoint_id)
        if slot is None:
            slot = _slots[endpoint_id] = threading.BoundedSemaphore(settings.WEBHOOK_ENDPOINT_CONCURRENCY)
    # A fast endpoint frees a slot within milliseconds; a slow one is not waited for again for a while.
    acquired = slot.acquire(timeout=0 if _until(_saturated_until, endpoint_id) else SLOT_WAIT_SECONDS)
    if not acquired:
        _saturated_until[endpoint_id] = time.monotonic() + SATURATED_SECONDS
    try:
        yield acquired
    finally:
        if acquired:
            slot.release()


def _lease_seconds() -> float:
    return settings.WEBHOOK_TIMEOUT_SECONDS + LEASE_MARGIN_SECONDS


def _delivery_claim(delivery_id: str, token: str) -> WebhookDelivery | None:
    """The delivery, leased to this attempt, if it is pending, due and nobody holds it."""
    now = time.time()
    lease_until = now + _lease_seconds()
    delivery = WebhookDelivery(delivery_id)
    if not update_if(
        delivery,
        actions=[
            WebhookDelivery.lease_token.set(token),
            WebhookDelivery.lease_until.set(lease_until),
            # Should this attempt die, the dispatcher sends the delivery again after the lease.
            WebhookDelivery.dispatch_shard.set(_dispatch_shard(delivery_id)),
            WebhookDelivery.dispatch_at.set(lease_until + 1),
            WebhookDelivery.redispatches.set(0),
        ],
        condition=(WebhookDelivery.status == PENDING)
        & (WebhookDelivery.next_attempt_at <= now + CLOCK_TOLERANCE_SECONDS)
        & (WebhookDelivery.lease_until.does_not_exist() | (WebhookDelivery.lease_until < now)),
    ):
        return None  # finished, not due yet, or in another worker's hands
    return delivery


def _delivery_defer(delivery: WebhookDelivery, token: str) -> None:
    """Every slot of the endpoint is busy: hand the delivery back to try again later.

    Waits double with each deferral; for an endpoint that does not answer they
    start at its timeout, when a slot can free up at the earliest.
    """
    base = settings.WEBHOOK_TIMEOUT_SECONDS if _until(_unresponsive_until, delivery.endpoint_id) else 1.0
    wait = min(base * 2 ** int(delivery.deferrals or 0), DEFER_MAX_SECONDS) * random.uniform(0.8, 1.2)
    logger.info(
        "webhook delivery %s: endpoint %s is busy; waiting %.1f s", delivery.id, delivery.endpoint_id, wait
    )
    _delivery_reschedule(delivery, token, wait=wait, extra=[WebhookDelivery.deferrals.add(1)])


def _delivery_reschedule(delivery: WebhookDelivery, token: str, *, wait: float, extra: list) -> bool:
    now = time.time()
    countdown = wait <= settings.WEBHOOK_COUNTDOWN_MAX_SECONDS
    if not update_if(
        delivery,
        actions=[
            WebhookDelivery.next_attempt_at.set(now + wait),
            # With a countdown the worker holds the task; the dispatcher is the fallback.
            WebhookDelivery.dispatch_at.set(now + wait + (settings.OUTBOX_GRACE_SECONDS if countdown else 0)),
            WebhookDelivery.lease_token.remove(),
            WebhookDelivery.lease_until.remove(),
            *extra,
        ],
        condition=WebhookDelivery.lease_token == token,
    ):
        logger.warning("webhook delivery %s: the lease ran out before the attempt was recorded", delivery.id)
        return False
    if countdown:
        _publish(delivery.id, countdown=wait)
    return True


def _next_wait(scheduled_attempts: int, retry_after: float | None) -> float | None:
    """Seconds until the next attempt of the schedule, or None when the schedule is over."""
    schedule = settings.WEBHOOK_RETRY_SCHEDULE
    if scheduled_attempts >= len(schedule):
        return None
    wait = schedule[scheduled_attempts] * settings.WEBHOOK_TIME_SCALE
    if retry_after is not None:
        # The receiver asked for a pause: never sooner, and never beyond the schedule's longest wait.
        wait = max(wait, min(retry_after, max(schedule)))
    return wait


def _attempt_post(delivery: WebhookDelivery, endpoint: WebhookEndpoint) -> PostResult:
    timestamp = int(time.time())
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "webhook-id": delivery.event_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature_header(
            secrets_=endpoint_signing_secrets(endpoint),
            message_id=delivery.event_id,
            timestamp=timestamp,
            body=delivery.payload,
        ),
    }
    return webhook_post(
        endpoint.url,
        body=delivery.payload.encode(),
        headers=headers,
        timeout=settings.WEBHOOK_TIMEOUT_SECONDS,
    )


def _delivery_record(
    delivery: WebhookDelivery, token: str, result: PostResult, *, trigger: str, final: bool
) -> WebhookDelivery | None:
    """Log the attempt and decide what comes next: done, failed, or the next attempt of the schedule."""
    now = _now()
    attempt = Attempt(
        at=now,
        trigger=trigger,
        status_code=result.status_code,
        latency_ms=result.latency_ms,
        response_body=result.response_body,
        error=result.error,
    )
    webhook_attempt_record(succeeded=result.succeeded, status_code=result.status_code)
    scheduled = int(delivery.scheduled_attempts) + (0 if delivery.manual else 1)
    wait = None
    if result.succeeded:
        status = SUCCEEDED
    elif final or delivery.manual:
        status = FAILED
    else:
        wait = _next_wait(scheduled, result.retry_after)
        status = FAILED if wait is None else PENDING
    actions = [
        WebhookDelivery.attempts.set([*delivery.attempts, attempt][-ATTEMPT_LOG_SIZE:]),
        WebhookDelivery.attempt_count.add(1),
        WebhookDelivery.scheduled_attempts.set(scheduled),
        WebhookDelivery.status.set(status),
        WebhookDelivery.endpoint_status.set(f"{delivery.endpoint_id}#{status}"),
        WebhookDelivery.manual.set(False),
        WebhookDelivery.deferrals.set(0),
        WebhookDelivery.last_attempt_at.set(now),
        WebhookDelivery.updated_at.set(now),
        WebhookDelivery.last_status_code.remove()
        if result.status_code is None
        else WebhookDelivery.last_status_code.set(result.status_code),
        WebhookDelivery.last_error.remove()
        if result.error is None
        else WebhookDelivery.last_error.set(result.error),
        # In the operators' failing list until an attempt succeeds.
        WebhookDelivery.failed_key.remove() if result.succeeded else WebhookDelivery.failed_key.set(FAILING),
    ]
    if wait is not None:
        if not _delivery_reschedule(delivery, token, wait=wait, extra=actions):
            return None
        logger.info(
            "webhook delivery %s (%s) failed (%s); next attempt in %.1f s",
            delivery.id,
            delivery.event_type,
            result.status_code or result.error,
            wait,
        )
        return delivery
    actions += [
        WebhookDelivery.next_attempt_at.remove(),
        WebhookDelivery.dispatch_shard.remove(),
        WebhookDelivery.dispatch_at.remove(),
        WebhookDelivery.lease_token.remove(),
        WebhookDelivery.lease_until.remove(),
    ]
    if not update_if(delivery, actions=actions, condition=WebhookDelivery.lease_token == token):
        logger.warning("webhook delivery %s: the lease ran out before the attempt was recorded", delivery.id)
        return None
    webhook_delivery_observe(status=status)
    log = logger.info if status == SUCCEEDED else logger.warning
    log(
        "webhook delivery %s (%s) %s: %s",
        delivery.id,
        delivery.event_type,
        status,
        result.status_code or result.error,
    )
    return delivery


def _endpoint_outcome(endpoint: WebhookEndpoint, result: PostResult) -> None:
    """A success ends the endpoint's failing streak; 410, or a streak too long, disables it."""
    # Each write is conditional on the endpoint still existing: an update of a
    # deleted item would bring back a ghost holding only its key.
    if result.succeeded:
        if endpoint.failing_since is not None:
            update_if(
                endpoint,
                actions=[WebhookEndpoint.failing_since.remove()],
                condition=WebhookEndpoint.id.exists(),
            )
        return
    if result.status_code == 410:
        endpoint_disable(endpoint=endpoint, reason="The endpoint answered 410 Gone.")
        return
    now = time.time()
    if endpoint.failing_since is None:
        update_if(
            endpoint,
            actions=[WebhookEndpoint.failing_since.set(now)],
            condition=WebhookEndpoint.id.exists() & WebhookEndpoint.failing_since.does_not_exist(),
        )
        return
    limit = settings.WEBHOOK_DISABLE_AFTER_DAYS * 86400 * settings.WEBHOOK_TIME_SCALE
    if now - float(endpoint.failing_since) >= limit:
        since = datetime.fromtimestamp(float(endpoint.failing_since), UTC).isoformat(timespec="seconds")
        endpoint_disable(endpoint=endpoint, reason=f"Every attempt has failed since {since}.")


def delivery_attempt(*, delivery_id: str) -> None:
    """Make the delivery's next attempt if it is due. Safe to run any number of times."""
    token = secrets.token_hex(8)
    delivery = _delivery_claim(delivery_id, token)
    if delivery is None:
        return
    # Attempts sent later by the dispatcher still log the request id of the call that made the event.
    log_context_bind(
        request_id=delivery.request_id, event_id=delivery.event_id, merchant_id=delivery.merchant_id
    )
    trigger = "manual" if delivery.manual else "scheduled"
    endpoint = endpoint_or_none(delivery.endpoint_id)
    if endpoint is None or endpoint.status != ENABLED:
        gone = PostResult(None, 0, None, error=f"endpoint {'deleted' if endpoint is None else 'disabled'}")
        _delivery_record(delivery, token, gone, trigger=trigger, final=True)
        return
    with endpoint_slot(endpoint.id) as free:
        if not free:
            _delivery_defer(delivery, token)
            return
        result = _attempt_post(delivery, endpoint)
    if result.status_code is None:
        _unresponsive_until[endpoint.id] = time.monotonic() + settings.WEBHOOK_TIMEOUT_SECONDS
    else:
        _unresponsive_until.pop(endpoint.id, None)
    _delivery_record(delivery, token, result, trigger=trigger, final=result.status_code == 410)
    _endpoint_outcome(endpoint, result)


# --- Deliveries: replay ---------------------------------------------------------------


def delivery_redeliver(*, delivery: WebhookDelivery) -> WebhookDelivery:
    """Attempt the delivery again now: a pending one sooner, a finished one once more."""
    now = time.time()
    actions = [
        WebhookDelivery.next_attempt_at.set(now),
        WebhookDelivery.dispatch_shard.set(_dispatch_shard(delivery.id)),
        WebhookDelivery.dispatch_at.set(now + settings.OUTBOX_GRACE_SECONDS),
        WebhookDelivery.updated_at.set(_now()),
    ]
    if delivery.status != PENDING:
        actions += [
            WebhookDelivery.status.set(PENDING),
            WebhookDelivery.endpoint_status.set(f"{delivery.endpoint_id}#{PENDING}"),
            WebhookDelivery.manual.set(True),
        ]
    if not update_if(delivery, actions=actions, condition=WebhookDelivery.status == delivery.status):
        # It changed meanwhile; whatever it is now, an attempt is due or has just been made.
        delivery.refresh(consistent_read=True)
        return delivery
    _publish(delivery.id)
    return delivery


def _endpoint_usable(endpoint: WebhookEndpoint) -> None:
    if endpoint.status != ENABLED:
        raise ApplicationError(
            ErrorCode.INVALID_STATE,
            f"The webhook endpoint {endpoint.id} is disabled; enable it first.",
            param="endpoint",
        )


def event_redeliver(*, event: Event, endpoint: WebhookEndpoint | None = None) -> list[WebhookDelivery]:
    """Send the event again: to ``endpoint``, or to every enabled endpoint that takes its type."""
    if endpoint is not None:
        _endpoint_usable(endpoint)
        endpoints = [endpoint]
    else:
        endpoints = [e for e in endpoints_of(event.merchant_id) if subscribes(e, event.type)]
    redelivered = []
    for target in endpoints:
        existing = item_or_none(WebhookDelivery, delivery_id_of(event.id, target.id), consistent=True)
        if existing is not None:
            redelivered.append(delivery_redeliver(delivery=existing))
            continue
        delivery = _delivery_new(
            event=event, endpoint_id=target.id, payload=event_payload(event), at=_now(), manual=True
        )
        delivery.save(condition=WebhookDelivery.id.does_not_exist())
        _publish(delivery.id)
        redelivered.append(delivery)
    return redelivered


RECOVER_TASK = "webhooks.tasks.recover_webhook_endpoint_task"


def endpoint_recover_start(*, endpoint: WebhookEndpoint, since: datetime) -> datetime:
    """Queue the redelivery of the endpoint's failures since ``since``; returns the end of that window.

    A worker pages through them (``endpoint_recover``). The send is not
    through the outbox: when it fails the caller gets a 503 and retries.
    """
    _endpoint_usable(endpoint)
    until = _now()
    current_app.send_task(RECOVER_TASK, args=[endpoint.id, since.timestamp(), until.timestamp()])
    return until


def endpoint_recover(
    *,
    endpoint: WebhookEndpoint,
    since: datetime,
    until: datetime,
    batch: int = 200,
    cursor: str | None = None,
) -> str | None:
    """Redeliver the endpoint's failed deliveries created between ``since`` and ``until``, a batch at a time.

    Returns the cursor of the next batch, or None when done. Ascending by
    creation: a delivery that fails again meanwhile lies behind the cursor
    and is not sent twice by one recovery.
    """
    _endpoint_usable(endpoint)
    start = json.loads(cursor) if cursor else None
    page = WebhookDelivery.by_endpoint_status.query(
        f"{endpoint.id}#{FAILED}",
        WebhookDelivery.created_key.between(time_key(since), time_key(until) + "~"),
        scan_index_forward=True,
        limit=batch,
        last_evaluated_key=start,
    )
    for delivery in page:
        delivery_redeliver(delivery=delivery)
    return json.dumps(page.last_evaluated_key) if page.last_evaluated_key else None


def endpoint_test(*, endpoint: WebhookEndpoint) -> WebhookDelivery:
    """Send a ``webhook.test`` event to the endpoint now and return the delivery with the attempt's result."""
    _endpoint_usable(endpoint)
    now = _now()
    event = event_new(
        merchant_id=endpoint.merchant_id, type="webhook.test", obj=endpoint_representation(endpoint), at=now
    )
    delivery = _delivery_new(
        event=event, endpoint_id=endpoint.id, payload=event_payload(event), at=now, manual=True
    )
    token = secrets.token_hex(8)
    delivery.lease_token, delivery.lease_until = token, now.timestamp() + _lease_seconds()
    delivery.dispatch_at = delivery.lease_until + 1
    with transact_write() as transaction:
        transaction.save(event)
        transaction.save(delivery)
    result = _attempt_post(delivery, endpoint)
    # The record's update reads the delivery back as it now is.
    _delivery_record(delivery, token, result, trigger="test", final=True)
    return delivery


def deliveries_failing_backfill() -> int:
    """Put deliveries that failed before the ``failing`` index existed into it; returns how many.

    A maintenance Scan, never on a request path. A delivery attempted while
    this runs is skipped: that attempt set or removed ``failed_key`` itself.
    """
    updated = 0
    unindexed = (
        WebhookDelivery.failed_key.does_not_exist()
        & (WebhookDelivery.attempt_count > 0)
        & (WebhookDelivery.status != SUCCEEDED)
    )
    for delivery in WebhookDelivery.scan(unindexed):
        code = delivery.last_status_code
        if code is not None and 200 <= int(code) < 300:
            continue  # a success, redelivered by hand and not attempted yet
        updated += update_if(
            delivery,
            actions=[WebhookDelivery.failed_key.set(FAILING)],
            condition=WebhookDelivery.updated_at == delivery.updated_at,
        )
    return updated
