"""Tasks that only the end-to-end tests' workers load (``--include``)."""

import os
import signal

from celery import shared_task
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage


@shared_task(name="tests.e2e.store_task")
def store_task(key: str, body: str) -> None:
    default_storage.save(key, ContentFile(body.encode()))


@shared_task(name="tests.e2e.always_fails_task")
def always_fails_task(marker: str) -> None:
    raise RuntimeError(f"{marker} fails every time")


@shared_task(name="tests.e2e.crash_worker_task")
def crash_worker_task(marker: str) -> None:
    """Dies the hard way, as a segfault or the OOM killer would end a worker process."""
    os.kill(os.getpid(), signal.SIGKILL)
