"""``make bench``: the local stack under load, and the figures that matter.

Starts the AWS emulator, gunicorn and one Celery worker in a temporary
directory on free ports (never ``.state/``), then runs seven phases: warm-up,
AWS calls per request, a closed loop (POSTs and health at once), an open loop
at a fixed rate, the time from create to ``completed``, webhook deliveries
per second (to a receiver that answers at once, alone and beside one that never
answers), and every page of the operator console with 10,000 seeded payments.
Prints a table after each phase and writes every figure to a JSON file.

The load generator is standard library only: threads, each with its own
keep-alive ``http.client`` connection.
"""

import argparse
import http.client
import http.cookies
import http.server
import itertools
import json
import math
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from html.parser import HTMLParser
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
    "--limit-request-line=0",
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
PHASE_GROUPS = {
    "load": "1-5: warm-up, AWS calls per request, closed loop, open loop, create -> completed",
    "webhooks": "6: webhook deliveries per second",
    "admin": "7: every operator console page, with seeded payments",
}

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
            # The limiter runs (its cost is measured) but one key must not be held to 100/s here.
            "RATE_LIMIT_PER_SECOND": "100000",
            "RATE_LIMIT_BURST": "100000",
            "RATE_LIMIT_STORE_URL": f"sqlite:///{state_dir / 'ratelimit.sqlite3'}",
        }
        self.credentials: dict[str, str] = {}
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
        self.credentials = json.loads(demo.splitlines()[-1])
        self.proxy.start()
        self.spawn("web", self.web, AWS_ENDPOINT_URL=self.proxy.url)
        self.spawn("worker", self.worker)
        self.wait_healthy()
        return self.credentials["api_key"]

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
    return {
        "requests": len(samples.latencies_ms),
        "errors": errors,
        "error_kinds": dict(samples.errors),
        "worker_ready_s": ready,
    }


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


# --- the operator console -------------------------------------------------------------------------
ADMIN_TARGET_MS = 1000.0  # the acceptance: every admin page answers within 1 s, every sample
ADMIN_LINK = re.compile(r"^/admin/[a-z0-9_]+/(?:[a-z0-9_]+/)?$")  # an app's or a model's list
NOT_LISTS = {"/admin/logout/", "/admin/password_change/", "/admin/login/"}
PAYMENTS_LIST = "/admin/payments/payment/"


class Browser:
    """An operator's browser as far as timing pages goes: one keep-alive connection and its cookies."""

    def __init__(self, port: int) -> None:
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.cookies: dict[str, str] = {}

    def request(self, path: str, form: dict[str, str] | None = None) -> tuple[int, str]:
        """GET ``path``, or POST ``form`` to it; the status and the body, redirects not followed."""
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            self.connection.request("POST" if form else "GET", path, body, headers)
            response = self.connection.getresponse()
            payload = response.read()
        except (OSError, http.client.HTTPException):
            self.connection.close()  # the next request reconnects
            raise
        for header in response.headers.get_all("Set-Cookie") or []:
            for name, morsel in http.cookies.SimpleCookie(header).items():
                self.cookies[name] = morsel.value
        return response.status, payload.decode(errors="replace")

    def log_in(self, username: str, password: str) -> None:
        """The admin's login form, with its CSRF token, as a browser submits it."""
        status, page = self.request("/admin/login/?next=/admin/")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
        if status != 200 or token is None:
            raise BenchError(f"admin: the login page answered {status} without a CSRF token")
        form = {"csrfmiddlewaretoken": token[1], "username": username, "password": password}
        status, _ = self.request("/admin/login/?next=/admin/", form | {"next": "/admin/"})
        if status != 302 or "sessionid" not in self.cookies:
            raise BenchError(f"admin: logging in as {username!r} failed ({status})")


class PageParser(HTMLParser):
    """What the phase follows on a page: its links, the next page, the first row, the filter form."""

    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []
        self.next_page: str | None = None
        self.first_row: tuple[str, str] | None = None  # the first result's link and its text
        self.selects: dict[str, list[str]] = {}  # the console filter form's choices, "any" left out
        self.inputs: dict[str, str] = {}  # its other fields: name -> type
        self._results_table = self._in_results = self._in_filters = False
        self._select: str | None = None
        self._row_link: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attr = {name: value or "" for name, value in attrs}
        if tag == "a" and attr.get("href"):
            self.links.append(attr["href"])
            if "next-page" in attr.get("class", "").split():
                self.next_page = attr["href"]
            if self._in_results and self.first_row is None and self._row_link is None:
                self._row_link = attr["href"]
        elif tag == "tbody" and self._results_table:
            self._in_results = True
        elif tag == "table":
            self._results_table = attr.get("id") == "result_list"
        elif tag == "form":
            self._in_filters = attr.get("id") == "console-filters"
        elif self._in_filters and tag == "select":
            self._select = attr.get("name")
            self.selects[self._select] = []
        elif self._in_filters and tag == "option" and self._select and attr.get("value"):
            self.selects[self._select].append(attr["value"])
        elif self._in_filters and tag == "input" and attr.get("name"):
            self.inputs[attr["name"]] = attr.get("type", "text")

    def handle_data(self, data: str) -> None:
        if self._row_link is not None and self.first_row is None and data.strip():
            self.first_row = (self._row_link, data.strip())

    def handle_endtag(self, tag: str) -> None:
        if tag in ("tbody", "table"):
            self._in_results = self._results_table = False
        elif tag == "form":
            self._in_filters = False
        elif tag == "select":
            self._select = None


@dataclass
class AdminPage:
    label: str
    path: str
    status: int = 0
    calls: Counter[str] = field(default_factory=Counter)  # the AWS calls of one answer
    size: int = 0
    latencies_ms: list[float] = field(default_factory=list)
    aws_ms: list[float] = field(default_factory=list)  # of each sample: time waiting for the emulator
    errors: Counter[str] = field(default_factory=Counter)

    def get(self, browser: Browser, proxy: CountingProxy) -> str | None:
        """One timed GET; the page on 200, else None and an error recorded."""
        proxy.take()
        started = time.perf_counter()
        try:
            status, body = browser.request(self.path)
        except (OSError, http.client.HTTPException) as exc:
            status, body = 0, type(exc).__name__
        self.latencies_ms.append((time.perf_counter() - started) * 1000)
        calls, waited = proxy.take_timed()
        self.aws_ms.append(sum(waited.values()))
        self.status, self.calls, self.size = status, calls, len(body)
        if status != 200:
            self.errors[str(status or body)] += 1
            return None
        return body

    def summary(self) -> dict:
        timed = sorted(self.latencies_ms[1:])  # the first answer only found the page
        return {
            "path": self.path,
            "status": self.status,
            "samples": len(timed),
            **{f"p{p}_ms": round(percentile(timed, p), 1) for p in (50, 95)},
            "max_ms": round(max(timed, default=0.0), 1),
            "aws_p50_ms": round(percentile(sorted(self.aws_ms[1:]), 50), 1),
            "aws_calls": dict(sorted(self.calls.items())),
            "bytes": self.size,
            "errors": dict(self.errors),
        }


class ConsoleCrawl:
    """Every admin page the index leads to, and for lists their next page, first row and filters."""

    def __init__(self, browser: Browser, proxy: CountingProxy, seeding: dict) -> None:
        self.browser, self.proxy, self.seeding = browser, proxy, seeding
        self.pages: dict[str, AdminPage] = {}  # by path

    def visit(self, label: str, path: str) -> PageParser | None:
        if path in self.pages:
            return None
        page = self.pages[path] = AdminPage(label, path)
        body = page.get(self.browser, self.proxy)
        if body is None:
            return None
        parser = PageParser()
        parser.feed(body)
        return parser

    def run(self) -> list[AdminPage]:
        index = self.visit("index", "/admin/")
        if index is None:
            raise BenchError(f"admin: the index answered {self.pages['/admin/'].status}")
        self.visit("dashboard", "/admin/dashboard/")
        for link in dict.fromkeys(index.links):
            if ADMIN_LINK.match(link) and link not in NOT_LISTS:
                label = link.removeprefix("/admin/").rstrip("/")
                if (found := self.visit(label if "/" in label else f"{label} (app)", link)) is not None:
                    self.follow(label, link, found)
        if PAYMENTS_LIST in self.pages:
            self.payments_extras()
        return list(self.pages.values())

    def follow(self, label: str, path: str, page: PageParser) -> None:
        """A list's second page, its first row, each filter's first choice, the last 7 days, a search."""
        if page.next_page:
            self.visit(f"{label} page 2", urllib.parse.urljoin(path, page.next_page))
        if page.first_row:
            self.visit(f"{label} detail", urllib.parse.urljoin(path, page.first_row[0]))
        for name, choices in page.selects.items():
            if choices:
                self.filtered(label, path, {name: choices[0]})
        days = [name for name, kind in page.inputs.items() if kind == "date"]
        if days:
            today = datetime.now(UTC).date()
            self.filtered(label, path, dict(zip(days, [today - timedelta(days=7), today], strict=False)))
        if "q" in page.inputs and page.first_row:
            self.filtered(label, path, {"q": page.first_row[1]})

    def filtered(self, label: str, path: str, query: dict[str, str | date]) -> None:
        shown = " ".join(f"{name}={str(value)[:14]}" for name, value in query.items())
        self.visit(f"{label} ?{shown}", f"{path}?{urllib.parse.urlencode(query)}")

    def payments_extras(self) -> None:
        """Payments, where the data is: the largest partitions, the rarest filter, each kind of search."""
        label, samples = "payments/payment", self.seeding["samples"]
        largest = max(self.seeding["merchants"], key=lambda merchant: merchant["payments"])["id"]
        for query in (
            {"status": "completed"},
            {"status": "failed"},
            {"merchant": largest},
            {"merchant": largest, "status": "completed"},
            {"type": "wire"},
            *({"q": samples[name]} for name in ("idempotency_key", "provider_reference", "customer_id")),
        ):
            self.filtered(label, PAYMENTS_LIST, query)
        for status in ("refunded", "failed", "authorized"):
            if payment_id := samples.get(f"{status}_payment_id"):
                self.visit(f"{label} detail ({status})", f"{PAYMENTS_LIST}{admin_quote(payment_id)}/")


def admin_quote(object_id: str) -> str:
    """``django.contrib.admin.utils.quote``: ``_`` and other specials as ``_XX``."""
    return "".join(f"_{ord(c):02X}" if c in '"/:_#?;@&=+$,[]<>%\n\\' else c for c in object_id)


def seed(stack: BenchStack, payments: int) -> dict:
    """``payflow.devstack.seed`` in a shell of the stack: straight into the emulator, not through the web."""
    code = f"from payflow.devstack.seed import main; main(payments={payments:d})"
    started = time.perf_counter()
    summary = json.loads(stack.manage("shell", "--no-imports", "-c", code).splitlines()[-1])
    return summary | {"wall_s": round(time.perf_counter() - started, 1)}


def admin(stack: BenchStack, payments: int, samples: int) -> dict:
    """Seed ``payments``, log in as the demo operator, then time every page ``samples`` times.

    The pages are found once (that first answer is not counted), then timed
    round-robin, so that a slow moment of the machine does not fall on one
    page only.
    """
    seeding = seed(stack, payments)
    browser = Browser(stack.web_port)
    browser.log_in(stack.credentials["operator_username"], stack.credentials["operator_password"])
    pages = ConsoleCrawl(browser, stack.proxy, seeding).run()
    for _ in range(samples):
        for page in pages:
            if not page.errors:
                page.get(browser, stack.proxy)
    figures = {page.label: page.summary() for page in pages}
    failed = [label for label, page in figures.items() if page["status"] != 200 or page["errors"]]
    slowest = max(figures, key=lambda label: figures[label]["max_ms"])
    seeding.pop("samples")
    return {
        "seeding": seeding,
        "operator": stack.credentials["operator_username"],
        "samples": samples,
        "target": f"every sample of every page under {ADMIN_TARGET_MS:.0f} ms",
        "target_met": not failed and figures[slowest]["max_ms"] < ADMIN_TARGET_MS,
        "slowest": slowest,
        "failed": failed,
        "pages": figures,
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


def admin_table(figures: dict) -> None:
    seeding, over = figures["seeding"], []
    rows = []
    for label, page in figures["pages"].items():
        calls = ", ".join(f"{op.removeprefix('dynamodb.')} {n}" for op, n in page["aws_calls"].items())
        flag = "" if page["max_ms"] < ADMIN_TARGET_MS else "over 1 s"
        if page["status"] != 200 or page["errors"]:
            flag = f"FAILED {page['errors'] or page['status']}"
        over += [label] if flag else []
        rows.append([label, page["p50_ms"], page["p95_ms"], page["max_ms"], page["aws_p50_ms"], calls, flag])
    header = ["", "p50 ms", "p95 ms", "max ms", "in AWS p50 ms", "AWS calls", ""]
    title = f"7. admin pages, {figures['samples']} samples each, logged in as {figures['operator']!r}"
    table(title, header, rows)
    print(
        f"  seeded first: {seeding['payments']} payments of {len(seeding['merchants'])} merchants over "
        f"{seeding['days']:g} days, {seeding['refunds']} refunds, {seeding['customers']} customers, "
        f"{seeding['events']} events, {seeding['deliveries']} webhook deliveries: {seeding['items']} items "
        f"in {seeding['seconds']} s ({seeding['items_per_s']}/s; {seeding['wall_s']} s with Django's start)"
    )
    verdict = "met" if figures["target_met"] else f"MISSED by {', '.join(over)}"
    print(f"  target, {figures['target']}: {verdict}")


def run_phases(args: argparse.Namespace, stack: BenchStack, api_key: str, phases: dict) -> None:
    def client() -> Client:
        return Client(stack.web_port, api_key)

    if "load" in args.phases:
        load_phases(args, stack, client, phases)
    if "webhooks" in args.phases:
        webhook_phase(args, stack, client, phases)
    if "admin" in args.phases:
        figures = phases["admin"] = admin(stack, args.admin_payments, args.admin_samples)
        admin_table(figures)
        if figures["failed"]:
            raise BenchError(f"admin: these pages did not answer 200: {', '.join(figures['failed'])}")


def load_phases(
    args: argparse.Namespace, stack: BenchStack, client: Callable[[], Client], phases: dict
) -> None:
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


def webhook_phase(
    args: argparse.Namespace, stack: BenchStack, client: Callable[[], Client], phases: dict
) -> None:
    hooks = phases["webhooks"] = webhooks(stack, client, args.webhooks)
    rows = [
        ["to a receiver that answers at once", hooks["alone_per_s"]],
        ["the same, beside an endpoint that never answers", hooks["beside_dead_per_s"]],
    ]
    table(f"6. webhooks: {args.webhooks} queued deliveries drained", ["", "deliveries/s"], rows)
    print(f"  ratio {hooks['ratio']}; the dead endpoint was tried {hooks['dead_endpoint_attempts']} times")


def phase_list(value: str) -> list[str]:
    names = [name.strip() for name in value.split(",") if name.strip()]
    if not names or set(names) - PHASE_GROUPS.keys():
        raise argparse.ArgumentTypeError(f"choose from {', '.join(PHASE_GROUPS)}")
    return names


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
    parser.add_argument(
        "--admin-payments", type=int, default=10_000, help="payments seeded before the admin pages are timed"
    )
    parser.add_argument("--admin-samples", type=int, default=5, help="timed answers of each admin page")
    parser.add_argument(
        "--phases",
        type=phase_list,
        default=list(PHASE_GROUPS),
        help="comma-separated, of " + "; ".join(f"{name} ({what})" for name, what in PHASE_GROUPS.items()),
    )
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
