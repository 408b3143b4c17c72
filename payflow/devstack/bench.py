"""``make bench``: the local stack under load, and the figures that matter.

Starts the AWS emulator, gunicorn and one Celery worker in a temporary
directory on free ports (never ``.state/``), then runs six phases: warm-up,
AWS calls per request, a closed loop (POSTs and health at once), an open loop
at a fixed rate, the time from create to ``completed``, and webhook deliveries
per second (to a receiver that answers at once, alone and beside one that never
answers). Prints a table after each phase and writes every figure to a JSON file.

The load generator is standard library only: threads, each with its own
keep-alive ``http.client`` connection.
"""

import argparse
import http.client
import http.server
import itertools
import json
import math
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from .awsproxy import CountingProxy
from .emulator import REPO, Emulator, EmulatorError, free_port

WEB_WORKERS, WEB_THREADS, WEB_KEEPALIVE = 2, 8, 75
WORKER_CONCURRENCY = 2
WEB_OPTIONS = [
    "--worker-class=gthread",
    f"--workers={WEB_WORKERS}",
    f"--threads={WEB_THREADS}",
    f"--keep-alive={WEB_KEEPALIVE}",
    "--graceful-timeout=10",
    "--no-control-socket",
]
WORKER_OPTIONS = ["--queues=payments,settlement", f"--concurrency={WORKER_CONCURRENCY}"]
WORKER_OPTIONS += ["--hostname=bench@%h", "--loglevel=WARNING"]
HOOKS_OPTIONS = ["--queues=webhooks", "--pool=threads", "--concurrency=16", "--hostname=bench-hooks@%h"]
HOOKS_OPTIONS += ["--loglevel=WARNING"]
HEADER = f"""\
  web     gunicorn gthread, {WEB_WORKERS} workers x {WEB_THREADS} threads, keep-alive {WEB_KEEPALIVE} s
          (gthread: an idle keep-alive connection of the load generator does not pin a worker)
  worker  celery prefork, concurrency {WORKER_CONCURRENCY}; sandbox success rate 1.0
  hooks   celery threads, concurrency 16, on the webhooks queue (started for phase 6)
  AWS     ministack; the web's calls go through a counting proxy in this process, the worker's direct"""

WARMUP_CONNECTIONS, WARMUP_POSTS_EACH = 8, 3
# Open-loop senders: enough for 300 ms in flight at the target rate (Little's law). Beyond that
# the server is saturated, and the wait for a free sender counts in the latency anyway.
MIN_SENDERS, SENDER_SECONDS = 32, 0.3
STALL_MS = 900  # the emulator's occasional ~1 s stalls (LOCAL_AWS.md): counted, not hidden
SAMPLE_EVERY, SAMPLE_CAP, POLL_SECONDS = 10, 200, 0.05
POLLS_PER_S = 50  # a backlog of sampled payments must not become a GET load of its own
SETTLE_TIMEOUT = 300.0
FINAL = ("completed", "failed")
# The caller's own stack settings must not leak into the bench's.
SCRUBBED = ("AWS_", "DJANGO_", "DATABASE_", "PAYFLOW_", "PAYMENTS_", "CELERY_", "SQS_", "REDIS_URL")

STOP = threading.Event()
RUN_ID = uuid.uuid4().hex[:8]
SEQUENCE = itertools.count()


class BenchError(RuntimeError):
    pass


# --- the stack ------------------------------------------------------------------------------------
class BenchStack:
    """Emulator, counting proxy, gunicorn and a Celery worker in a throwaway directory."""

    def __init__(self, state_dir: Path) -> None:
        self.state_dir = state_dir
        self.web_port = free_port()
        self.emulator = Emulator(port=free_port(), state_dir=state_dir / "aws")
        self.proxy = CountingProxy(upstream=self.emulator.url)
        self.children: list[subprocess.Popen] = []
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(SCRUBBED)} | {
            "DJANGO_SETTINGS_MODULE": "settings.local",
            "AWS_ENDPOINT_URL": self.emulator.url,
            "DATABASE_URL": f"sqlite:///{state_dir / 'db.sqlite3'}",
            "PAYFLOW_CACHE_DIR": str(state_dir / "cache"),
            "PAYMENTS_SANDBOX_SUCCESS_RATE": "1.0",
            "PYTHONUNBUFFERED": "1",
        }
        self.web = ["gunicorn", "payflow.wsgi:application", f"--bind=127.0.0.1:{self.web_port}", *WEB_OPTIONS]
        self.worker = ["celery", "--app=payflow", "worker", *WORKER_OPTIONS]
        self.hooks = ["celery", "--app=payflow", "worker", *HOOKS_OPTIONS]

    def start(self) -> str:
        """Start everything; returns the demo merchant's API key."""
        with (self.state_dir / "aws.log").open("ab") as log:
            self.emulator.start(stdout=log)
        self.manage("migrate", "--noinput")
        self.manage("provision_aws")
        demo = self.manage("ensure_demo", "--credentials-file", str(self.state_dir / "demo.json"))
        self.proxy.start()
        self.spawn("web", self.web, AWS_ENDPOINT_URL=self.proxy.url)
        self.spawn("worker", self.worker)
        self.wait_healthy()
        return json.loads(demo.splitlines()[-1])["api_key"]

    def manage(self, *args: str) -> str:
        argv = [sys.executable, "manage.py", *args]
        result = subprocess.run(argv, cwd=REPO, env=self.env, capture_output=True, text=True)
        if result.returncode != 0:
            raise BenchError(f"`manage.py {' '.join(args)}` failed:\n{result.stderr[-2000:]}")
        return result.stdout

    def spawn(self, name: str, argv: list[str], **env: str) -> subprocess.Popen:
        with (self.state_dir / f"{name}.log").open("ab") as log:
            # Their own session: a Ctrl-C reaches only the bench, which stops them in order.
            process = subprocess.Popen(
                [sys.executable, "-m", *argv],
                cwd=REPO,
                env=self.env | env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.children.append(process)
        return process

    def wait_healthy(self, timeout: float = 60.0) -> None:
        url = f"http://127.0.0.1:{self.web_port}/v1/health"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(process.poll() is not None for process in self.children):
                raise BenchError("gunicorn or the worker exited")
            try:
                with urllib.request.urlopen(url, timeout=3) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.3)
        raise BenchError(f"/v1/health did not answer 200 within {timeout:.0f} s")

    def stop(self) -> None:
        for process in self.children:
            if process.poll() is None:
                process.terminate()
        for process in self.children:
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        if self.proxy.thread.is_alive():
            self.proxy.stop()
        self.emulator.stop()  # last, with SIGTERM


# --- the load generator ---------------------------------------------------------------------------
@dataclass
class Samples:
    """Latencies and errors of one kind of request, recorded from any number of threads."""

    latencies_ms: list[float] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, started: float, error: str | None) -> None:
        elapsed_ms = (time.perf_counter() - started) * 1000
        with self.lock:
            self.latencies_ms.append(elapsed_ms)
            if error is not None:
                self.errors[error] += 1

    def summary(self, seconds: float) -> dict:
        values = sorted(self.latencies_ms)
        return {
            "requests": len(values),
            "req_per_s": round(len(values) / seconds, 1),
            **{f"p{p}_ms": round(percentile(values, p), 1) for p in (50, 95, 99)},
            "max_ms": round(max(values, default=0.0), 1),
            f"over_{STALL_MS}ms": sum(v > STALL_MS for v in values),
            "errors": sum(self.errors.values()),
            "error_kinds": dict(self.errors),
            "seconds": round(seconds, 2),
        }


def percentile(values: list[float], p: float) -> float:
    """Nearest rank in an already sorted list."""
    return values[max(0, min(len(values), round(p / 100 * len(values) + 0.5)) - 1)] if values else 0.0


class Client:
    """One keep-alive connection to the web server."""

    def __init__(self, port: int, api_key: str) -> None:
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.headers = {"Authorization": f"Bearer {api_key}", "Accept": "application/json"}

    def call(self, method: str, path: str, body: dict | None = None, key: str = "") -> tuple[int, dict]:
        headers = self.headers | ({"Content-Type": "application/json"} if body else {})
        headers |= {"Idempotency-Key": key} if key else {}
        try:
            self.connection.request(method, path, json.dumps(body).encode() if body else None, headers)
            response = self.connection.getresponse()
            payload = response.read()
        except (OSError, http.client.HTTPException):
            self.connection.close()  # the next request reconnects
            raise
        try:
            return response.status, json.loads(payload or b"{}")
        except ValueError:
            return response.status, {"raw": payload[:200].decode(errors="replace")}

    def timed(self, samples: Samples, path: str, started: float = 0.0, **post: str | dict) -> dict | None:
        """GET ``path``, or POST ``body``/``key``; the body on 2xx, else None and an error recorded."""
        started = started or time.perf_counter()
        try:
            status, body = self.call("POST" if post else "GET", path, **post)  # type: ignore[arg-type]
            error = None if 200 <= status < 300 else f"{status} {body.get('error', {}).get('code', '')}"
        except (OSError, http.client.HTTPException) as exc:
            body, error = {}, type(exc).__name__
        samples.add(started, error)
        return body if error is None else None

    def create(self, samples: Samples, started: float = 0.0) -> dict | None:
        """POST a new payment: a varied amount and a unique idempotency key."""
        body, key = new_payment()
        return self.timed(samples, "/v1/payments", started, body=body, key=key)


def new_payment() -> tuple[dict, str]:
    n = next(SEQUENCE)
    body = {"amount": f"{n % 997 + 1}.{n * 37 % 100:02d}", "currency": "USD", "type": "eft"}
    return body, f"bench-{RUN_ID}-{n}"


def run_threads(target: Callable[[], None], count: int) -> None:
    threads = [threading.Thread(target=target, daemon=True) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


# --- the phases -----------------------------------------------------------------------------------
def warm_up(client: Callable[[], Client]) -> dict:
    """POSTs over parallel connections, so that every gunicorn worker has published to SQS once."""
    samples, created = Samples(), []

    def connection() -> None:
        session = client()
        for _ in range(WARMUP_POSTS_EACH):
            if payment := session.create(samples):
                created.append(payment["id"])
            session.timed(samples, "/v1/health")

    run_threads(connection, WARMUP_CONNECTIONS)
    if not created:
        raise BenchError(f"warm-up: no payment was created: {dict(samples.errors)}")
    started, session = time.monotonic(), client()
    while session.call("GET", f"/v1/payments/{created[0]}")[1].get("status") not in FINAL:
        if time.monotonic() - started > 60:
            raise BenchError("warm-up: the worker did not finish a payment within 60 s")
        time.sleep(0.1)
    ready, errors = round(time.monotonic() - started, 2), sum(samples.errors.values())
    return {"requests": len(samples.latencies_ms), "errors": errors, "worker_ready_s": ready}


def aws_calls(session: Client, proxy: CountingProxy) -> dict:
    """The AWS calls the web makes for exactly one request of each kind."""
    body, key = new_payment()
    proxy.take()
    status, created = session.call("POST", "/v1/payments", body, key)
    results = {"create": (status, 201, proxy.take())}
    status, _ = session.call("POST", "/v1/payments", body, key)
    results["replay"] = (status, 200, proxy.take())
    status, _ = session.call("GET", f"/v1/payments/{created.get('id')}")
    results["retrieve"] = (status, 200, proxy.take())
    status, _ = session.call("GET", "/v1/health")
    results["health"] = (status, 200, proxy.take())
    return {
        name: {"status": status, "expected": expected, "calls": dict(sorted(calls.items()))}
        for name, (status, expected, calls) in results.items()
    }


def closed_loop(client: Callable[[], Client], duration: float, concurrency: int) -> dict:
    posts, health = Samples(), Samples()
    started = time.perf_counter()

    def poster() -> None:
        session = client()
        while time.perf_counter() - started < duration and not STOP.is_set():
            session.create(posts)

    def checker() -> None:
        session = client()
        while time.perf_counter() - started < duration and not STOP.is_set():
            session.timed(health, "/v1/health")

    checking = threading.Thread(target=checker, daemon=True)
    checking.start()
    run_threads(poster, concurrency)
    checking.join()
    elapsed = time.perf_counter() - started
    return {"post": posts.summary(elapsed), "health": health.summary(elapsed)}


def wait_drained(session: Client, timeout: float = SETTLE_TIMEOUT) -> float:
    """Seconds until no payment is pending or processing: the worker has caught up."""
    started = time.monotonic()
    while time.monotonic() - started < timeout and not STOP.is_set():
        lists = [session.call("GET", f"/v1/payments?status={s}&limit=1") for s in ("pending", "processing")]
        if all(status == 200 and body["data"] == [] for status, body in lists):
            return time.monotonic() - started
        time.sleep(0.5)
    raise BenchError(f"the worker did not catch up within {timeout:.0f} s")


class CompletionTracker:
    """Polls sampled payments from its own thread until each is completed or failed."""

    def __init__(self, session: Client) -> None:
        self.session = session
        self.outstanding: dict[str, float] = {}
        self.sampled = self.polls = 0
        self.seen_s: list[float] = []  # 201 received -> final status seen by a poll
        self.server_s: list[float] = []  # the payment's created_at -> updated_at
        self.statuses: Counter[str] = Counter()
        self.lock = threading.Lock()
        self.done_adding = threading.Event()
        self.thread = threading.Thread(target=self.poll, daemon=True)

    def add(self, payment_id: str) -> None:
        with self.lock:
            if self.sampled < SAMPLE_CAP:
                self.sampled += 1
                self.outstanding[payment_id] = time.perf_counter()

    def poll(self) -> None:
        while not STOP.is_set():
            started = time.perf_counter()
            with self.lock:
                batch = list(self.outstanding.items())
            if not batch and self.done_adding.is_set():
                return
            for payment_id, created in batch:
                polled = time.perf_counter()
                self.check(payment_id, created)
                time.sleep(max(0.0, 1 / POLLS_PER_S - (time.perf_counter() - polled)))
            time.sleep(max(0.0, POLL_SECONDS - (time.perf_counter() - started)))

    def check(self, payment_id: str, created: float) -> None:
        self.polls += 1
        try:
            status, body = self.session.call("GET", f"/v1/payments/{payment_id}")
        except (OSError, http.client.HTTPException):
            return
        if status != 200 or body.get("status") not in FINAL:
            return
        self.seen_s.append(time.perf_counter() - created)
        at = {name: datetime.fromisoformat(body[name]) for name in ("created_at", "updated_at")}
        self.server_s.append((at["updated_at"] - at["created_at"]).total_seconds())
        self.statuses[body["status"]] += 1
        with self.lock:
            del self.outstanding[payment_id]

    def summary(self) -> dict:
        def spread(values: list[float]) -> dict:
            ranks = {f"p{p}_s": round(percentile(sorted(values), p), 3) for p in (50, 95)}
            return ranks | {"max_s": round(max(values, default=0.0), 3)}

        counts = {"sampled": self.sampled, "completed": self.statuses["completed"]}
        counts |= {"failed": self.statuses["failed"], "unfinished": len(self.outstanding)}
        return counts | {
            "polls": self.polls,
            "seen_s": spread(self.seen_s),
            "server_s": spread(self.server_s),
        }


def open_loop(client: Callable[[], Client], duration: float, rate: float, tracker: CompletionTracker) -> dict:
    """POSTs on a fixed schedule; latency counts from the scheduled time (no coordinated omission)."""
    posts, total, schedule = Samples(), int(duration * rate), itertools.count()
    senders, start = max(MIN_SENDERS, math.ceil(rate * SENDER_SECONDS)), time.perf_counter() + 0.5
    lags: list[float] = []

    def sender() -> None:
        session = client()
        while not STOP.is_set() and (i := next(schedule)) < total:
            scheduled = start + i / rate
            time.sleep(max(0.0, scheduled - time.perf_counter()))
            lags.append(time.perf_counter() - scheduled)
            if (payment := session.create(posts, started=scheduled)) and i % SAMPLE_EVERY == 0:
                tracker.add(payment["id"])

    run_threads(sender, senders)
    summary = posts.summary(time.perf_counter() - start) | {"target_req_per_s": rate, "senders": senders}
    return summary | {"max_send_lag_ms": round(max(lags, default=0) * 1000, 1)}


class HookReceiver:
    """A webhook receiver on loopback: answers 200 at once, or (``dead``) accepts and never answers."""

    def __init__(self, *, dead: bool = False) -> None:
        self.arrivals: list[float] = []
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), self._handler(dead))
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks"

    def _handler(self, dead: bool):
        arrivals = self.arrivals

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                self.rfile.read(int(self.headers["Content-Length"]))
                arrivals.append(time.perf_counter())
                if dead:
                    STOP.wait()
                    return
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        return Handler

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def webhooks(stack: BenchStack, client: Callable[[], Client], count: int) -> dict:
    """Deliveries per second: ``count`` queued while no webhooks worker runs, then drained by one.

    Once to a receiver that answers at once, then again with a second endpoint
    that accepts connections and never answers taking the same events.
    """
    fast, dead = HookReceiver(), HookReceiver(dead=True)
    session = client()

    def register(receiver: HookReceiver) -> None:
        body = {"url": receiver.url, "enabled_events": ["payment.created"]}
        status, answer = session.call("POST", "/v1/webhook_endpoints", body)
        if status != 201:
            raise BenchError(f"registering a webhook endpoint failed: {status} {answer}")

    def drain() -> float:
        before = len(fast.arrivals)
        samples = Samples()
        per_connection = math.ceil(count / 8)
        run_threads(lambda: [client().create(samples) for _ in range(per_connection)] and None, 8)
        queued = len(samples.latencies_ms) - sum(samples.errors.values())
        # Short polls: a stopped worker's last long poll must not take the next round's messages.
        hooks = stack.spawn("hooks", stack.hooks, SQS_WAIT_TIME_SECONDS="1")
        deadline = time.monotonic() + SETTLE_TIMEOUT
        while len(fast.arrivals) < before + queued:
            if time.monotonic() > deadline or hooks.poll() is not None:
                raise BenchError(f"webhooks: {len(fast.arrivals) - before} of {queued} deliveries arrived")
            time.sleep(0.05)
        hooks.terminate()
        hooks.wait(30)
        time.sleep(2)
        arrivals = fast.arrivals[before : before + queued]
        return round((queued - 1) / max(arrivals[-1] - arrivals[0], 1e-6), 1)

    try:
        register(fast)
        alone = drain()
        register(dead)
        beside_dead = drain()
    finally:
        fast.stop()
    return {
        "deliveries": count,
        "alone_per_s": alone,
        "beside_dead_per_s": beside_dead,
        "dead_endpoint_attempts": len(dead.arrivals),
        "ratio": round(beside_dead / alone, 2),
    }


# --- output ---------------------------------------------------------------------------------------
def table(title: str, header: list[str], rows: list[list]) -> None:
    cells = [[str(cell) for cell in row] for row in [header, *rows]]
    widths = [max(map(len, column)) for column in zip(*cells, strict=True)]
    print(f"\n{title}")
    for row in cells:
        aligned = [row[0].ljust(widths[0])] + [c.rjust(w) for c, w in zip(row[1:], widths[1:], strict=True)]
        print("  " + "  ".join(aligned))
    sys.stdout.flush()


def latency_table(title: str, rows: dict[str, dict]) -> None:
    keys = ["requests", "req_per_s", "p50_ms", "p95_ms", "p99_ms", "max_ms", f"over_{STALL_MS}ms", "errors"]
    header = ["", "requests", "req/s", "p50 ms", "p95 ms", "p99 ms", "max ms", f">{STALL_MS} ms", "errors"]
    table(title, header, [[name, *(stats[key] for key in keys)] for name, stats in rows.items()])
    for name, stats in rows.items():
        if stats["errors"]:
            print(f"  {name} errors: {stats['error_kinds']}")


def calls_row(name: str, measured: dict) -> list:
    status, expected, calls = measured["status"], measured["expected"], measured["calls"]
    shown = status if status == expected else f"{status} (expected {expected})"
    return [name, shown, sum(calls.values()), ", ".join(f"{op} {n}" for op, n in calls.items())]


def run_phases(args: argparse.Namespace, stack: BenchStack, api_key: str, phases: dict) -> None:
    def client() -> Client:
        return Client(stack.web_port, api_key)

    warm = phases["warm_up"] = warm_up(client)
    header = ["requests", "errors", "worker finished a payment after s"]
    table("1. warm-up (discarded)", header, [[warm["requests"], warm["errors"], warm["worker_ready_s"]]])

    calls = phases["aws_calls"] = aws_calls(client(), stack.proxy)
    rows = [calls_row(name, measured) for name, measured in calls.items()]
    table("2. AWS calls per request (web only)", ["request", "status", "calls", "by operation"], rows)

    loop = phases["closed_loop"] = closed_loop(client, args.duration, args.concurrency)
    title = (
        f"3. closed loop, {args.duration:g} s: {args.concurrency} connections POSTing + 1 GETting /v1/health"
    )
    latency_table(title, {"POST /v1/payments": loop["post"], "GET /v1/health": loop["health"]})
    caught_up = loop["worker_caught_up_s"] = round(wait_drained(client()), 1)
    created = loop["post"]["requests"] - loop["post"]["errors"]
    rate = loop["worker_payments_per_s"] = round(created / (loop["post"]["seconds"] + caught_up), 1)
    print(f"  the worker finished these {created} payments {caught_up} s after the phase ({rate}/s)")

    tracker = CompletionTracker(client())
    tracker.thread.start()
    steady = phases["open_loop"] = open_loop(client, args.duration, args.rate, tracker)
    title = f"4. open loop, {args.duration:g} s: {args.rate:g} POST/s from {steady['senders']} senders"
    latency_table(title + ", latency from the scheduled send time", {"POST /v1/payments": steady})
    print(f"  sends started up to {steady['max_send_lag_ms']} ms late (all senders busy)")

    tracker.done_adding.set()
    tracker.thread.join(SETTLE_TIMEOUT)
    done = phases["create_to_completed"] = tracker.summary()
    counts = [done["sampled"], done["completed"], done["failed"], done["unfinished"]]
    rows = [["201 -> final status polled", *counts, *done["seen_s"].values()]]
    rows += [["created_at -> updated_at", "", "", "", "", *done["server_s"].values()]]
    header = ["", "sampled", "completed", "failed", "unfinished", "p50 s", "p95 s", "max s"]
    table(f"5. create -> completed: every {SAMPLE_EVERY}th POST of phase 4", header, rows)
    print(
        f"  {done['polls']} polls, each payment every {POLL_SECONDS * 1000:.0f} ms, {POLLS_PER_S}/s at most"
    )

    hooks = phases["webhooks"] = webhooks(stack, client, args.webhooks)
    rows = [
        ["to a receiver that answers at once", hooks["alone_per_s"]],
        ["the same, beside an endpoint that never answers", hooks["beside_dead_per_s"]],
    ]
    table(f"6. webhooks: {args.webhooks} queued deliveries drained", ["", "deliveries/s"], rows)
    print(f"  ratio {hooks['ratio']}; the dead endpoint was tried {hooks['dead_endpoint_attempts']} times")


def git_commit() -> str | None:
    try:
        git = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True
        )
    except OSError:
        return None
    return git.stdout.strip() or None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=20.0, help="seconds of each load phase")
    parser.add_argument("--concurrency", type=int, default=16, help="closed-loop connections")
    parser.add_argument("--rate", type=float, default=100.0, help="open-loop POSTs per second")
    parser.add_argument("--webhooks", type=int, default=500, help="webhook deliveries to drain, twice")
    parser.add_argument("--out", type=Path, default=REPO / "bench-results.json")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, signal.default_int_handler)

    state_dir = Path(tempfile.mkdtemp(prefix="payflow-bench-"))
    stack = BenchStack(state_dir)
    machine = {"cpu_count": os.cpu_count(), "platform": platform.platform(), "python": sys.version.split()[0]}
    machine["load_average_at_start"] = [round(load, 2) for load in os.getloadavg()]
    settings = vars(args) | {
        "out": str(args.out),
        "web": " ".join(stack.web),
        "worker": " ".join(stack.worker),
        "hooks": " ".join(stack.hooks),
    }
    settings |= {"sandbox_success_rate": 1.0, "polls_per_s_max": POLLS_PER_S}
    results = {"started_at": datetime.now(UTC).isoformat(timespec="seconds"), "machine": machine}
    results |= {"git_commit": git_commit(), "settings": settings, "phases": {}}
    load = " ".join(map(str, machine["load_average_at_start"]))
    print(f"PayFlow bench: {machine['cpu_count']} CPUs (load {load}), {machine['platform']}")
    print(f"  commit  {results['git_commit']}")
    print(HEADER, flush=True)
    status = 1
    try:
        run_phases(args, stack, stack.start(), results["phases"])
        status = 0
    except (BenchError, EmulatorError) as exc:
        print(f"\nbench: {exc}\nlogs kept in {state_dir}", file=sys.stderr)
    except KeyboardInterrupt:
        print("\nbench: interrupted", file=sys.stderr)
        status = 130
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not cut the clean-up short
        STOP.set()
        stack.stop()
        results["completed"] = status == 0
        args.out.write_text(json.dumps(results, indent=2) + "\n")
        print(f"\nresults in {args.out}")
    if status != 1:
        shutil.rmtree(state_dir, ignore_errors=True)
    return status


if __name__ == "__main__":
    sys.exit(main())
