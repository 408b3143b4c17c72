"""`make bench`, briefly: every phase runs, nothing fails, and the web stays within its AWS call budget."""

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PHASES = {"warm_up", "aws_calls", "closed_loop", "open_loop", "create_to_completed", "webhooks", "admin"}


def by_service(calls: dict[str, int]) -> Counter:
    services: Counter[str] = Counter()
    for operation, count in calls.items():
        services[operation.split(".")[0]] += count
    return services


def test_bench_runs_every_phase_without_errors_within_the_aws_call_budget(tmp_path):
    out = tmp_path / "r.json"
    argv = ["--duration", "2", "--concurrency", "4", "--rate", "20", "--webhooks", "16"]
    argv += ["--admin-payments", "300", "--admin-samples", "1", "--out", str(out)]
    bench = subprocess.run(
        [sys.executable, "-m", "payflow.devstack.bench", *argv],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert bench.returncode == 0, bench.stdout + bench.stderr
    results = json.loads(out.read_text())
    assert results["completed"] is True
    assert results["machine"]["cpu_count"] and results["settings"]["rate"] == 20
    phases = results["phases"]
    assert set(phases) == PHASES

    assert phases["warm_up"]["errors"] == 0, phases["warm_up"]
    load = [phases["closed_loop"]["post"], phases["closed_loop"]["health"], phases["open_loop"]]
    for stats in load:
        assert stats["requests"] > 0 and stats["errors"] == 0, stats
    assert phases["open_loop"]["requests"] == 40

    done = phases["create_to_completed"]
    assert done["sampled"] == 4 and done["completed"] == 4, done
    assert done["failed"] == 0 and done["unfinished"] == 0, done

    hooks = phases["webhooks"]
    assert hooks["deliveries"] == 16 and hooks["alone_per_s"] > 0 and hooks["beside_dead_per_s"] > 0, hooks
    assert hooks["dead_endpoint_attempts"] >= 1, hooks

    calls = phases["aws_calls"]
    assert {name: calls[name]["status"] for name in calls} == {
        "create": 201,
        "replay": 200,
        "retrieve": 200,
        "health": 200,
    }
    create, replay = calls["create"]["calls"], calls["replay"]["calls"]
    assert by_service(create)["dynamodb"] <= 2, create
    assert by_service(create)["sqs"] == create.get("sqs.SendMessage") == 1, create
    assert by_service(replay)["dynamodb"] <= 2, replay
    assert by_service(replay)["sqs"] == 0, replay

    admin = phases["admin"]
    assert admin["seeding"]["payments"] == 300 and admin["failed"] == [], admin["failed"]
    pages = admin["pages"]
    expected_pages = (
        "index",
        "dashboard",
        "payments/payment",
        "payments/payment detail",
        "payflow_aws/queue",
    )
    for expected in expected_pages:
        assert pages[expected]["status"] == 200, expected
    assert len(pages) >= 30, sorted(pages)  # every list, its next page, a row and each filter
