from pynamodb.attributes import NumberAttribute, TTLAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.models import Model

from payflow.aws.dynamodb import table


@table("idempotency")
class IdempotencyRecord(Model):
    """One merchant's use of one idempotency key.

    Key design: hash key ``<merchant_id>#<idempotency key>`` — every lookup is
    by that exact pair; no index is needed.
    """

    class Meta:
        pass

    key = UnicodeAttribute(hash_key=True)
    status = UnicodeAttribute()  # "in_progress" | "complete"
    fingerprint = UnicodeAttribute()  # keyed hash of method, path and body
    claim_token = UnicodeAttribute()  # which request holds an in-progress claim
    locked_until = NumberAttribute()  # epoch seconds; an older in-progress claim was abandoned
    created_at = UTCDateTimeAttribute()
    retain_until = NumberAttribute()  # epoch seconds; checked in code, TTL only cleans up
    response_status = NumberAttribute(null=True)
    response_body = UnicodeAttribute(null=True)  # JSON
    expires_at = TTLAttribute(null=True)
