"""Events: what happened, for merchants to read and webhooks to deliver.

Access: a merchant's events, newest first — index ``by-merchant``
(merchant_id, created_key); of one type — ``by-merchant-type``; about one object
(a payment, a refund…), for operators — ``by-object``. Kept 30 days (TTL).
"""

from pynamodb.attributes import TTLAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from payflow.aws.dynamodb import table


class EventsByMerchant(GlobalSecondaryIndex):
    class Meta:
        index_name = "by-merchant"
        projection = AllProjection()

    merchant_id = UnicodeAttribute(hash_key=True)
    created_key = UnicodeAttribute(range_key=True)


class EventsByMerchantType(GlobalSecondaryIndex):
    class Meta:
        index_name = "by-merchant-type"
        projection = AllProjection()

    merchant_type = UnicodeAttribute(hash_key=True)
    created_key = UnicodeAttribute(range_key=True)


class EventsByObject(GlobalSecondaryIndex):
    """The events of one payment, refund, customer…: the operator console's history."""

    class Meta:
        index_name = "by-object"
        projection = AllProjection()

    object_id = UnicodeAttribute(hash_key=True)
    created_key = UnicodeAttribute(range_key=True)


@table("events")
class Event(Model):
    class Meta:
        pass

    id = UnicodeAttribute(hash_key=True)
    merchant_id = UnicodeAttribute()
    type = UnicodeAttribute()
    merchant_type = UnicodeAttribute()
    object_id = UnicodeAttribute(null=True)  # the id of data["object"]
    created_key = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    api_version = UnicodeAttribute()
    data = UnicodeAttribute()  # JSON: {"object": <the object as the API shows it>}
    expires_at = TTLAttribute()

    by_merchant = EventsByMerchant()
    by_merchant_type = EventsByMerchantType()
    by_object = EventsByObject()
