"""Webhook endpoints and their deliveries.

Endpoints. Access: by id (GetItem); a merchant's endpoints newest first
(index ``by-merchant``: merchant_id, created_key).

Deliveries: one per event and endpoint. Access: by id (GetItem, the id is
derived from the event and endpoint ids); an event's deliveries
(``by-event``); an endpoint's, newest first (``by-endpoint``), or of one
status (``by-endpoint-status``: "<endpoint id>#<status>"); a merchant's, for
operators (``by-merchant``); those failing, across merchants, for operators
(``failing``, sparse: ``failed_key`` is set by a failed attempt and removed
by a successful one); those the dispatcher must send (``by-dispatch``,
sparse: shard, dispatch_at — set only while the delivery waits for a
worker). Kept 30 days, as events are.
"""

from pynamodb.attributes import (
    BooleanAttribute,
    ListAttribute,
    MapAttribute,
    NumberAttribute,
    TTLAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, KeysOnlyProjection
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
    disabled_reason = UnicodeAttribute(null=True)
    # Epoch seconds of the first failed attempt since the last success.
    failing_since = NumberAttribute(null=True)
    # Signing needs the secret itself; it is shown to the merchant only when created or rotated.
    secret = UnicodeAttribute()
    previous_secret = UnicodeAttribute(null=True)  # still signed with until previous_secret_until
    previous_secret_until = NumberAttribute(null=True)  # epoch seconds
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()

    by_merchant = EndpointsByMerchant()


class DeliveriesByEvent(GlobalSecondaryIndex):
    class Meta:
        index_name = "by-event"
        projection = AllProjection()

    event_id = UnicodeAttribute(hash_key=True)
    created_key = UnicodeAttribute(range_key=True)


class DeliveriesByEndpoint(GlobalSecondaryIndex):
    class Meta:
        index_name = "by-endpoint"
        projection = AllProjection()

    endpoint_id = UnicodeAttribute(hash_key=True)
    created_key = UnicodeAttribute(range_key=True)


class DeliveriesByEndpointStatus(GlobalSecondaryIndex):
    class Meta:
        index_name = "by-endpoint-status"
        projection = AllProjection()

    endpoint_status = UnicodeAttribute(hash_key=True)
    created_key = UnicodeAttribute(range_key=True)


class DeliveriesByMerchant(GlobalSecondaryIndex):
    class Meta:
        index_name = "by-merchant"
        projection = AllProjection()

    merchant_id = UnicodeAttribute(hash_key=True)
    created_key = UnicodeAttribute(range_key=True)


# The one value of ``failed_key``: failures are few, and operators list them across merchants.
FAILING = "failing"


class DeliveriesFailing(GlobalSecondaryIndex):
    """Sparse: deliveries whose last attempt failed, retried or dead, until an attempt succeeds.

    Deliveries that failed before this index existed are added by the
    ``backfill_failed_deliveries`` command (deliveries expire after 30 days,
    so after that there is nothing left to backfill).
    """

    class Meta:
        index_name = "failing"
        projection = AllProjection()

    failed_key = UnicodeAttribute(hash_key=True)
    created_key = UnicodeAttribute(range_key=True)


class DeliveriesToDispatch(GlobalSecondaryIndex):
    class Meta:
        index_name = "by-dispatch"
        projection = KeysOnlyProjection()

    dispatch_shard = UnicodeAttribute(hash_key=True)
    dispatch_at = NumberAttribute(range_key=True)


class Attempt(MapAttribute):
    at = UTCDateTimeAttribute()
    trigger = UnicodeAttribute()  # scheduled | manual | test
    status_code = NumberAttribute(null=True)
    latency_ms = NumberAttribute()
    response_body = UnicodeAttribute(null=True)  # the first 2 KB
    error = UnicodeAttribute(null=True)


@table("webhook-deliveries")
class WebhookDelivery(Model):
    class Meta:
        pass

    id = UnicodeAttribute(hash_key=True)
    merchant_id = UnicodeAttribute()
    event_id = UnicodeAttribute()
    event_type = UnicodeAttribute()
    endpoint_id = UnicodeAttribute()
    endpoint_status = UnicodeAttribute()
    created_key = UnicodeAttribute()
    payload = UnicodeAttribute()  # the JSON body every attempt sends
    status = UnicodeAttribute()  # pending | succeeded | failed
    # A manual redelivery of a finished delivery is one attempt, not a new schedule.
    manual = BooleanAttribute(default=False)
    attempt_count = NumberAttribute(default=0)
    scheduled_attempts = NumberAttribute(default=0)  # attempts of the schedule made so far
    attempts = ListAttribute(of=Attempt, default=list)  # the latest ATTEMPT_LOG_SIZE
    next_attempt_at = NumberAttribute(null=True)  # epoch seconds; no attempt before
    dispatch_shard = UnicodeAttribute(null=True)
    dispatch_at = NumberAttribute(null=True)  # the dispatcher sends it (again) from then
    redispatches = NumberAttribute(default=0)  # sends by the dispatcher since the last claim
    deferrals = NumberAttribute(default=0)  # times its endpoint was busy since the last attempt
    lease_token = UnicodeAttribute(null=True)  # an attempt in flight holds the delivery …
    lease_until = NumberAttribute(null=True)  # … until then
    last_status_code = NumberAttribute(null=True)
    last_error = UnicodeAttribute(null=True)
    last_attempt_at = UTCDateTimeAttribute(null=True)
    failed_key = UnicodeAttribute(null=True)  # FAILING while the last attempt failed
    request_id = UnicodeAttribute(null=True)  # of the API call behind its event: the attempts log it
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
    expires_at = TTLAttribute()

    by_event = DeliveriesByEvent()
    by_endpoint = DeliveriesByEndpoint()
    by_endpoint_status = DeliveriesByEndpointStatus()
    by_merchant = DeliveriesByMerchant()
    failing = DeliveriesFailing()
    to_dispatch = DeliveriesToDispatch()
