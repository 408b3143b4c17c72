"""The audit trail: every state transition of payments (and later refunds,
disbursements, …). Access: an object's history, oldest first — hash
``object_id``, range ``at_key``.
"""

from pynamodb.attributes import UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.models import Model

from payflow.aws.dynamodb import table


@table("audit")
class AuditRecord(Model):
    """One state transition of any object: who moved it from what to what, and why."""

    class Meta:
        pass

    object_id = UnicodeAttribute(hash_key=True)
    at_key = UnicodeAttribute(range_key=True)  # "<ISO at>#<random>": ordered, unique
    merchant_id = UnicodeAttribute()
    from_status = UnicodeAttribute(null=True)
    to_status = UnicodeAttribute()
    actor = UnicodeAttribute()  # api | worker | operator | sweeper
    reason = UnicodeAttribute(null=True)
    at = UTCDateTimeAttribute()
