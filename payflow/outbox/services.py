import logging
import time
import zlib

from celery import current_app
from django.conf import settings

from payflow.aws.dynamodb import update_if
from payflow.observability.logs import log_context, log_context_get

from .tables import OutboxEntry

logger = logging.getLogger(__name__)

# After a re-publish, wait 1 min, then 2, 4, … up to an hour before the next.
OUTBOX_BACKOFF_SECONDS = 60


def _key(task: str, object_id: str) -> tuple[str, str]:
    shard = zlib.crc32(object_id.encode()) % settings.OUTBOX_SHARDS
    return str(shard), f"{task}#{object_id}"


def outbox_entry_new(*, task: str, object_id: str) -> OutboxEntry:
    """An entry to write in the transaction that creates ``object_id``'s work."""
    shard, ref = _key(task, object_id)
    due = int(time.time()) + settings.OUTBOX_GRACE_SECONDS
    return OutboxEntry(
        shard,
        ref,
        task=task,
        object_id=object_id,
        due_at=due,
        published=0,
        request_id=log_context_get("request_id"),
    )


def outbox_entry_ref(*, task: str, object_id: str) -> OutboxEntry:
    """The entry's key, to delete it in the transaction that finishes the work."""
    return OutboxEntry(*_key(task, object_id))


def _send(task: str, object_id: str, countdown: float | None = None) -> None:
    # By name: the web process need not import worker code.
    current_app.send_task(task, args=[object_id], countdown=countdown)


def outbox_publish(*, task: str, object_id: str, countdown: float | None = None) -> bool:
    """Send the task now (to run after ``countdown`` seconds). A failure is logged, not raised:
    what the outbox or the webhook dispatcher keeps sends it later."""
    try:
        _send(task, object_id, countdown)
    except Exception:
        logger.exception("publishing %s for %s failed; the outbox sweeper will retry", task, object_id)
        return False
    return True


def outbox_sweep() -> int:
    """Re-publish every entry past its due time; returns how many were sent.

    Each re-publish pushes the entry's due time back exponentially, so a
    backlog is not flooded with duplicates (tasks are idempotent anyway).
    """
    now = int(time.time())
    sent = 0
    for shard in range(settings.OUTBOX_SHARDS):
        due = OutboxEntry.by_due.query(
            str(shard), OutboxEntry.due_at <= now, limit=settings.OUTBOX_SWEEP_BATCH
        )
        for entry in due:
            delay = min(OUTBOX_BACKOFF_SECONDS * 2 ** int(entry.published), 3600)
            if not update_if(
                entry,
                actions=[OutboxEntry.due_at.set(now + delay), OutboxEntry.published.add(1)],
                condition=OutboxEntry.ref.exists(),
            ):
                continue  # finished meanwhile
            # The task carries the request id of the API call that made the work, as the first publish did.
            with log_context(request_id=entry.request_id):
                logger.warning("outbox: re-publishing %s for %s", entry.task, entry.object_id)
                _send(entry.task, entry.object_id)
            sent += 1
    return sent
