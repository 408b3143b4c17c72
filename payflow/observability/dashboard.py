"""The operator dashboard: payments, API traffic, webhooks and queues over 24 hours or 7 days.

Figures come from the metrics table (counted by every web and worker process,
see ``metrics``) and from SQS's queue attributes, read when the page is
drawn. Six queries and one attribute call per queue, in parallel.
"""

from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse
from django.utils import timezone

from payflow.aws.queues import QueueStats, queue_stats
from payflow.money import format_minor_units

from . import charts
from .charts import Series
from .metrics import RESOLUTION, bucket_start, percentile_ms, series_read


@dataclass(frozen=True)
class Window:
    key: str
    label: str
    resolution: str
    slots: int
    time_format: str


WINDOWS = {
    "24h": Window("24h", "Last 24 hours", "m5", 288, "%H:%M"),
    "7d": Window("7d", "Last 7 days", "h1", 168, "%d %b"),
}

STATUS_COLORS = {
    "pending": "#9aa5b1",
    "processing": "#5b8def",
    "authorized": "#8e6bd8",
    "completed": "#2e9e5b",
    "failed": "#d64545",
    "canceled": "#e0a030",
    "partially_refunded": "#3fb5b0",
    "refunded": "#1f6f6b",
}
BLUE, RED, ORANGE, GREEN = "#417690", "#d64545", "#e0a030", "#2e9e5b"

_executor = ThreadPoolExecutor(max_workers=4, thread_name_prefix="dashboard")


def _percent(part: int, whole: int) -> float | None:
    return 100 * part / whole if whole else None


def _format_percent(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f} %"


def _format_ms(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value / 1000:.2f} s" if value >= 1000 else f"{value:.0f} ms"


def dashboard_data(window: Window, now: datetime) -> dict:
    seconds = RESOLUTION[window.resolution].seconds
    end = bucket_start(now.timestamp(), seconds)
    start = end - timedelta(seconds=seconds * (window.slots - 1))
    times = [start + timedelta(seconds=seconds * i) for i in range(window.slots)]
    reads = {
        name: _executor.submit(series_read, name, window.resolution, start, end)
        for name in ("http", "payments", "webhooks")
    }
    queues = _executor.submit(queue_stats)
    http, payments, webhooks = (reads[name].result() for name in ("http", "payments", "webhooks"))
    per_slot = lambda buckets: [buckets.get(t, {}) for t in times]  # noqa: E731
    http_slots, payment_slots, webhook_slots = per_slot(http), per_slot(payments), per_slot(webhooks)
    payment_totals = sum((Counter(b) for b in payment_slots), Counter())
    http_totals = sum((Counter(b) for b in http_slots), Counter())
    webhook_totals = sum((Counter(b) for b in webhook_slots), Counter())
    fmt = dict(time_format=window.time_format)

    statuses = [s for s in STATUS_COLORS if payment_totals.get(f"count_{s}")]
    chart_list = [
        charts.time_chart(
            "Payments reaching each status",
            times,
            [Series(s, [b.get(f"count_{s}", 0) for b in payment_slots], STATUS_COLORS[s]) for s in statuses],
            kind="stacked",
            **fmt,
        )
    ]
    currencies = Counter()
    for field, amount in payment_totals.items():
        if field.startswith("volume_"):
            currencies[field.rsplit("_", 1)[1]] += amount
    volume_statuses = [
        s for s in ("pending", "authorized", "completed", "failed", "refunded") if s in statuses
    ]
    for currency, _ in currencies.most_common(3):
        chart_list.append(
            charts.time_chart(
                f"Volume by status, {currency}",
                times,
                [
                    Series(
                        s,
                        [b.get(f"volume_{s}_{currency}") for b in payment_slots],
                        STATUS_COLORS[s],
                    )
                    for s in volume_statuses
                ],
                y_format=lambda v, c=currency: format_minor_units(int(v), c),
                **fmt,
            )
        )
    chart_list += [
        charts.time_chart(
            "Payment success rate (provider answers)",
            times,
            [
                Series(
                    "succeeded",
                    [
                        _percent(
                            b.get("outcome_succeeded", 0),
                            b.get("outcome_succeeded", 0) + b.get("outcome_failed", 0),
                        )
                        for b in payment_slots
                    ],
                    GREEN,
                )
            ],
            y_max=100,
            y_format=lambda v: f"{v:.0f} %",
            **fmt,
        ),
        charts.time_chart(
            "API requests per second",
            times,
            [Series("requests/s", [b.get("requests", 0) / seconds for b in http_slots], BLUE)],
            y_format=lambda v: f"{v:.2g}",
            zero_is_empty=True,
            **fmt,
        ),
        charts.time_chart(
            "API latency, 95th percentile",
            times,
            [Series("p95", [percentile_ms([b], 0.95) for b in http_slots], BLUE)],
            y_format=_format_ms,
            **fmt,
        ),
        charts.time_chart(
            "API error rates",
            times,
            [
                Series(
                    "4xx",
                    [_percent(b.get("status_4xx", 0), b.get("requests", 0)) for b in http_slots],
                    ORANGE,
                ),
                Series(
                    "5xx", [_percent(b.get("status_5xx", 0), b.get("requests", 0)) for b in http_slots], RED
                ),
            ],
            y_format=lambda v: f"{v:.3g} %",  # the axis may top out at 1 %: 0.25 %, 0.5 % ...
            **fmt,
        ),
        charts.time_chart(
            "Webhook delivery attempts that succeeded",
            times,
            [
                Series(
                    "succeeded",
                    [
                        _percent(b.get("attempt_ok", 0), b.get("attempt_ok", 0) + b.get("attempt_failed", 0))
                        for b in webhook_slots
                    ],
                    GREEN,
                )
            ],
            y_max=100,
            y_format=lambda v: f"{v:.0f} %",
            **fmt,
        ),
    ]

    queue_error = None
    try:
        stats: list[QueueStats] = queues.result()
    except Exception as exc:  # noqa: BLE001 - the page still shows everything else
        stats, queue_error = [], f"SQS did not answer: {exc.__class__.__name__}."
    if not queue_error:
        chart_list.append(
            charts.bar_chart(
                "Queue depths now (dead-letter queues in red)",
                [
                    (
                        q.name,
                        q.visible + q.in_flight + q.delayed,
                        RED if q.dead_letter else BLUE,
                        f"{q.visible} waiting · {q.in_flight} in flight · {q.delayed} delayed",
                    )
                    for q in stats
                ],
            )
        )

    requests = http_totals.get("requests", 0)
    outcomes = payment_totals.get("outcome_succeeded", 0) + payment_totals.get("outcome_failed", 0)
    attempts = webhook_totals.get("attempt_ok", 0) + webhook_totals.get("attempt_failed", 0)
    figures = [
        ("Payments created", f"{payment_totals.get('count_pending', 0):,}"),
        *(
            (
                f"Completed, {currency}",
                format_minor_units(payment_totals.get(f"volume_completed_{currency}", 0), currency),
            )
            for currency, _ in currencies.most_common(3)
        ),
        ("Success rate", _format_percent(_percent(payment_totals.get("outcome_succeeded", 0), outcomes))),
        ("API requests/s", f"{requests / (seconds * window.slots):.3g}"),
        ("API p95", _format_ms(percentile_ms([http_totals], 0.95))),
        ("4xx", _format_percent(_percent(http_totals.get("status_4xx", 0), requests))),
        ("5xx", _format_percent(_percent(http_totals.get("status_5xx", 0), requests))),
        ("Webhook success", _format_percent(_percent(webhook_totals.get("attempt_ok", 0), attempts))),
        ("Dead letters", "—" if queue_error else str(sum(q.visible for q in stats if q.dead_letter))),
    ]
    return {"charts": chart_list, "figures": figures, "queue_error": queue_error, "start": start, "end": end}


def dashboard_view(request):
    if not request.user.has_perm("payments.view_payment"):
        raise PermissionDenied
    window = WINDOWS.get(request.GET.get("window", ""), WINDOWS["24h"])
    context = {
        **admin.site.each_context(request),
        "title": f"Dashboard — {window.label.lower()}",
        "window": window,
        "windows": WINDOWS.values(),
        **dashboard_data(window, timezone.now()),
    }
    return TemplateResponse(request, "admin/console/dashboard.html", context)
