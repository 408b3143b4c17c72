"""The end-to-end tier: a real emulator, real subprocesses, no mocks.

One emulator serves the whole session; every test gets its own PAYFLOW_ENV,
so its tables, queues and bucket are its own.
"""

import os
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import boto3
import pytest

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
            "PYTHONUNBUFFERED": "1",
        }
        self.processes: list[subprocess.Popen] = []

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

    def start_worker(self, *queues: str) -> "Worker":
        worker = Worker(self, queues or ("payments", "webhooks", "settlement"))
        self.processes.append(worker.process)
        return worker

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.terminate()
        for process in self.processes:
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


class Worker:
    def __init__(self, stack: Stack, queues) -> None:
        self.lines: list[str] = []
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "--app=payflow",
                "worker",
                f"--queues={','.join(queues)}",
                "--concurrency=1",
                "--loglevel=INFO",
                "--include=tests.e2e.worker_tasks",
                f"--hostname={stack.payflow_env}@%h",
            ],
            cwd=REPO,
            env=stack.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        threading.Thread(target=self._collect, daemon=True).start()
        self.wait_for("ready.", timeout=30)

    def _collect(self) -> None:
        for line in self.process.stdout:
            self.lines.append(line)

    def wait_for(self, text: str, *, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(text in line for line in self.lines):
                return
            assert self.process.poll() is None, "".join(self.lines)
            time.sleep(0.1)
        raise AssertionError(f"worker never logged {text!r}:\n" + "".join(self.lines))


@pytest.fixture
def stack(emulator, tmp_path):
    stack = Stack(emulator, tmp_path)
    stack.manage("provision_aws")
    yield stack
    stack.stop()
