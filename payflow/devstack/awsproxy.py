"""A counting HTTP proxy in front of the AWS emulator.

Tests and the benchmark point a process's AWS endpoint at it to count every
AWS call that process makes, by service and operation — from boto3,
PynamoDB and kombu alike — without touching any of them — and the time the
emulator took to answer them.
"""

import http.client
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "proxy-connection"}


def operation_of(method: str, path: str, headers, body: bytes) -> str:
    """``dynamodb.PutItem``, ``sqs.SendMessage``, ``s3.PUT`` … from a signed AWS request.

    Writes to the metrics table come from each process's background flush,
    never from a request's own path, so they count apart: ``metrics.UpdateItem``.
    """
    target = headers.get("X-Amz-Target", "")
    if target.startswith("DynamoDB_"):
        service = "metrics" if b'-metrics"' in body[:300] else "dynamodb"
        return f"{service}." + target.split(".", 1)[1]
    if target.startswith("AmazonSQS."):
        return "sqs." + target.split(".", 1)[1]
    if body and b"Action=" in body[:200]:
        action = parse_qs(body.decode(errors="replace")).get("Action", ["?"])[0]
        return "sqs." + action
    return f"s3.{method}"


class CountingProxy:
    def __init__(self, upstream: str) -> None:
        parts = urlsplit(upstream)
        self.upstream = (parts.hostname, parts.port)
        self.calls: Counter[str] = Counter()
        self.upstream_ms: Counter[str] = Counter()  # time waiting for the emulator, by operation
        # Operations (by prefix, e.g. "sqs.") answered with 503 instead of forwarded.
        self.failing: set[str] = set()
        # Operations (by prefix) left unanswered until taken out of this set.
        self.holding: set[str] = set()
        self._lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body go out as two writes: without this, Nagle's
            # algorithm and delayed ACKs add ~40 ms to every call.
            disable_nagle_algorithm = True

            def log_message(self, *args):
                pass

            def _forward(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                operation = operation_of(self.command, self.path, self.headers, body)
                with proxy._lock:
                    proxy.calls[operation] += 1
                if any(operation.startswith(prefix) for prefix in proxy.failing):
                    self._refuse()
                    return
                while any(operation.startswith(prefix) for prefix in proxy.holding):
                    time.sleep(0.05)
                headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
                started = time.perf_counter()
                try:
                    response, payload = self._upstream(body, headers)
                except (ConnectionError, http.client.HTTPException):
                    # The emulator closed an idle keep-alive connection: reconnect once.
                    self.server.local.connection = None
                    try:
                        response, payload = self._upstream(body, headers)
                    except OSError:
                        # The emulator is down: hang up, as an unreachable endpoint would.
                        self.server.local.connection = None
                        self.close_connection = True
                        return
                with proxy._lock:
                    proxy.upstream_ms[operation] += (time.perf_counter() - started) * 1000
                self.send_response(response.status, response.reason)
                for key, value in response.getheaders():
                    if key.lower() not in HOP_BY_HOP and key.lower() != "content-length":
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                try:
                    self.wfile.write(payload)
                except OSError:  # the client went away first (a timeout, a worker restarting)
                    self.close_connection = True

            def _upstream(self, body: bytes, headers: dict):
                connection = getattr(self.server.local, "connection", None)
                if connection is None:
                    connection = http.client.HTTPConnection(*proxy.upstream, timeout=60)
                    self.server.local.connection = connection
                connection.request(self.command, self.path, body=body, headers=headers)
                response = connection.getresponse()
                return response, response.read()

            def _refuse(self):
                payload = b'{"__type": "ServiceUnavailable", "message": "injected by the test proxy"}'
                self.send_response(503)
                self.send_header("Content-Type", "application/x-amz-json-1.0")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _forward

        class Server(ThreadingHTTPServer):
            daemon_threads = True
            local = threading.local()

        self.server = Server(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def start(self) -> "CountingProxy":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def take(self) -> Counter[str]:
        """The calls counted since the last take, and start counting afresh."""
        return self.take_timed()[0]

    def take_timed(self) -> tuple[Counter[str], Counter[str]]:
        """The calls and the milliseconds the emulator took for them, by operation, since the last take."""
        with self._lock:
            calls, self.calls = self.calls, Counter()
            waited, self.upstream_ms = self.upstream_ms, Counter()
        return calls, waited
