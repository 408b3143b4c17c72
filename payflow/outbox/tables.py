"""The transactional outbox.

An entry is written in the same DynamoDB transaction as the object whose
task must run, and deleted by the worker that took the task. A beat-driven
sweeper re-publishes entries past ``due_at`` — so a failed or lost SQS send
delays work instead of losing it. Access: entries due by now, per shard —
local index ``by-due`` (shard, due_at).
"""

from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.indexes import AllProjection, LocalSecondaryIndex
from pynamodb.models import Model

from payflow.aws.dynamodb import table


class OutboxByDue(LocalSecondaryIndex):
    class Meta:
        index_name = "by-due"
        projection = AllProjection()

    shard = UnicodeAttribute(hash_key=True)
    due_at = NumberAttribute(range_key=True)


@table("outbox")
class OutboxEntry(Model):
    """A task that must reach SQS: written with its object, deleted once a worker took it."""

    class Meta:
        pass

    shard = UnicodeAttribute(hash_key=True)
    ref = UnicodeAttribute(range_key=True)  # "<task name>#<object id>"
    task = UnicodeAttribute()
    object_id = UnicodeAttribute()
    due_at = NumberAttribute()  # epoch seconds; the sweeper re-publishes from then on
    published = NumberAttribute(default=0)  # times the sweeper re-published it
    request_id = UnicodeAttribute(null=True)  # of the API request that made the work: its logs follow it

    by_due = OutboxByDue()
