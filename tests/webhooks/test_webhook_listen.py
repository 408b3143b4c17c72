import http.client
import io
import json
import socket
import threading
import time
import urllib.error
import urllib.request
from urllib.parse import urlsplit

import pytest
from django.core.management import CommandError, call_command
from django.core.management.base import OutputWrapper
from django.db import connections

from webhooks.management.commands import webhook_listen
from webhooks.management.commands.webhook_listen import WebhookListener
from webhooks.selectors import endpoint_list
from webhooks.services import endpoint_create
from webhooks.signing import secret_new, signature_header
from webhooks.tables import WebhookEndpoint

pytestmark = pytest.mark.django_db

EVENT = {
    "id": "evt_1",
    "object": "event",
    "type": "payment.completed",
    "data": {"object": {"id": "pay_1", "object": "payment", "status": "succeeded"}},
}


def signed_post(url: str, *, secret: str, event: dict = EVENT, body: str | None = None) -> tuple[int, str]:
    """POST ``event`` signed with ``secret``; ``body``, if given, is sent instead of what was signed."""
    signed = json.dumps(event)
    timestamp = int(time.time())
    headers = {
        "Content-Type": "application/json",
        "webhook-id": event["id"],
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature_header(
            secrets_=[secret], message_id=event["id"], timestamp=timestamp, body=signed
        ),
    }
    request = urllib.request.Request(url, data=(body or signed).encode(), headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


class Listening:
    def __init__(self, secret: str, *, status: int = 200, print_json: bool = False):
        self.stdout, self.stderr = io.StringIO(), io.StringIO()
        self.listener = WebhookListener(
            secret=secret,
            host="127.0.0.1",
            port=0,
            status=status,
            print_json=print_json,
            stdout=OutputWrapper(self.stdout),
            stderr=OutputWrapper(self.stderr),
        )


@pytest.fixture
def listen():
    """Starts listeners on free loopback ports and stops them after the test."""
    started = []

    def start(secret: str, **options) -> Listening:
        listening = Listening(secret, **options)
        listening.listener.start()
        started.append(listening.listener)
        return listening

    yield start
    for listener in started:
        listener.stop()


def test_a_signed_event_is_answered_200_and_printed_as_verified(listen):
    secret = secret_new()
    listening = listen(secret, print_json=True)

    assert signed_post(listening.listener.url, secret=secret) == (200, "verified\n")

    first_line, *json_lines = listening.stdout.getvalue().splitlines()
    assert "payment.completed  evt_1  pay_1  succeeded  verified  (webhook-id evt_1)" in first_line
    assert json.loads("\n".join(json_lines)) == EVENT
    assert listening.stderr.getvalue() == ""


@pytest.mark.parametrize(
    ("signing_secret", "body"),
    [(None, json.dumps({**EVENT, "type": "payment.refunded"})), (secret_new(), None)],
    ids=["tampered body", "wrong secret"],
)
def test_an_event_that_does_not_verify_is_answered_400_and_reported(listen, signing_secret, body):
    secret = secret_new()
    listening = listen(secret)

    status, text = signed_post(listening.listener.url, secret=signing_secret or secret, body=body)

    assert status == 400 and "did not verify" in text
    assert "signature did not verify: No matching signature found  (webhook-id evt_1)" in (
        listening.stderr.getvalue()
    )
    assert listening.stdout.getvalue() == ""


def test_it_answers_verified_events_with_the_status_asked_for(listen):
    secret = secret_new()
    listening = listen(secret, status=500)

    assert signed_post(listening.listener.url, secret=secret)[0] == 500
    assert "evt_1" in listening.stdout.getvalue()


def test_it_takes_only_bounded_posts_to_its_path(listen):
    listening = listen(secret_new())
    url = listening.listener.url

    with pytest.raises(urllib.error.HTTPError) as got:
        urllib.request.urlopen(url, timeout=5)
    assert got.value.code == 404
    assert signed_post(url.replace("/webhooks", "/other"), secret=secret_new())[0] == 404

    connection = http.client.HTTPConnection(urlsplit(url).netloc, timeout=5)
    connection.putrequest("POST", "/webhooks")
    connection.putheader("Content-Length", str(2 * 1024 * 1024))
    connection.endheaders()
    assert connection.getresponse().status == 413
    connection.close()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class CommandRun:
    """``webhook_listen`` running in a thread, stopped as Ctrl-C would stop it."""

    def __init__(self, *args: str):
        self.command = webhook_listen.Command()
        self.stdout = io.StringIO()
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, args=args)
        self.thread.start()

    def _run(self, *args: str) -> None:
        try:
            call_command(self.command, *args, stdout=self.stdout, stderr=io.StringIO())
        except BaseException as error:
            self.error = error
        finally:
            connections.close_all()

    def wait_ready(self) -> None:
        deadline = time.monotonic() + 10
        while "Ready." not in self.stdout.getvalue():
            assert self.thread.is_alive() and time.monotonic() < deadline, (
                self.error,
                self.stdout.getvalue(),
            )
            time.sleep(0.02)

    def stop(self) -> None:
        self.command.stop()
        self.thread.join(timeout=10)
        assert not self.thread.is_alive() and self.error is None


def endpoints(merchant_id: str) -> list[WebhookEndpoint]:
    return endpoint_list(merchant_id=merchant_id, limit=100).items


@pytest.mark.django_db(transaction=True)
def test_the_command_registers_an_endpoint_receives_its_events_and_deletes_it_when_stopped(aws, merchant):
    port = free_port()
    run = CommandRun("--merchant", merchant.id, "--port", str(port), "--events", "payment.completed")
    run.wait_ready()

    [endpoint] = endpoints(merchant.id)
    assert endpoint.url == f"http://127.0.0.1:{port}/webhooks"
    assert list(endpoint.enabled_events) == ["payment.completed"]
    secret = WebhookEndpoint.get(endpoint.id).secret
    assert endpoint.id in run.stdout.getvalue() and secret in run.stdout.getvalue()
    assert signed_post(endpoint.url, secret=secret)[0] == 200
    assert "payment.completed  evt_1" in run.stdout.getvalue()

    run.stop()

    assert endpoints(merchant.id) == []
    assert f"Deleted webhook endpoint {endpoint.id}." in run.stdout.getvalue()


@pytest.mark.django_db(transaction=True)
def test_the_command_deletes_an_endpoint_an_earlier_run_left_behind(aws, merchant):
    port = free_port()
    url = f"http://127.0.0.1:{port}/webhooks"
    left = endpoint_create(
        merchant_id=merchant.id, url=url, enabled_events=["*"], description=f"webhook_listen on {url}"
    )
    own = endpoint_create(merchant_id=merchant.id, url=url, enabled_events=["*"], description="my app")

    run = CommandRun("--merchant", merchant.id, "--port", str(port))
    run.wait_ready()
    ids = {e.id for e in endpoints(merchant.id)}
    run.stop()

    assert left.id not in ids and own.id in ids and len(ids) == 2
    assert [e.id for e in endpoints(merchant.id)] == [own.id]


def test_without_a_demo_merchant_the_command_says_what_to_do():
    with pytest.raises(CommandError, match="run `make run` first, or pass --merchant"):
        call_command("webhook_listen", "--port", str(free_port()))
