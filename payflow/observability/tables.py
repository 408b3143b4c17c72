"""The metrics table: counters per series and time bucket, for the operator dashboard.

An item is one series in one bucket: ``series`` = ``<resolution>#<name>``
(``m5#http``: five-minute buckets of API traffic; ``h1#payments``: hourly
payment transitions), ``bucket`` = the bucket's start (``2026-11-23T10:05Z``).
Its counters are number attributes named by the recorder (``requests``,
``status_5xx``, ``lat_250``…) and only ever grow, through UpdateItem ADD, so
any number of processes can add to one bucket. Items expire (TTL) after their
resolution's retention.
"""

from pynamodb.attributes import TTLAttribute, UnicodeAttribute
from pynamodb.models import Model

from payflow.aws.dynamodb import table


@table("metrics")
class MetricBucket(Model):
    class Meta:
        pass

    series = UnicodeAttribute(hash_key=True)
    bucket = UnicodeAttribute(range_key=True)
    expires_at = TTLAttribute(null=True)
