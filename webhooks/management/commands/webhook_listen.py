"""``manage.py webhook_listen``: receive the local platform's webhooks, like ``stripe listen``."""

import contextlib
import json
import signal
import threading
from collections.abc import Mapping
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

from django.core.management.base import BaseCommand, CommandError, OutputWrapper

from payflow.events.services import EVENT_TYPES
from payflow.merchants.models import Merchant
from payflow.merchants.services import DEMO_MERCHANT_NAME
from webhooks.selectors import endpoint_list
from webhooks.services import endpoint_create, endpoint_delete
from webhooks.tables import WebhookEndpoint

PATH = "/webhooks"
MAX_BODY_BYTES = 1024 * 1024
DESCRIPTION_PREFIX = "webhook_listen"


class WebhookListener:
    """Serves ``PATH``: verifies each webhook's signature, prints it and answers ``status``."""

    def __init__(
        self,
        *,
        secret: str,
        host: str,
        port: int,
        status: int,
        print_json: bool,
        stdout: OutputWrapper,
        stderr: OutputWrapper,
    ):
        try:
            from standardwebhooks import Webhook
            from standardwebhooks.webhooks import WebhookVerificationError
        except ImportError:
            raise CommandError(
                "webhook_listen needs the standardwebhooks package: pip install -r requirements/dev.txt"
            ) from None
        self._webhook = Webhook(secret)
        self._verification_error = WebhookVerificationError
        self._status = status
        self._print_json = print_json
        self._stdout = stdout
        self._stderr = stderr
        self._server = _Server((host, port), self)
        self._thread = threading.Thread(target=self._server.serve_forever, name="webhook_listen", daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}{PATH}"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def receive(self, body: bytes, headers: Mapping[str, str]) -> tuple[int, str]:
        """The status and text to answer a POST with; prints what arrived."""
        received = f"{datetime.now():%Y-%m-%d %H:%M:%S}  "
        webhook_id = f"(webhook-id {headers.get('webhook-id') or '-'})"
        failure = self._verification_failure(body, headers)
        if failure is not None:
            reason = f"signature did not verify: {failure}"
            _write(self._stderr, f"{received}{reason}  {webhook_id}")
            return 400, reason
        try:
            event = json.loads(body)
        except ValueError:
            event = None
        line = f"{received}{_summary(event)}  verified  {webhook_id}"
        if self._print_json:
            line += "\n" + (body.decode() if event is None else json.dumps(event, indent=2))
        _write(self._stdout, line)
        return self._status, "verified"

    def _verification_failure(self, body: bytes, headers: Mapping[str, str]) -> str | None:
        try:
            self._webhook.verify(body, headers, json_parse=False)
        except self._verification_error as error:
            return str(error)
        except ValueError:
            return "a malformed webhook-signature header, or a body that is not UTF-8"
        return None


def _summary(event) -> str:
    if not isinstance(event, dict):
        return "(not a JSON object)"
    parts = [str(event.get("type", "?")), str(event.get("id", "?"))]
    data = event.get("data")
    obj = data.get("object") if isinstance(data, dict) else None
    if isinstance(obj, dict):
        parts += [str(obj[field]) for field in ("id", "status") if field in obj]
    return "  ".join(parts)


def _write(stream: OutputWrapper, text: str) -> None:
    stream.write(text)
    # At once, also when piped (`| grep payment`).
    stream.flush()


class _Server(ThreadingHTTPServer):
    def __init__(self, address: tuple[str, int], listener: WebhookListener):
        self.listener = listener
        super().__init__(address, _Handler)


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_POST(self) -> None:
        if urlsplit(self.path).path != PATH:
            self._answer(404, "not found")
            return
        try:
            length = int(self.headers["Content-Length"])
        except (TypeError, ValueError):
            self._answer(411, "a Content-Length is required")
            return
        if not 0 <= length <= MAX_BODY_BYTES:
            self._answer(413, f"bodies are at most {MAX_BODY_BYTES} bytes")
            return
        body = self.rfile.read(length)
        self._answer(*self.server.listener.receive(body, {k.lower(): v for k, v in self.headers.items()}))

    def do_GET(self) -> None:
        self._answer(404, "not found")

    do_HEAD = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_GET

    def _answer(self, status: int, text: str) -> None:
        body = (text + "\n").encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def log_request(self, code="-", size="-") -> None:
        """Silent: the listener prints each webhook itself."""


class Command(BaseCommand):
    help = (
        "Register a webhook endpoint of a merchant (default: the demo merchant) that points here, "
        "print each webhook it receives with its signature verified, and delete the endpoint on exit."
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._stop_requested = threading.Event()

    def add_arguments(self, parser):
        parser.add_argument("--merchant", help="The merchant's id (default: the demo merchant).")
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=9000)
        parser.add_argument("--events", default="*", help="Comma-separated event types (default: all).")
        parser.add_argument(
            "--status", type=int, default=200, help="The HTTP status to answer verified events with."
        )
        parser.add_argument("--print-json", action="store_true", help="Print each event's JSON body too.")

    def handle(
        self,
        *args,
        merchant: str | None,
        host: str,
        port: int,
        events: str,
        status: int,
        print_json: bool,
        **options,
    ):
        enabled_events = _events(events)
        if not 200 <= status <= 599:
            raise CommandError("--status must be an HTTP status from 200 to 599.")
        merchant_id = _merchant_id(merchant)
        url = f"http://{host}:{port}{PATH}"
        for stale in _stale_endpoints(merchant_id=merchant_id, url=url):
            endpoint_delete(endpoint=stale)
            self.stdout.write(f"Deleted {stale.id}, left at {url} by an earlier run.")
        endpoint = endpoint_create(
            merchant_id=merchant_id,
            url=url,
            enabled_events=enabled_events,
            description=f"{DESCRIPTION_PREFIX} on {url}",
        )
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, _interrupt)
        try:
            try:
                listener = WebhookListener(
                    secret=endpoint.secret,
                    host=host,
                    port=port,
                    status=status,
                    print_json=print_json,
                    stdout=self.stdout,
                    stderr=self.stderr,
                )
            except OSError as error:
                raise CommandError(f"Cannot listen on {host}:{port}: {error}") from None
            listener.start()
            _write(
                self.stdout,
                f"Webhook endpoint {endpoint.id} of merchant {merchant_id}\n"
                f"URL:            {url}\n"
                f"Signing secret: {endpoint.secret}\n"
                f"Answering verified events with HTTP {status}.\n"
                "Ready. Ctrl-C to stop.",
            )
            with contextlib.suppress(KeyboardInterrupt):
                self._stop_requested.wait()
            listener.stop()
        finally:
            endpoint_delete(endpoint=endpoint)
            self.stdout.write(f"Deleted webhook endpoint {endpoint.id}.")

    def stop(self) -> None:
        """Stop a run from another thread (Ctrl-C and SIGTERM stop one in the main thread)."""
        self._stop_requested.set()


def _interrupt(signum, frame):
    # Unwinds the wait as Ctrl-C does; setting the Event from a handler could deadlock on its lock.
    raise KeyboardInterrupt


def _events(events: str) -> list[str]:
    enabled = [event.strip() for event in events.split(",") if event.strip()]
    unknown = sorted(set(enabled) - {"*", *EVENT_TYPES})
    if not enabled or unknown:
        raise CommandError(
            "--events takes a comma-separated list of event types, or *. "
            f"Unknown: {', '.join(unknown) or '(none given)'}."
        )
    return enabled


def _merchant_id(merchant: str | None) -> str:
    if merchant is not None:
        if not Merchant.objects.filter(id=merchant).exists():
            raise CommandError(f"No merchant {merchant}.")
        return merchant
    demo = Merchant.objects.filter(name=DEMO_MERCHANT_NAME).first()
    if demo is None:
        raise CommandError(
            f"No merchant named {DEMO_MERCHANT_NAME!r}: run `make run` first, or pass --merchant."
        )
    return demo.id


def _stale_endpoints(*, merchant_id: str, url: str) -> list[WebhookEndpoint]:
    """Endpoints to ``url`` that an earlier run registered and could not delete (it was killed)."""
    stale, cursor = [], None
    while True:
        page = endpoint_list(merchant_id=merchant_id, limit=100, starting_after=cursor)
        stale += [
            e for e in page.items if e.url == url and (e.description or "").startswith(DESCRIPTION_PREFIX)
        ]
        if not page.has_more:
            return stale
        cursor = page.next_cursor
