"""``make run``: the emulator, migrations, provisioning, the demo merchant, then
web + worker + beat in the foreground with prefixed, interleaved logs.

Ctrl-C (SIGINT) or SIGTERM stops every process it started, the emulator last
and with SIGTERM so that it saves its state for the next run. A lock file
keeps a second ``make run`` from starting on the same state.
"""

import argparse
import fcntl
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

from .emulator import REPO, Emulator, EmulatorError, port_is_free

VENV_BIN = REPO / ".venv" / "bin"
STOP_TIMEOUT = 30.0


class StackError(RuntimeError):
    pass


class Stack:
    def __init__(self, *, state_dir: Path, host: str, port: int, aws_port: int, concurrency: int) -> None:
        self.state_dir = state_dir
        self.host = host
        self.port = port
        self.concurrency = concurrency
        self.emulator = Emulator(port=aws_port, state_dir=state_dir / "aws")
        self.stopping = threading.Event()
        self.children: list[tuple[str, subprocess.Popen]] = []
        self._print_lock = threading.Lock()
        self.env = os.environ | {
            "DJANGO_SETTINGS_MODULE": "settings.local",
            "AWS_ENDPOINT_URL": self.emulator.url,
            "DATABASE_URL": f"sqlite:///{state_dir / 'payflow.sqlite3'}",
            "PAYFLOW_CACHE_DIR": str(state_dir / "cache"),
            "PYTHONUNBUFFERED": "1",
            # Every web and worker process writes its Prometheus counts here; /metrics adds them up.
            "PROMETHEUS_MULTIPROC_DIR": str(state_dir / "prometheus"),
        }

    # --- output -------------------------------------------------------------
    def say(self, name: str, line: str) -> None:
        with self._print_lock:
            print(f"{name:>6} | {line}", flush=True)

    def _pump(self, name: str, stream) -> None:
        for line in stream:
            self.say(name, line.rstrip("\n"))

    # --- processes ----------------------------------------------------------
    def spawn(self, name: str, argv: list[str]) -> subprocess.Popen:
        process = subprocess.Popen(
            argv,
            cwd=REPO,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            bufsize=1,
            # Their own session: the terminal's Ctrl-C reaches only this
            # supervisor, which then stops everything in order.
            start_new_session=True,
        )
        threading.Thread(target=self._pump, args=(name, process.stdout), daemon=True).start()
        self.children.append((name, process))
        return process

    def step(self, name: str, *args: str) -> str:
        """Run a manage.py command to completion; its output is shown and returned."""
        if self.stopping.is_set():
            raise StackError("stopped during start-up")
        result = subprocess.run(
            [str(VENV_BIN / "python"), "manage.py", *args],
            cwd=REPO,
            env=self.env,
            capture_output=True,
            text=True,
            start_new_session=True,
        )
        # The demo step prints secrets as JSON; the banner shows them instead.
        shown = result.stderr if name == "demo" else result.stdout + result.stderr
        for line in shown.splitlines():
            self.say(name, line)
        if result.returncode != 0:
            raise StackError(f"`manage.py {' '.join(args)}` failed with status {result.returncode}")
        return result.stdout

    def start(self) -> dict:
        if not port_is_free(self.port, self.host):
            raise StackError(f"Port {self.port} is in use; set PORT to run the web server elsewhere.")
        self.say(
            "aws", f"starting the AWS emulator on {self.emulator.url} (state in {self.emulator.state_dir})"
        )
        log = (self.state_dir / "aws.log").open("ab")
        self.emulator.start(stdout=log)
        # Counts of an earlier run's processes are not this run's.
        shutil.rmtree(self.state_dir / "prometheus", ignore_errors=True)
        (self.state_dir / "prometheus").mkdir(parents=True)
        self.step("setup", "migrate", "--noinput")
        self.step("setup", "provision_aws")
        credentials_file = self.state_dir / "demo-credentials.json"
        demo = self.step("demo", "ensure_demo", "--credentials-file", str(credentials_file))
        credentials = json.loads(demo.splitlines()[-1])
        if self.stopping.is_set():
            raise StackError("stopped during start-up")
        self.spawn(
            "web",
            [
                str(VENV_BIN / "gunicorn"),
                "payflow.wsgi:application",
                f"--bind={self.host}:{self.port}",
                # gthread: an idle keep-alive connection does not pin a worker.
                "--worker-class=gthread",
                f"--workers={self.concurrency}",
                "--threads=4",
                # No 4094-byte line limit (gunicorn still stops at 1 MB): the app answers a
                # URL over 8 KiB with its own JSON 414.
                "--limit-request-line=0",
                "--graceful-timeout=10",
                "--no-control-socket",
                # No gunicorn access log: the app logs each request as JSON, with its request id.
            ],
        )
        self.spawn(
            "worker",
            [
                str(VENV_BIN / "celery"),
                "--app=payflow",
                "worker",
                "--queues=payments,settlement",
                f"--concurrency={self.concurrency}",
                "--hostname=worker@%h",
                "--loglevel=INFO",
            ],
        )
        # Webhook deliveries wait on other people's servers: threads, not processes.
        self.spawn(
            "hooks",
            [
                str(VENV_BIN / "celery"),
                "--app=payflow",
                "worker",
                "--queues=webhooks",
                "--pool=threads",
                "--concurrency=16",
                "--hostname=webhooks@%h",
                "--loglevel=INFO",
            ],
        )
        self.spawn("beat", [str(VENV_BIN / "celery"), "--app=payflow", "beat", "--loglevel=INFO"])
        self.wait_healthy()
        return credentials

    def wait_healthy(self, timeout: float = 60.0) -> None:
        url = f"http://{self.host}:{self.port}/v1/health"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not self.stopping.is_set():
            self.check_children()
            try:
                with urllib.request.urlopen(url, timeout=3) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.3)
        if not self.stopping.is_set():
            raise StackError(f"{url} did not answer 200 within {timeout:.0f} s")

    def check_children(self) -> None:
        for name, process in self.children:
            if process.poll() is not None:
                raise StackError(f"{name} exited with status {process.returncode}")

    def stop(self) -> None:
        for name, process in self.children:
            if process.poll() is None:
                self.say(name, "stopping")
                process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT
        for name, process in self.children:
            try:
                process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                self.say(name, "did not stop in time; killing it")
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        self.say("aws", "stopping the AWS emulator (saving its state)")
        self.emulator.stop()


def banner(stack: Stack, credentials: dict) -> str:
    base = f"http://{stack.host}:{stack.port}"
    return f"""
  PayFlow is running.

    Health       {base}/v1/health
    API docs     {base}/v1/docs   (Redoc: {base}/v1/redoc)
    Admin        {base}/admin/
                 user {credentials["operator_username"]}   password {credentials["operator_password"]}
    Merchant     {credentials["merchant_name"]} ({credentials["merchant_id"]}), 10,000.00 USD to pay out
                 API key {credentials["api_key"]}
    AWS          {stack.emulator.url} (emulator pid {stack.emulator.process.pid})
                 state in {stack.emulator.state_dir}

    Try it:
      curl -s {base}/v1/payments -H "Authorization: Bearer {credentials["api_key"]}" \\
        -H "Content-Type: application/json" -d '{{"merchant": "Shopify Inc.", "amount": 250.00,
        "currency": "CAD", "type": "eft", "idempotency_key": "unique-key-001"}}'

    Webhooks: `.venv/bin/python manage.py webhook_listen` in another terminal registers
    http://127.0.0.1:9000/webhooks for the demo merchant and prints each event, verified.

    In another terminal, `.venv/bin/python manage.py <command>` talks to this stack.
    Stop everything with Ctrl-C; the next `make run` keeps all data.
"""


def acquire_lock(state_dir: Path):
    state_dir.mkdir(parents=True, exist_ok=True)
    lock = (state_dir / "run.lock").open("a+")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        lock.seek(0)
        holder = lock.read().strip() or "unknown"
        raise StackError(
            f"PayFlow is already running from {state_dir} (pid {holder}). "
            "Stop it (Ctrl-C in its terminal) before starting another."
        ) from None
    lock.seek(0)
    lock.truncate()
    lock.write(str(os.getpid()))
    lock.flush()
    return lock


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make run", description=__doc__)
    parser.add_argument("--state-dir", type=Path, default=REPO / ".state")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    parser.add_argument("--aws-port", type=int, default=int(os.environ.get("AWS_PORT", "4566")))
    parser.add_argument("--concurrency", type=int, default=2)
    args = parser.parse_args(argv)
    state_dir = args.state_dir.resolve()

    try:
        lock = acquire_lock(state_dir)
    except StackError as exc:
        print(f"make run: {exc}", file=sys.stderr)
        return 1

    stack = Stack(
        state_dir=state_dir,
        host=args.host,
        port=args.port,
        aws_port=args.aws_port,
        concurrency=args.concurrency,
    )

    def request_stop(signum, frame):
        if not stack.stopping.is_set():
            stack.say("run", f"{signal.Signals(signum).name} received, stopping")
        stack.stopping.set()

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)

    status = 0
    try:
        credentials = stack.start()
        if not stack.stopping.is_set():
            with stack._print_lock:
                print(banner(stack, credentials), flush=True)
        while not stack.stopping.wait(0.5):
            stack.check_children()
    except (StackError, EmulatorError) as exc:
        if not stack.stopping.is_set():
            stack.say("run", f"error: {exc}")
            status = 1
    finally:
        stack.stop()
        lock.close()
    stack.say("run", "stopped")
    return status


if __name__ == "__main__":
    sys.exit(main())
