import time
from datetime import UTC, datetime, timedelta

import pytest

from payflow.observability import charts
from payflow.observability.metrics import (
    Recorder,
    bucket_start,
    latency_field,
    percentile_ms,
    series_read,
)


def test_latency_falls_in_the_first_bucket_that_holds_it():
    assert latency_field(0.4) == "lat_2"
    assert latency_field(2) == "lat_2"
    assert latency_field(2.01) == "lat_5"
    assert latency_field(99_000) == "lat_inf"


def test_the_percentile_interpolates_within_its_bucket():
    # 90 requests of at most 10 ms, 10 of 10 to 15 ms: the 95th is halfway through the second bucket.
    assert percentile_ms([{"lat_10": 90}, {"lat_15": 10}], 0.95) == pytest.approx(12.5)
    assert percentile_ms([{"requests": 3}], 0.95) is None
    assert percentile_ms([{"lat_inf": 5}], 0.95) == 10_000


def test_recorders_in_many_processes_add_up_in_one_bucket(aws):
    at = time.time()
    web, worker = Recorder(), Recorder()
    web.add("http", {"requests": 2, "status_2xx": 2}, at=at)
    worker.add("http", {"requests": 1, "status_5xx": 1}, at=at)
    web.add("http", {"requests": 1, "status_2xx": 1}, at=at)
    assert web.flush() == 2 and worker.flush() == 2  # one write per resolution touched
    assert web.flush() == 0  # nothing twice

    for resolution, seconds in (("m5", 300), ("h1", 3600)):
        start = bucket_start(at, seconds)
        read = series_read("http", resolution, start - timedelta(hours=1), start)
        assert read == {start: {"requests": 4, "status_2xx": 3, "status_5xx": 1}}


def test_counts_that_cannot_be_written_wait_for_the_next_flush(aws, settings):
    recorder = Recorder()
    recorder.add("payments", {"count_completed": 1})
    table = settings.PAYFLOW_ENV
    settings.PAYFLOW_ENV = "missing"  # the table is not there: every write fails
    from payflow.aws.dynamodb import bind_tables

    bind_tables()
    assert recorder.flush() == 0
    assert sum(c["count_completed"] for c in recorder.pending().values()) == 2
    settings.PAYFLOW_ENV = table
    bind_tables()
    assert recorder.flush() == 2 and recorder.pending() == {}


def test_an_api_request_is_counted_in_memory_without_a_write(api, aws):
    from payflow.observability.metrics import recorder

    api.get("/v1/payments")
    api.get("/v1/payments/pay_missing")
    api.get("/v1/health")  # probes are not traffic
    counts = [c for (series, _, _), c in recorder.pending().items() if series == "m5#http"]
    assert counts[0]["requests"] == 2 and counts[0]["status_2xx"] == 1 and counts[0]["status_4xx"] == 1


def test_a_time_chart_draws_marks_and_says_when_it_is_empty():
    times = [datetime(2026, 11, 23, h, tzinfo=UTC) for h in range(4)]
    drawn = charts.time_chart("Paid", times, [charts.Series("ok", [1, None, 3, 4], "#000")])
    assert drawn.startswith('<svg class="chart"') and drawn.count('class="mark"') == 2  # a dot and a line
    assert "data-empty" not in drawn
    empty = charts.time_chart("Paid <b>", times, [charts.Series("ok", [None] * 4, "#000")])
    assert 'data-empty="true"' in empty and "No data in this window" in empty
    assert "<b>" not in empty and "&lt;b&gt;" in empty
    stacked = charts.time_chart(
        "By status",
        times,
        [charts.Series("a", [1, 0, 2, 0], "#111"), charts.Series("b", [1, 1, 0, 0], "#222")],
        kind="stacked",
    )
    assert stacked.count('<rect class="mark"') == 4


def test_the_y_axis_ends_on_a_round_number():
    assert [charts.nice_ceiling(v) for v in (0, 0.7, 3, 7.5, 42, 1200)] == [1, 1, 5, 10, 50, 2000]
