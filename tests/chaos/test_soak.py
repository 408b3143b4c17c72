"""Scenario 6: a steady load for CHAOS_SOAK_SECONDS, the worker restarted every minute.

The error budget: no 5xx (no error at all) from the API, a p95 within twice
the benchmark's own figure, and each long-lived process's memory flat. The
benchmark's figure is measured first, on this stack, by the benchmark's own
open loop (``payflow.devstack.bench.open_loop``) at the soak's rate.
"""

import os
import threading
import time
from pathlib import Path

from payflow.devstack import bench
from payments.tables import Payment

from . import books
from .load import wait_until

RATE = 8.0  # POST /v1/payments a second, on a fixed schedule
BASELINE_SECONDS = 20
RESTART_EVERY = 60
SAMPLE_EVERY = 5
SWEEP = {"payflow.outbox.tasks.outbox_sweep_task": 5}


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def children(pid: int) -> list[int]:
    return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def flat(samples: list[float]) -> bool:
    """The last third of a process's samples grew no more than 20 % (+10 MB) over the middle third."""
    third = max(1, len(samples) // 3)
    middle, last = samples[third : 2 * third] or samples[:1], samples[-third:]
    return max(last) <= max(middle) * 1.2 + 10


def test_a_soak_with_the_worker_restarted_every_minute_keeps_the_error_budget(stack, stack_tables, figures):
    seconds = float(os.environ.get("CHAOS_SOAK_SECONDS", "120"))
    merchant = stack.create_merchant()
    key, merchant_id = merchant["api_key"], merchant["merchant_id"]
    # The benchmark's keep-alive: its load generator keeps one connection per sender.
    web = stack.start_web(
        RATE_LIMIT_PER_SECOND="10000",
        RATE_LIMIT_BURST="10000",
        GUNICORN_CMD_ARGS=f"--keep-alive={bench.WEB_KEEPALIVE}",
    )
    workers = [stack.start_worker("payments", pool_args=("--concurrency=2",))]
    beat = stack.start_beat(every=SWEEP)

    def client() -> bench.Client:
        return bench.Client(web.port, key)

    def open_loop(duration: float) -> dict:
        return bench.open_loop(client, duration, RATE, bench.CompletionTracker(client()))

    baseline = open_loop(BASELINE_SECONDS)
    assert baseline["errors"] == 0, baseline["error_kinds"]

    # During the soak: a rolling restart every minute (the new worker first, then SIGTERM to the
    # old, as a deploy does), and every process's memory sampled.
    done = threading.Event()
    memory: dict[str, list[float]] = {}
    restarts = 0

    def restarter() -> None:
        nonlocal restarts
        started = time.monotonic()
        while not done.wait(max(0.0, started + (restarts + 1) * RESTART_EVERY - time.monotonic())):
            old = workers[-1]
            workers.append(stack.start_worker("payments", pool_args=("--concurrency=2",)))
            old.process.terminate()
            old.process.wait(60)
            restarts += 1

    def sampler() -> None:
        while not done.wait(SAMPLE_EVERY):
            pids = {f"web worker {n}": pid for n, pid in enumerate(sorted(children(web.process.pid)))}
            pids |= {"web master": web.process.pid, "beat": beat.process.pid}
            for name, pid in pids.items():
                memory.setdefault(name, []).append(rss_mb(pid))
            memory.setdefault("worker (each in turn)", []).append(rss_mb(workers[-1].process.pid))

    helpers = [threading.Thread(target=restarter, daemon=True), threading.Thread(target=sampler, daemon=True)]
    for helper in helpers:
        helper.start()
    soak = open_loop(seconds)
    done.set()
    for helper in helpers:
        helper.join(90)

    def unfinished() -> int:
        return sum(p.status in ("pending", "processing") for p in Payment.by_merchant.query(merchant_id))

    wait_until(lambda: unfinished() == 0, timeout=120, every=2, what="every payment to be final")
    checked = books.check([merchant_id])

    figures["requests"] = baseline["requests"] + soak["requests"]
    figures["soak (s) / rate (POST/s)"] = f"{seconds:g} / {RATE:g}"
    figures["worker restarts"] = restarts
    figures["errors (5xx or other)"] = soak["errors"]
    figures["p95 baseline -> soak (ms)"] = f"{baseline['p95_ms']} -> {soak['p95_ms']}"
    figures["RSS first -> last (MB)"] = ", ".join(
        f"{name} {values[0]:.0f}->{values[-1]:.0f}" for name, values in memory.items() if values
    )
    checked.report(figures)

    assert soak["errors"] == 0, soak["error_kinds"]
    assert soak["p95_ms"] <= 2 * baseline["p95_ms"], (baseline, soak)
    assert restarts >= int(seconds // RESTART_EVERY) - 1, restarts
    grown = {
        name: values for name, values in memory.items() if not name.startswith("worker") and not flat(values)
    }
    assert not grown, grown
    assert checked.problems == []
    assert "no difference" in stack.manage("reconcile")
