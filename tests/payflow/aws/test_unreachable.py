"""AWS that hangs up without an answer (a dropped connection, a node going away) is a 503, never a 500."""

import socket
import threading

import pytest

from tests.conftest import point_settings_at_aws


@pytest.fixture
def hanging_up_aws(settings):
    """An AWS endpoint that accepts each connection and closes it before answering."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.2)
    stopping = threading.Event()

    def hang_up() -> None:
        while not stopping.is_set():
            try:
                connection, _ = listener.accept()
            except TimeoutError:
                continue
            connection.recv(65536)
            connection.close()

    thread = threading.Thread(target=hang_up, daemon=True)
    thread.start()
    point_settings_at_aws(
        settings, endpoint_url=f"http://127.0.0.1:{listener.getsockname()[1]}", payflow_env="test"
    )
    yield
    stopping.set()
    thread.join()
    listener.close()


PAYMENT = {
    "amount": "10.00",
    "currency": "USD",
    "type": "card",
    "card": {"number": "4242424242424242", "exp_month": 12, "exp_year": 2034, "cvc": "123"},
}


@pytest.mark.parametrize(
    ("path", "body"),
    [("/v1/payments", PAYMENT), ("/v1/customers", {"email": "ada@example.com"})],
)
def test_a_keyed_create_is_a_503_when_aws_hangs_up(api, hanging_up_aws, path, body):
    response = api.post(path, body, format="json", HTTP_IDEMPOTENCY_KEY="key-1")
    assert response.status_code == 503, response.content
    assert response.json()["error"]["code"] == "service_unavailable"
    assert response["Retry-After"] == "1"


@pytest.mark.parametrize("key", [None, "key-2"])
def test_a_payment_create_with_or_without_a_key_is_a_503_when_aws_hangs_up(api, hanging_up_aws, key):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
    response = api.post("/v1/payments", PAYMENT, format="json", **headers)
    assert response.status_code == 503, response.content


def test_reads_are_a_503_when_aws_hangs_up(api, hanging_up_aws):
    for path in ("/v1/payments", "/v1/payments/pay_unknown", "/v1/customers", "/v1/events"):
        response = api.get(path)
        assert response.status_code == 503, (path, response.content)
