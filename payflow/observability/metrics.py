"""Counters for the operator dashboard, collected off the request path.

Every process (gunicorn worker, Celery child) adds to an in-memory
``Recorder``; a daemon thread flushes it every ``METRICS_FLUSH_SECONDS`` to the
metrics table, one UpdateItem ADD per series and bucket touched, so an API
request never waits on a metrics write and any number of processes add to
the same buckets. What a process had not flushed when it was killed is lost
(at most one interval); a clean exit flushes.

Series and their counters:

- ``http`` (API requests, health probes excluded): ``requests``,
  ``status_2xx`` … ``status_5xx`` and a latency histogram ``lat_<ms>`` (count of
  requests that took at most that many milliseconds, the last bucket
  ``lat_inf``), from which percentiles are estimated.
- ``payments``: ``count_<status>`` for each payment that reached the status,
  ``volume_<status>_<CUR>`` its amount in minor units, and per provider answer
  (processing → authorized, completed or failed) ``outcome_succeeded`` or
  ``outcome_failed``: the success rate.
- ``webhooks``: ``attempt_ok`` and ``attempt_failed``, one per delivery attempt.
"""

import atexit
import logging
import os
import threading
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings

from payflow.aws.clients import aws_client

from .prometheus import payment_observe, webhook_attempt_observe
from .tables import MetricBucket

logger = logging.getLogger(__name__)

# Upper bounds (ms) of the latency histogram's buckets; everything slower is lat_inf.
LATENCY_BOUNDS_MS = (
    2,
    5,
    10,
    15,
    20,
    30,
    40,
    50,
    75,
    100,
    150,
    200,
    300,
    400,
    500,
    750,
    1000,
    1500,
    2000,
    3000,
    5000,
    10000,
)


@dataclass(frozen=True)
class Resolution:
    name: str
    seconds: int
    keep: timedelta


RESOLUTIONS = (
    Resolution("m5", 300, timedelta(days=2)),
    Resolution("h1", 3600, timedelta(days=35)),
)
RESOLUTION = {r.name: r for r in RESOLUTIONS}


def bucket_start(moment: float, seconds: int) -> datetime:
    return datetime.fromtimestamp(moment - moment % seconds, UTC)


def bucket_label(start: datetime) -> str:
    return start.strftime("%Y-%m-%dT%H:%MZ")


def latency_field(milliseconds: float) -> str:
    for bound in LATENCY_BOUNDS_MS:
        if milliseconds <= bound:
            return f"lat_{bound}"
    return "lat_inf"


class Recorder:
    """This process's counts since its last flush, keyed by (series, bucket label)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending: dict[tuple[str, str, int], Counter] = {}
        self._pid: int | None = None
        self._thread: threading.Thread | None = None

    def add(self, name: str, counts: dict[str, int], *, at: float | None = None) -> None:
        at = time.time() if at is None else at
        with self._lock:
            if self._pid != os.getpid():
                self._forked()
            for resolution in RESOLUTIONS:
                start = bucket_start(at, resolution.seconds)
                expires = int((start + resolution.keep).timestamp())
                key = (f"{resolution.name}#{name}", bucket_label(start), expires)
                self._pending.setdefault(key, Counter()).update(counts)
        self._thread_ensure()

    def _forked(self) -> None:
        # A forked child inherits its parent's counts, which the parent flushes itself.
        self._pending = {}
        self._thread = None
        self._pid = os.getpid()

    def _thread_ensure(self) -> None:
        interval = settings.METRICS_FLUSH_SECONDS
        if interval <= 0 or (self._thread is not None and self._thread.is_alive()):
            return
        with self._lock:
            if self._thread is not None and self._thread.is_alive():
                return
            self._thread = threading.Thread(
                target=self._run, args=(interval,), name="metrics-flush", daemon=True
            )
            self._thread.start()

    def _run(self, interval: float) -> None:
        while True:
            time.sleep(interval)
            self.flush()

    def flush(self) -> int:
        """Write what was counted; what cannot be written waits for the next flush."""
        with self._lock:
            pending, self._pending = self._pending, {}
        written = 0
        failed: dict[tuple[str, str, int], Counter] = {}
        for key, counts in pending.items():
            try:
                _bucket_add(*key, counts)
                written += 1
            except Exception:  # noqa: BLE001 - metrics never break the process; retried next flush
                failed[key] = counts
        if failed:
            logger.warning("metrics: %d bucket writes failed; kept for the next flush", len(failed))
            with self._lock:
                for key, counts in failed.items():
                    self._pending.setdefault(key, Counter()).update(counts)
                if len(self._pending) > 10_000:  # the table is unreachable for long: drop the oldest
                    for key in sorted(self._pending, key=lambda k: k[1])[: len(self._pending) - 10_000]:
                        del self._pending[key]
        return written

    def reset(self) -> None:
        with self._lock:
            self._pending = {}

    def pending(self) -> dict[tuple[str, str, int], Counter]:
        with self._lock:
            return {key: Counter(counts) for key, counts in self._pending.items()}


def _bucket_add(series: str, bucket: str, expires: int, counts: Counter) -> None:
    names = {}
    values = {":expires": {"N": str(expires)}}
    adds = []
    for i, (field, amount) in enumerate(sorted(counts.items())):
        names[f"#c{i}"] = field
        values[f":c{i}"] = {"N": str(int(amount))}
        adds.append(f"#c{i} :c{i}")
    aws_client("dynamodb").update_item(
        TableName=MetricBucket.Meta.table_name,
        Key={"series": {"S": series}, "bucket": {"S": bucket}},
        UpdateExpression="SET expires_at = :expires ADD " + ", ".join(adds),
        ExpressionAttributeNames=names,
        ExpressionAttributeValues=values,
    )


recorder = Recorder()
atexit.register(recorder.flush)


# --- What the platform records -----------------------------------------------------


def http_request_record(*, status_code: int, seconds: float) -> None:
    recorder.add(
        "http",
        {
            "requests": 1,
            f"status_{status_code // 100}xx": 1,
            latency_field(seconds * 1000): 1,
        },
    )


def payment_status_record(
    *, status: str, amount: int, currency: str, outcome_of_processing: bool = False
) -> None:
    payment_observe(status=status, amount=int(amount), currency=currency)
    counts = {f"count_{status}": 1, f"volume_{status}_{currency}": int(amount)}
    if outcome_of_processing:  # the provider's answer: authorized or completed succeeded, failed did not
        counts["outcome_failed" if status == "failed" else "outcome_succeeded"] = 1
    recorder.add("payments", counts)


def webhook_attempt_record(*, succeeded: bool, status_code: int | None = None) -> None:
    webhook_attempt_observe(status_code=status_code, succeeded=succeeded)
    recorder.add("webhooks", {"attempt_ok" if succeeded else "attempt_failed": 1})


# --- Reading -------------------------------------------------------------------------


def series_read(name: str, resolution: str, start: datetime, end: datetime) -> dict[datetime, dict[str, int]]:
    """The buckets of one series from ``start`` to ``end`` (inclusive), as {bucket start: counters}."""
    client = aws_client("dynamodb")
    query = {
        "TableName": MetricBucket.Meta.table_name,
        # "bucket" is a DynamoDB reserved word (moto does not mind; DynamoDB and ministack do).
        "KeyConditionExpression": "#series = :series AND #bucket BETWEEN :start AND :end",
        "ExpressionAttributeNames": {"#series": "series", "#bucket": "bucket"},
        "ExpressionAttributeValues": {
            ":series": {"S": f"{resolution}#{name}"},
            ":start": {"S": bucket_label(start)},
            ":end": {"S": bucket_label(end)},
        },
    }
    buckets: dict[datetime, dict[str, int]] = {}
    while True:
        page = client.query(**query)
        for item in page["Items"]:
            moment = datetime.strptime(item["bucket"]["S"], "%Y-%m-%dT%H:%MZ").replace(tzinfo=UTC)
            buckets[moment] = {
                field: int(value["N"])
                for field, value in item.items()
                if "N" in value and field != "expires_at"
            }
        if "LastEvaluatedKey" not in page:
            return buckets
        query["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def percentile_ms(histograms: Iterable[dict[str, int]], fraction: float) -> float | None:
    """The latency under which ``fraction`` of requests finished, interpolated within its bucket."""
    totals: Counter = Counter()
    for counts in histograms:
        totals.update({field: n for field, n in counts.items() if field.startswith("lat_")})
    total = sum(totals.values())
    if not total:
        return None
    wanted = fraction * total
    seen = 0
    lower = 0
    for bound in LATENCY_BOUNDS_MS:
        n = totals.get(f"lat_{bound}", 0)
        if n and seen + n >= wanted:
            return lower + (bound - lower) * (wanted - seen) / n
        seen += n
        lower = bound
    return float(LATENCY_BOUNDS_MS[-1])  # slower than the last bound: shown as "> 10 s"
