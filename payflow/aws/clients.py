"""Shared boto3 clients.

Creating a client costs milliseconds and a new one per call cuts throughput
several-fold, so each process keeps one per (service, purpose, settings).
Clients are thread-safe once created; creation itself is not, hence the lock.
"""

import threading

import boto3
from botocore.client import BaseClient
from botocore.config import Config
from django.conf import settings

_lock = threading.Lock()
_session: boto3.session.Session | None = None
_clients: dict[tuple, BaseClient] = {}


def _config(purpose: str) -> Config:
    if purpose == "probe":
        # Health probes must answer quickly even when a dependency hangs.
        timeout = settings.HEALTH_CHECK_TIMEOUT_SECONDS
        return Config(connect_timeout=timeout, read_timeout=timeout, retries={"max_attempts": 1})
    timeout = settings.AWS_CALL_TIMEOUT_SECONDS
    return Config(
        connect_timeout=timeout,
        read_timeout=timeout,
        retries={"mode": "standard", "max_attempts": 3},
        max_pool_connections=50,
    )


def aws_client(service: str, *, purpose: str = "default") -> BaseClient:
    global _session
    key = (
        service,
        purpose,
        settings.AWS_ENDPOINT_URL,
        settings.AWS_REGION,
        settings.AWS_ACCESS_KEY_ID,
    )
    client = _clients.get(key)
    if client is not None:
        return client
    with _lock:
        if key not in _clients:
            if _session is None:
                _session = boto3.session.Session()
            _clients[key] = _session.client(
                service,
                endpoint_url=settings.AWS_ENDPOINT_URL,
                region_name=settings.AWS_REGION,
                aws_access_key_id=settings.AWS_ACCESS_KEY_ID,
                aws_secret_access_key=settings.AWS_SECRET_ACCESS_KEY,
                config=_config(purpose),
            )
        return _clients[key]
