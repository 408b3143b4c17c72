"""Webhook endpoints. Access: by id (GetItem), a merchant's endpoints newest first
(index ``by-merchant``: merchant_id, created_key)."""

from pynamodb.attributes import ListAttribute, NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from payflow.aws.dynamodb import table


class EndpointsByMerchant(GlobalSecondaryIndex):
    class Meta:
        index_name = "by-merchant"
        projection = AllProjection()

    merchant_id = UnicodeAttribute(hash_key=True)
    created_key = UnicodeAttribute(range_key=True)


@table("webhook-endpoints")
class WebhookEndpoint(Model):
    class Meta:
        pass

    id = UnicodeAttribute(hash_key=True)
    merchant_id = UnicodeAttribute()
    created_key = UnicodeAttribute()
    url = UnicodeAttribute()
    enabled_events = ListAttribute(of=UnicodeAttribute)
    description = UnicodeAttribute(null=True)
    status = UnicodeAttribute()  # enabled | disabled
    # Signing needs the secret itself; it is shown to the merchant only when created or rotated.
    secret = UnicodeAttribute()
    previous_secret = UnicodeAttribute(null=True)  # still signed with until previous_secret_until
    previous_secret_until = NumberAttribute(null=True)  # epoch seconds
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()

    by_merchant = EndpointsByMerchant()
