"""Prometheus metrics, served at ``/metrics`` to operators and scrapers.

Correct under many processes: when ``PROMETHEUS_MULTIPROC_DIR`` is set (it
must be, before any process starts, wherever more than one process serves or
works — ``make run`` and the Docker image set it), every gunicorn worker and
Celery child writes its counts to files there and ``/metrics`` adds up the
files of every process on the host, living or gone. Without it (a single
process: the tests) the counts live in the process.

The figures that are a state rather than a count — queue depths — are read
from SQS when scraped (cached for a few seconds, so a scrape storm costs SQS
nothing), not written by anyone.
"""

import logging
import os
import threading
import time

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily

logger = logging.getLogger(__name__)

MULTIPROCESS_DIR = os.environ.get("PROMETHEUS_MULTIPROC_DIR", "")
if MULTIPROCESS_DIR:
    os.makedirs(MULTIPROCESS_DIR, exist_ok=True)

# Seconds; the API answers in milliseconds, tasks may take seconds (providers, webhooks).
HTTP_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 10.0)
TASK_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0)

HTTP_REQUESTS = Counter(
    "payflow_http_requests",
    "Requests answered, by route pattern, method and status code.",
    ["route", "method", "status"],
)
HTTP_LATENCY = Histogram(
    "payflow_http_request_duration_seconds",
    "Time to answer a request, by route pattern and method.",
    ["route", "method"],
    buckets=HTTP_BUCKETS,
)
TASKS = Counter(
    "payflow_celery_tasks",
    "Celery tasks run, by task and outcome (succeeded, failed, retried).",
    ["task", "outcome"],
)
TASK_LATENCY = Histogram(
    "payflow_celery_task_duration_seconds",
    "Time a Celery task ran, by task.",
    ["task"],
    buckets=TASK_BUCKETS,
)
PAYMENTS = Counter(
    "payflow_payments",
    "Payments that reached each status.",
    ["status"],
)
PAYMENT_AMOUNTS = Counter(
    "payflow_payment_amount_minor",
    "Amounts of the payments that reached each status, in minor units of the currency.",
    ["status", "currency"],
)
WEBHOOK_ATTEMPTS = Counter(
    "payflow_webhook_attempts",
    "Webhook delivery attempts by outcome: succeeded, http_4xx, http_5xx (and other codes), error.",
    ["outcome"],
)
WEBHOOK_DELIVERIES = Counter(
    "payflow_webhook_deliveries_finished",
    "Webhook deliveries that ended: succeeded, or failed (dead-lettered after the schedule).",
    ["status"],
)

UNMATCHED_ROUTE = "<unmatched>"


def http_observe(*, route: str, method: str, status: int, seconds: float) -> None:
    HTTP_REQUESTS.labels(route, method, str(status)).inc()
    HTTP_LATENCY.labels(route, method).observe(seconds)


def task_observe(*, task: str, outcome: str, seconds: float | None) -> None:
    TASKS.labels(task, outcome).inc()
    if seconds is not None:
        TASK_LATENCY.labels(task).observe(seconds)


def payment_observe(*, status: str, amount: int, currency: str) -> None:
    PAYMENTS.labels(status).inc()
    PAYMENT_AMOUNTS.labels(status, currency).inc(amount)


def webhook_attempt_observe(*, status_code: int | None, succeeded: bool) -> None:
    if succeeded:
        outcome = "succeeded"
    elif status_code:
        outcome = f"http_{status_code // 100}xx"
    else:
        outcome = "error"  # no answer: timeout, refused, reset, TLS, an address refused by policy
    WEBHOOK_ATTEMPTS.labels(outcome).inc()


def webhook_delivery_observe(*, status: str) -> None:
    WEBHOOK_DELIVERIES.labels(status).inc()


# --- Celery: counts and latency of every task ------------------------------------

_task_started: dict[str, float] = {}
_task_started_lock = threading.Lock()


def task_started(task_id=None, **kwargs) -> None:
    with _task_started_lock:
        _task_started[task_id] = time.perf_counter()


def task_finished(task_id=None, task=None, state=None, **kwargs) -> None:
    with _task_started_lock:
        started = _task_started.pop(task_id, None)
    seconds = None if started is None else time.perf_counter() - started
    outcome = {"SUCCESS": "succeeded", "RETRY": "retried"}.get(state, "failed")
    task_observe(task=getattr(task, "name", "unknown"), outcome=outcome, seconds=seconds)


# --- Queue depths, read at scrape time ---------------------------------------------


class QueueDepthCollector:
    """Each SQS queue's (and DLQ's) approximate visible, in-flight and delayed messages."""

    cache_seconds = 5.0

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._read_at = 0.0
        self._stats = None

    def _queue_stats(self):
        from payflow.aws.queues import queue_stats

        with self._lock:
            if self._stats is None or time.monotonic() - self._read_at > self.cache_seconds:
                self._stats = queue_stats()
                self._read_at = time.monotonic()
            return self._stats

    def forget(self) -> None:
        with self._lock:
            self._stats = None

    @staticmethod
    def _families() -> tuple[GaugeMetricFamily, GaugeMetricFamily]:
        up = GaugeMetricFamily("payflow_sqs_up", "1 when the queues' attributes could be read from SQS.")
        messages = GaugeMetricFamily(
            "payflow_sqs_messages",
            "Approximate messages in each SQS queue by state: visible, in_flight, delayed.",
            labels=["queue", "dead_letter", "state"],
        )
        return up, messages

    def describe(self):
        # What registering asks for: without it the registry would collect, reading SQS, to learn the names.
        return list(self._families())

    def collect(self):
        up, messages = self._families()
        try:
            stats = self._queue_stats()
        except Exception as exc:  # noqa: BLE001 - SQS down must not take the other metrics with it
            logger.warning("metrics: queue attributes unreadable: %s: %s", exc.__class__.__name__, exc)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        for queue in stats:
            dead_letter = "true" if queue.dead_letter else "false"
            messages.add_metric([queue.name, dead_letter, "visible"], queue.visible)
            messages.add_metric([queue.name, dead_letter, "in_flight"], queue.in_flight)
            messages.add_metric([queue.name, dead_letter, "delayed"], queue.delayed)
        yield messages


queue_depths = QueueDepthCollector()


if not MULTIPROCESS_DIR:
    REGISTRY.register(queue_depths)  # one process: its own registry, with the queues beside


def metrics_render() -> tuple[bytes, str]:
    """The exposition of every process's metrics on this host, and its content type."""
    registry = REGISTRY
    if MULTIPROCESS_DIR:
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry, path=MULTIPROCESS_DIR)
        registry.register(queue_depths)
    return generate_latest(registry), CONTENT_TYPE_LATEST


# --- Workers on hosts without a web server ---------------------------------------


def worker_metrics_app(environ, start_response):
    """WSGI app of a worker's own ``/metrics`` (``WORKER_METRICS_PORT``): the bearer token only."""
    import hmac

    from django.conf import settings

    token = settings.OPERATIONS_TOKEN
    given = environ.get("HTTP_AUTHORIZATION", "").partition(" ")[2].strip()
    if environ.get("PATH_INFO") != "/metrics":
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b"Not found: /metrics only.\n"]
    if not token or not hmac.compare_digest(given.encode(), token.encode()):
        start_response("401 Unauthorized", [("Content-Type", "text/plain")])
        return [b"Send Authorization: Bearer <OPERATIONS_TOKEN>.\n"]
    body, content_type = metrics_render()
    start_response("200 OK", [("Content-Type", content_type), ("Cache-Control", "no-store")])
    return [body]


def worker_metrics_serve(port: int) -> threading.Thread:
    """Serve ``worker_metrics_app`` on ``port`` from a daemon thread of the worker's main process."""
    from wsgiref.simple_server import WSGIRequestHandler, make_server

    class QuietHandler(WSGIRequestHandler):
        def log_message(self, format, *args):
            pass  # a scrape every few seconds is not news

    server = make_server("0.0.0.0", port, worker_metrics_app, handler_class=QuietHandler)  # noqa: S104
    thread = threading.Thread(target=server.serve_forever, name="worker-metrics", daemon=True)
    thread.start()
    logger.info("worker metrics at http://0.0.0.0:%d/metrics", port)
    return thread
