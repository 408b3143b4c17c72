"""Leases on DynamoDB items: one worker at a time calls a provider for an item.

SQS delivers at least once, so two workers can hold the same task. Before a
worker calls a provider for an item it takes the item's ``lease_until`` with a
conditional write; a duplicate finds the lease held and comes back when it
ends. A worker that dies holding a lease needs no cleanup: the lease runs out,
and the redelivered message resumes the work.
"""

import time
from dataclasses import dataclass

from django.conf import settings
from pynamodb.expressions.condition import Condition
from pynamodb.models import Model

from .dynamodb import update_if

# Retries of a task that found its item's lease held; each waits for the lease
# to end, so more than a couple mean something else is wrong (then SQS's
# redelivery and dead-lettering take over).
LEASE_RETRIES = 5


@dataclass(frozen=True)
class RetryLater:
    """The task should run again in ``countdown`` seconds (another worker holds the item, or a retry)."""

    countdown: float


def lease_seconds() -> int:
    """Longer than any task may run: Celery's hard time limit ends a task first."""
    return settings.CELERY_TASK_TIME_LIMIT + 5


def lease_take(item: Model, *, condition: Condition) -> RetryLater | None:
    """Take ``item``'s lease if it is free and ``condition`` holds; else when to look again.

    ``item`` (with a nullable ``lease_until`` number attribute) is updated in
    place when the lease is taken.
    """
    model = type(item)
    now = time.time()
    held_until = float(item.lease_until or 0)
    if held_until > now:
        return RetryLater(countdown=held_until - now + 0.5)
    free = model.lease_until.does_not_exist() | (model.lease_until <= now)
    lease = model.lease_until.set(int(now) + lease_seconds())
    if not update_if(item, actions=[lease], condition=condition & free):
        # Taken by another worker, or moved on (finished): the retry finds out which.
        return RetryLater(countdown=lease_seconds() + 0.5)
    return None
