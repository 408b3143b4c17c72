"""`make run` as a new user meets it: start, use, stop, start again."""

import http.cookiejar
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import boto3
import pytest

from payflow.devstack.emulator import free_port, port_is_free

REPO = Path(__file__).resolve().parents[2]


class RunningStack:
    def __init__(self, state_dir: Path, port: int, aws_port: int) -> None:
        self.port, self.aws_port = port, aws_port
        self.lines: list[str] = []
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("AWS_", "DJANGO_", "DATABASE_", "PAYFLOW_"))
        }
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "payflow.devstack",
                f"--state-dir={state_dir}",
                f"--port={port}",
                f"--aws-port={aws_port}",
                "--concurrency=1",
            ],
            cwd=REPO,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        threading.Thread(target=lambda: self.lines.extend(self.process.stdout), daemon=True).start()

    @property
    def output(self) -> str:
        return "".join(self.lines)

    def wait_running(self, timeout: float = 120) -> dict:
        deadline = time.monotonic() + timeout
        while "PayFlow is running." not in self.output:
            assert self.process.poll() is None, self.output
            assert time.monotonic() < deadline, self.output
            time.sleep(0.2)
        time.sleep(0.2)
        banner = self.output[self.output.index("PayFlow is running.") :]
        return {
            "user": re.search(r"user (\S+)", banner).group(1),
            "password": re.search(r"password (\S+)", banner).group(1),
            "api_key": re.search(r"API key (sk_test_\S+)", banner).group(1),
            "merchant_id": re.search(r"\((mch_\w+)\)", banner).group(1),
            "emulator_pid": int(re.search(r"emulator pid (\d+)", banner).group(1)),
        }

    def get(self, path: str, **kwargs):
        try:
            return urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=10, **kwargs)
        except urllib.error.HTTPError as error:
            return error

    def interrupt(self, timeout: float = 60) -> int:
        self.process.send_signal(signal.SIGINT)
        return self.process.wait(timeout)

    def kill(self) -> None:
        """Stop it as a user would (Ctrl-C stops its children too); SIGKILL only if that hangs."""
        if self.process.poll() is None:
            try:
                self.interrupt(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def admin_login(port: int, user: str, password: str) -> str:
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    base = f"http://127.0.0.1:{port}"
    opener.open(f"{base}/admin/login/", timeout=10).read()
    token = next(cookie.value for cookie in jar if cookie.name == "csrftoken")
    form = urllib.parse.urlencode(
        {"username": user, "password": password, "csrfmiddlewaretoken": token, "next": "/admin/"}
    ).encode()
    request = urllib.request.Request(
        f"{base}/admin/login/?next=/admin/", data=form, headers={"Referer": base}
    )
    return opener.open(request, timeout=10).read().decode()


def take_seed_payment(port: int, api_key: str, timeout: float = 30) -> dict:
    """The seed request against the running stack, followed until its final status."""
    base = f"http://127.0.0.1:{port}/v1/payments"
    headers = {"Authorization": f"Bearer {api_key}", "Content-Type": "application/json"}
    seed = {"merchant": "Shopify Inc.", "amount": 250.00, "currency": "CAD", "type": "eft"}
    request = urllib.request.Request(base, data=json.dumps(seed).encode(), headers=headers)
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 201
        payment = json.load(response)
    deadline = time.monotonic() + timeout
    while payment["status"] in ("pending", "processing") and time.monotonic() < deadline:
        time.sleep(0.2)
        request = urllib.request.Request(f"{base}/{payment['id']}", headers=headers)
        with urllib.request.urlopen(request, timeout=10) as response:
            payment = json.load(response)
    return payment


@pytest.fixture
def stacks(tmp_path):
    started: list[RunningStack] = []

    def start() -> RunningStack:
        stack = RunningStack(tmp_path / "state", port, aws_port)
        started.append(stack)
        return stack

    port, aws_port = free_port(), free_port()
    yield start
    for stack in started:
        stack.kill()


def test_make_run_starts_everything_stops_cleanly_and_keeps_data(stacks):
    first = stacks()
    credentials = first.wait_running()

    health = first.get("/v1/health")
    assert health.status == 200
    assert json.load(health) == {"status": "ok", "checks": {"dynamodb": "ok", "sqs": "ok", "s3": "ok"}}
    docs = first.get("/v1/docs").read().decode()
    assert "swagger-ui" in docs and "cdn" not in docs.lower()
    assert first.get("/v1/schema").status == 200
    assert 'id="logout-form"' in admin_login(first.port, credentials["user"], credentials["password"])
    payment = take_seed_payment(first.port, credentials["api_key"])
    assert payment["status"] in ("completed", "failed")  # the local sandbox declines ~15 %
    for process in ("web", "worker", "beat"):
        assert re.search(rf"^\s*{process} \| ", first.output, re.MULTILINE), first.output

    s3 = boto3.client(
        "s3",
        endpoint_url=f"http://127.0.0.1:{first.aws_port}",
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )
    s3.put_object(Bucket="payflow-dev-files", Key="kept.txt", Body=b"kept across restarts")

    second = stacks()
    assert second.process.wait(30) == 1
    assert "already running" in second.output

    assert first.interrupt() == 0
    assert port_is_free(first.port) and port_is_free(first.aws_port), "a process was left listening"
    assert "stopping the AWS emulator" in first.output

    again = stacks()
    assert again.wait_running() | {"emulator_pid": None} == credentials | {"emulator_pid": None}
    body = s3.get_object(Bucket="payflow-dev-files", Key="kept.txt")["Body"].read()
    assert body == b"kept across restarts"

    # The emulator goes away under a running web server: health says which, fast.
    os.kill(again.wait_running()["emulator_pid"], signal.SIGTERM)
    time.sleep(1)
    started = time.monotonic()
    health = again.get("/v1/health")
    assert time.monotonic() - started < 2
    assert health.status == 503
    body = json.load(health)
    assert body["checks"] == {"dynamodb": "unavailable", "sqs": "unavailable", "s3": "unavailable"}
    assert body["error"]["code"] == "service_unavailable"
    assert health.headers["Content-Type"] == "application/json"
    assert again.interrupt() == 0


def api_call(port: int, api_key: str, method: str, path: str, body=None) -> dict:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}",
        data=json.dumps(body).encode() if body is not None else None,
        method=method,
        headers={"Authorization": f"Bearer {api_key}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=20) as response:
        return json.load(response)


def test_make_run_delivers_signed_webhooks_to_webhook_listen_and_through_a_rotation(stacks, tmp_path):
    from standardwebhooks import Webhook

    from tests.webhooks.receiver import receiving

    stack = stacks()
    credentials = stack.wait_running()
    key, port = credentials["api_key"], stack.port
    state = tmp_path / "state"
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "DJANGO_", "DATABASE_", "PAYFLOW_"))
    }
    env |= {
        "AWS_ENDPOINT_URL": f"http://127.0.0.1:{stack.aws_port}",
        "DATABASE_URL": f"sqlite:///{state / 'payflow.sqlite3'}",
        "PAYFLOW_CACHE_DIR": str(state / "cache"),
    }
    listen_port = free_port()
    listen = subprocess.Popen(
        [sys.executable, "manage.py", "webhook_listen", f"--port={listen_port}"],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    listened: list[str] = []
    threading.Thread(target=lambda: listened.extend(listen.stdout), daemon=True).start()

    def wait_listened(*texts: str, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while not any(all(text in line for text in texts) for line in listened):
            assert listen.poll() is None and time.monotonic() < deadline, "".join(listened)
            time.sleep(0.1)

    try:
        wait_listened("Ready.")
        with receiving() as receiver:
            endpoint = api_call(
                port,
                key,
                "POST",
                "/v1/webhook_endpoints",
                {"url": receiver.url, "enabled_events": ["payment.created", "payment.completed"]},
            )
            card = {"number": "4242424242424242", "exp_month": 12, "exp_year": 2034, "cvc": "123"}
            payment = {"amount": "25.00", "currency": "USD", "type": "card", "card": card}
            first = api_call(port, key, "POST", "/v1/payments", payment)
            wait_listened("payment.completed", first["id"], "verified", timeout=60)
            wait_listened("payment.created", first["id"], "verified")
            assert all("verified" in line for line in listened if first["id"] in line)

            received = receiver.wait_for(2, timeout=30)
            assert sorted(r.event["type"] for r in received) == ["payment.completed", "payment.created"]
            for request in received:
                Webhook(endpoint["secret"]).verify(request.body, request.headers)

            rotated = api_call(port, key, "POST", f"/v1/webhook_endpoints/{endpoint['id']}/rotate_secret")
            api_call(port, key, "POST", "/v1/payments", payment)
            received = receiver.wait_for(4, timeout=60)
            for request in received[2:]:
                assert len(request.headers["webhook-signature"].split(" ")) == 2
                for secret in (endpoint["secret"], rotated["secret"]):
                    Webhook(secret).verify(request.body, request.headers)
    finally:
        listen.send_signal(signal.SIGINT)
        listen.wait(30)
    wait_listened("Deleted webhook endpoint")
    assert stack.interrupt() == 0
