"""SQS queues in the operator console: depths, a peek into each dead-letter queue, redrive."""

import json
from datetime import UTC, datetime

from django.conf import settings
from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.http import Http404

from payflow.console.options import Action, Detail, DynamoAdmin, Listing, Section, admin_link, when

from .models import Queue
from .queues import (
    PEEK_LIMIT,
    PeekedMessage,
    QueueStats,
    dead_letter_peek,
    dead_letter_queue_name,
    dead_letter_redrive,
    queue_find,
    queue_name,
    queue_stats,
)

REDRIVE_PERMISSION = "payflow_aws.redrive_queue"

OLDEST_AGE_NOTE = (
    "Counts are SQS's approximate ones. The oldest message's age is read by peeking, which only a "
    "dead-letter queue allows: a receive counts toward a source queue's limit of {max_receives} "
    "deliveries and could dead-letter a task that would have succeeded, and the emulators publish no "
    "CloudWatch ApproximateAgeOfOldestMessage. Of a dead-letter queue, it is the oldest of up to "
    "{peek} peeked messages, measured from when the task was first sent."
)


@admin.register(Queue)
class QueueAdmin(DynamoAdmin):
    def action_urls(self):
        return [("<path:object_id>/redrive/", self.redrive_view, "redrive")]

    # --- List ----------------------------------------------------------------

    def listing(self, request, filters, cursor):
        columns = ["Queue", "Serves", "Kind", "Visible", "In flight", "Delayed", "Oldest message"]
        rows = []
        for stats in queue_stats():
            oldest = _oldest_age(dead_letter_peek(queue=stats.queue)) if _peekable(stats) else "—"
            rows.append(
                [
                    admin_link("payflow_aws_queue", stats.name),
                    stats.queue,
                    _kind(stats),
                    stats.visible,
                    stats.in_flight,
                    stats.delayed,
                    oldest,
                ]
            )
        note = OLDEST_AGE_NOTE.format(max_receives=settings.SQS_DLQ_MAX_RECEIVE_COUNT, peek=PEEK_LIMIT)
        return Listing(columns, rows, note=note)

    # --- Detail --------------------------------------------------------------

    def get_queue(self, sqs_name: str) -> QueueStats:
        return self.found(queue_find(sqs_name=sqs_name), sqs_name)

    def detail(self, request, object_id):
        stats = self.get_queue(object_id)
        peeked = dead_letter_peek(queue=stats.queue) if _peekable(stats) else []
        sections = [self._summary(stats, peeked)]
        actions = []
        if stats.dead_letter:
            sections.append(self._peek(stats, peeked))
            actions.append(
                Action("Redrive to source queue", self.url("redrive", stats.name), REDRIVE_PERMISSION)
            )
        return Detail(title=f"Queue {stats.name}", sections=sections, actions=actions)

    def _summary(self, stats: QueueStats, peeked: list[PeekedMessage]) -> Section:
        if stats.dead_letter:
            related = ("Source queue", admin_link("payflow_aws_queue", queue_name(stats.queue)))
            days = settings.SQS_DLQ_RETENTION_SECONDS // 86400
            policy = f"None: a message stays until it is redriven or {days} days old."
            oldest = _oldest_age(peeked)
        else:
            related = (
                "Dead-letter queue",
                admin_link("payflow_aws_queue", dead_letter_queue_name(stats.queue)),
            )
            policy = f"To the dead-letter queue after {settings.SQS_DLQ_MAX_RECEIVE_COUNT} receives."
            oldest = "Not read: a peek would count as a delivery toward the redrive policy."
        return Section(
            "Queue",
            pairs=[
                ("SQS name", stats.name),
                ("Celery queue", stats.queue),
                ("Kind", _kind(stats)),
                ("Visible (approximate)", stats.visible),
                ("In flight", stats.in_flight),
                ("Delayed", stats.delayed),
                ("Oldest message", oldest),
                ("Redrive policy", policy),
                related,
            ],
        )

    def _peek(self, stats: QueueStats, peeked: list[PeekedMessage]) -> Section:
        return Section(
            f"Messages: a peek at up to {PEEK_LIMIT}, left on the queue",
            columns=[
                "Task",
                "Task id",
                "Args",
                "Kwargs",
                "Receives (peeks included)",
                "Sent",
                "SQS message id",
            ],
            rows=[_peeked_row(message) for message in peeked],
            empty="The dead-letter queue is empty.",
        )

    # --- Actions -------------------------------------------------------------

    def redrive_view(self, request, object_id):
        self.require(request, REDRIVE_PERMISSION)
        sqs_name = unquote(object_id)
        stats = queue_find(sqs_name=sqs_name)
        if stats is None or not stats.dead_letter:
            raise Http404(f"'{sqs_name}' is not a dead-letter queue.")
        source = queue_name(stats.queue)

        def perform(data) -> str:
            moved = dead_letter_redrive(queue=stats.queue)
            return f"Moved {moved} message{'' if moved == 1 else 's'} from {sqs_name} back to {source}."

        return self.confirmed_action(
            request,
            sqs_name,
            permission=REDRIVE_PERMISSION,
            title=f"Redrive {sqs_name}",
            explanation=(
                f"Every message on {sqs_name} (about {stats.visible}) goes back to {source}, where a worker "
                f"runs its task again with {settings.SQS_DLQ_MAX_RECEIVE_COUNT} new tries. Tasks are "
                "idempotent, so one that already succeeded does nothing the second time. A task that fails "
                "again comes back here."
            ),
            perform=perform,
            submit="Redrive",
        )


def _peekable(stats: QueueStats) -> bool:
    return stats.dead_letter and stats.visible > 0


def _kind(stats: QueueStats) -> str:
    return "dead-letter" if stats.dead_letter else "source"


def _peeked_row(message: PeekedMessage) -> list:
    task = message.task
    if task is None:
        return [
            "not a Celery message",
            "—",
            message.body[:200],
            "—",
            message.receive_count,
            when(message.sent_at),
            message.message_id,
        ]
    return [
        task["task"] or "—",
        task["id"] or "—",
        json.dumps(task["args"]),
        json.dumps(task["kwargs"], sort_keys=True),
        message.receive_count,
        when(message.sent_at),
        message.message_id,
    ]


def _oldest_age(peeked: list[PeekedMessage]) -> str:
    if not peeked:
        return "—"
    return _duration((datetime.now(UTC) - min(m.sent_at for m in peeked)).total_seconds())


def _duration(seconds: float) -> str:
    seconds = max(int(seconds), 0)
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {minutes} min"
    if minutes:
        return f"{minutes} min {seconds} s"
    return f"{seconds} s"
