"""The end-to-end tier: a real emulator, real subprocesses, no mocks.

One emulator serves the whole session; every test gets its own PAYFLOW_ENV,
so its tables, queues and bucket are its own.
"""

import json
import os
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import boto3
import pytest

from payflow.devstack.awsproxy import CountingProxy
from payflow.devstack.emulator import Emulator, free_port

REPO = Path(__file__).resolve().parents[2]


def pytest_collection_modifyitems(items):
    for item in items:
        if Path(item.fspath).is_relative_to(Path(__file__).parent):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def emulator(tmp_path_factory):
    emulator = Emulator(port=free_port(), state_dir=tmp_path_factory.mktemp("aws"))
    emulator.start()
    yield emulator
    emulator.stop()


class Stack:
    """Environment, commands and clients for one test's slice of the emulator."""

    def __init__(self, emulator: Emulator, tmp_path: Path) -> None:
        self.emulator = emulator
        self.payflow_env = "e2e" + uuid.uuid4().hex[:8]
        self.prefix = f"payflow-{self.payflow_env}"
        self.env = {
            k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "DJANGO_", "CELERY_", "SQS_"))
        }
        self.env |= {
            "DJANGO_SETTINGS_MODULE": "settings.test",
            "AWS_ENDPOINT_URL": emulator.url,
            "PAYFLOW_ENV": self.payflow_env,
            "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
            # Short enough that redelivery and dead-lettering fit in a test.
            "SQS_VISIBILITY_TIMEOUT": "4",
            "CELERY_TASK_TIME_LIMIT": "3",
            "CELERY_TASK_SOFT_TIME_LIMIT": "2",
            "WEBHOOK_TIMEOUT_SECONDS": "1",
            "WEBHOOK_COUNTDOWN_MAX_SECONDS": "0.5",
            # Web and workers share one cache, as they share Redis in production.
            "PAYFLOW_CACHE_DIR": str(tmp_path / "cache"),
            "PYTHONUNBUFFERED": "1",
        }
        self.processes: list[subprocess.Popen] = []
        self.proxies: list[CountingProxy] = []
        self.migrated = False

    def client(self, service: str):
        return boto3.client(
            service,
            endpoint_url=self.emulator.url,
            region_name="us-east-1",
            aws_access_key_id="test",
            aws_secret_access_key="test",
        )

    def queue_url(self, name: str) -> str:
        return self.client("sqs").get_queue_url(QueueName=f"{self.prefix}-{name}")["QueueUrl"]

    def manage(self, *args: str) -> str:
        result = subprocess.run(
            [sys.executable, "manage.py", *args], cwd=REPO, env=self.env, capture_output=True, text=True
        )
        assert result.returncode == 0, result.stderr
        return result.stdout

    def send_task(self, name: str, *args, queue: str = "payments") -> None:
        """Publish a task as the app would: through Celery's SQS transport."""
        code = (
            "import sys, django; django.setup(); from payflow.celery import app; "
            f"app.send_task({name!r}, args={list(args)!r}, queue={queue!r})"
        )
        result = subprocess.run(
            [sys.executable, "-c", code], cwd=REPO, env=self.env, capture_output=True, text=True
        )
        assert result.returncode == 0, result.stderr

    def start_worker(
        self, *queues: str, pool_args: tuple[str, ...] = ("--concurrency=1",), **env: str
    ) -> "Worker":
        worker = Worker(self, queues or ("payments", "webhooks", "settlement"), env, pool_args)
        self.processes.append(worker.process)
        return worker

    def start_webhook_worker(self, **env: str) -> "Worker":
        """The webhooks queue's worker as `make run` starts it: threads, for many slow receivers."""
        return self.start_worker("webhooks", pool_args=("--pool=threads", "--concurrency=16"), **env)

    def start_beat(self, every: dict[str, int] | None = None) -> "Beat":
        """Celery beat on this stack's schedule; ``every`` sets a task's interval (seconds) first."""
        for task, seconds in (every or {}).items():
            self.manage(
                "shell",
                "-c",
                "from django_celery_beat.models import IntervalSchedule, PeriodicTask; "
                f"interval, _ = IntervalSchedule.objects.get_or_create(every={seconds}, period='seconds'); "
                f"PeriodicTask.objects.filter(task={task!r}).update(interval=interval, expire_seconds=None)",
            )
        beat = Beat(self)
        self.processes.append(beat.process)
        return beat

    def start_web(self, **env: str) -> "Web":
        """gunicorn, its AWS calls counted by a proxy in front of the emulator."""
        web = Web(self, env)
        self.processes.append(web.process)
        self.proxies.append(web.proxy)
        return web

    def create_merchant(self, name: str = "Shopify Inc.") -> dict:
        if not self.migrated:
            self.manage("migrate", "--noinput")
            self.migrated = True
        return json.loads(self.manage("create_merchant", "--name", name, "--json"))

    def stop(self) -> None:
        for proxy in self.proxies:
            proxy.stop()
        for process in self.processes:
            if process.poll() is None:
                process.terminate()
        for process in self.processes:
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


class Output:
    """Collects a subprocess's output lines in the background."""

    def _collect(self) -> None:
        for line in self.process.stdout:
            self.lines.append(line)

    @property
    def text(self) -> str:
        return "".join(self.lines)

    def wait_for(self, text: str, *, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(text in line for line in self.lines):
                return
            assert self.process.poll() is None, self.text
            time.sleep(0.1)
        raise AssertionError(f"never logged {text!r}:\n" + self.text)


class Web(Output):
    def __init__(self, stack: Stack, env: dict) -> None:
        self.lines: list[str] = []
        self.proxy = CountingProxy(stack.emulator.url).start()
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "payflow.wsgi:application",
                f"--bind=127.0.0.1:{self.port}",
                "--worker-class=gthread",
                "--workers=2",
                "--threads=8",
                "--limit-request-line=0",
                "--no-control-socket",
            ],
            cwd=REPO,
            env=stack.env | {"AWS_ENDPOINT_URL": self.proxy.url} | env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        threading.Thread(target=self._collect, daemon=True).start()
        self.wait_for("Booting worker", timeout=30)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if self.request("GET", "/v1/health")[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise AssertionError("web never became healthy:\n" + self.text)

    def request(self, method: str, path: str, body=None, *, key: str | None = None, headers=None, raw=False):
        """(status, headers, parsed JSON body, or the bytes with ``raw``) of one request."""
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.url + path, data=data, method=method)
        request.add_header("Content-Type", "application/json")
        if key:
            request.add_header("Authorization", f"Bearer {key}")
        for name, value in (headers or {}).items():
            request.add_header(name, value)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, response.headers, response.read() if raw else json.load(response)
        except urllib.error.HTTPError as error:
            return error.code, error.headers, json.load(error)


class Worker(Output):
    def __init__(self, stack: Stack, queues, env: dict, pool_args: tuple[str, ...]) -> None:
        self.lines: list[str] = []
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "--app=payflow",
                "worker",
                f"--queues={','.join(queues)}",
                *pool_args,
                "--loglevel=INFO",
                "--include=tests.e2e.worker_tasks",
                f"--hostname={stack.payflow_env}@%h",
            ],
            cwd=REPO,
            env=stack.env | env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        threading.Thread(target=self._collect, daemon=True).start()
        self.wait_for("ready.", timeout=30)


class Beat(Output):
    def __init__(self, stack: Stack) -> None:
        self.lines: list[str] = []
        self.process = subprocess.Popen(
            [sys.executable, "-m", "celery", "--app=payflow", "beat", "--loglevel=INFO"],
            cwd=REPO,
            env=stack.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        threading.Thread(target=self._collect, daemon=True).start()
        self.wait_for("beat: Starting", timeout=30)


@pytest.fixture
def stack(emulator, tmp_path):
    stack = Stack(emulator, tmp_path)
    stack.manage("provision_aws")
    yield stack
    stack.stop()


@pytest.fixture
def stack_tables(stack, settings):
    """This process's PynamoDB models, pointed at the stack's tables."""
    from tests.conftest import point_settings_at_aws

    point_settings_at_aws(settings, endpoint_url=stack.emulator.url, payflow_env=stack.payflow_env)
    return stack
