"""One webhook POST: to an address that was checked, within a hard deadline, never following redirects.

The connection goes to the address ``url_addresses`` allowed (TLS still
verifies the certificate against the host name), so DNS cannot be rebound
between the check and the request. A watchdog closes the socket at the
deadline, so a receiver that trickles bytes cannot hold a worker longer.
"""

import contextlib
import http.client
import socket
import ssl
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

from payflow.errors import ApplicationError

from .urls_check import url_addresses

RESPONSE_BODY_LIMIT = 2048
RETRY_AFTER_STATUSES = frozenset({429, 502, 503, 504})


@dataclass(frozen=True)
class PostResult:
    status_code: int | None
    latency_ms: int
    response_body: str | None
    error: str | None = None
    retry_after: float | None = None  # seconds, when the receiver asked for a pause

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def retry_after_seconds(value: str | None) -> float | None:
    """``Retry-After`` as seconds: delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max(0.0, (moment - datetime.now(UTC)).total_seconds())


def _connect(addresses: list[tuple], deadline: float) -> socket.socket:
    error: OSError | None = None
    for family, address in addresses:
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.settimeout(max(0.01, deadline - time.monotonic()))
        try:
            sock.connect(address)
        except OSError as exc:
            sock.close()
            error = exc
            continue
        return sock
    raise error or OSError("no address to connect to")


def _abort(sock: socket.socket, fired: threading.Event) -> None:
    fired.set()
    # Already closed if the attempt finished just as the deadline came.
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)


def webhook_post(url: str, *, body: bytes, headers: dict[str, str], timeout: float) -> PostResult:
    started = time.monotonic()
    deadline = started + timeout
    elapsed = lambda: int((time.monotonic() - started) * 1000)  # noqa: E731
    try:
        addresses = url_addresses(url)
    except ApplicationError as refused:
        return PostResult(None, elapsed(), None, error=f"url_not_allowed: {refused.message}")

    parts = urlsplit(url)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    fired = threading.Event()
    watchdog = None
    sock = None
    try:
        sock = _connect(addresses, deadline)
        watchdog = threading.Timer(max(0.0, deadline - time.monotonic()), _abort, (sock, fired))
        watchdog.daemon = True
        watchdog.start()
        if parts.scheme == "https":
            sock = ssl.create_default_context().wrap_socket(sock, server_hostname=parts.hostname)
        connection = http.client.HTTPConnection(parts.hostname, timeout=timeout)
        connection.sock = sock
        connection.putrequest("POST", path, skip_host=True, skip_accept_encoding=True)
        connection.putheader("Host", parts.netloc.rpartition("@")[2])
        for name, value in headers.items():
            connection.putheader(name, value)
        connection.putheader("Content-Length", str(len(body)))
        connection.putheader("Connection", "close")
        connection.endheaders(body)
        response = connection.getresponse()
        content = response.read(RESPONSE_BODY_LIMIT)
    except (OSError, http.client.HTTPException) as exc:
        if fired.is_set() or isinstance(exc, TimeoutError):
            error = f"timeout: no complete answer within {timeout:g} s"
        elif isinstance(exc, ConnectionRefusedError):
            error = "connection refused"
        elif isinstance(exc, ssl.SSLError):
            error = f"tls: {exc.reason or exc}"
        elif isinstance(exc, http.client.RemoteDisconnected):
            error = "connection closed without an answer"
        else:
            error = f"{type(exc).__name__}: {exc}"
        return PostResult(None, elapsed(), None, error=error)
    finally:
        if watchdog is not None:
            watchdog.cancel()
        if sock is not None:
            sock.close()
    if fired.is_set():
        return PostResult(None, elapsed(), None, error=f"timeout: no complete answer within {timeout:g} s")
    retry_after = None
    if response.status in RETRY_AFTER_STATUSES:
        retry_after = retry_after_seconds(response.getheader("Retry-After"))
    return PostResult(
        response.status,
        elapsed(),
        content.decode("utf-8", errors="replace"),
        retry_after=retry_after,
    )
