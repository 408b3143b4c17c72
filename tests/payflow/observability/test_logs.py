"""Structured logs: one JSON object a line, the request id throughout, no secret ever written."""

import io
import json
import logging
from types import SimpleNamespace

import pytest

from payflow.observability.logs import (
    JsonFormatter,
    ScrubbingFormatter,
    log_context,
    log_context_bind,
    log_context_clear,
    scrub,
    task_context_bind,
    task_context_clear,
    task_headers_add,
)

PAN = "4242 4242 4242 4242"
SECRETS = {
    "card": PAN,
    "card_dashed": "5555-5555-5555-4444",
    "card_digits": "378282246310005",
    "api_key": "sk_test_Xq3mS0f9Lw2B7cVz1aQe8Rty",
    "webhook_secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
    "provider_secret": "rzp_cred_Q2hhbmdlTWVQbGVhc2U",
    "aws_key": "AKIAIOSFODNN7EXAMPLE",
}


@pytest.fixture
def output():
    """What the root logger writes through the JSON formatter, as a list of parsed lines."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.addHandler(handler)
    log_context_clear()

    def lines() -> list[dict]:
        return [json.loads(line) for line in stream.getvalue().splitlines()]

    lines.text = stream.getvalue
    yield lines
    root.removeHandler(handler)
    log_context_clear()


def assert_no_secret(text: str) -> None:
    for name, secret in SECRETS.items():
        assert secret not in text, name
        assert secret.replace(" ", "").replace("-", "") not in text, name
    assert "987" not in text  # the CVC


def test_a_line_is_one_json_object_with_the_context(output):
    log_context_bind(request_id="req_abc", merchant_id="mch_1")
    logging.getLogger("payments.services").info(
        "payment %s completed", "pay_1", extra={"payment_id": "pay_1"}
    )

    (line,) = output()
    assert line["event"] == "payment pay_1 completed"
    assert (line["level"], line["logger"]) == ("info", "payments.services")
    assert (line["request_id"], line["merchant_id"], line["payment_id"]) == ("req_abc", "mch_1", "pay_1")
    assert line["timestamp"].endswith("Z") and "T" in line["timestamp"]


def test_secrets_are_scrubbed_from_messages_arguments_extras_and_tracebacks(output):
    log = logging.getLogger("payflow.test")
    log.info("charging card %s cvc=987 with key %s", PAN, SECRETS["api_key"])
    log.info("Authorization: Bearer %s", SECRETS["api_key"])
    log.warning("request body: %s", json.dumps({"card": {"number": SECRETS["card_dashed"], "cvc": "987"}}))
    log.info(
        "provider config", extra={"client_secret": SECRETS["provider_secret"], "key": SECRETS["aws_key"]}
    )
    log.info("endpoint %s", {"url": "https://example.com", "secret": SECRETS["webhook_secret"]})
    log.info("a card as a number: %d", int(SECRETS["card_digits"]))
    try:
        raise ValueError(f"declined {SECRETS['card_digits']} signing with {SECRETS['webhook_secret']}")
    except ValueError:
        log.exception("processing failed")

    text = output.text()
    assert_no_secret(text)
    lines = output()
    assert lines[0]["event"] == "charging card [card …4242] cvc=[scrubbed] with key sk_test_[scrubbed]"
    assert lines[3]["client_secret"] == "[scrubbed]"
    assert "ValueError: declined [card …0005]" in lines[-1]["exception"]
    assert "Traceback" in lines[-1]["exception"]


def test_ids_amounts_and_timestamps_are_left_alone():
    text = "pay_4242424242424242 of 4242.42 USD at 1763892902123 ref 1234567890123 mch_Z9"
    assert scrub(text) == text  # an id's digits, a decimal, a millisecond timestamp, a failing Luhn
    assert scrub({"amount": 2500, "number_of_items": 3}) == {"amount": 2500, "number_of_items": 3}
    assert scrub({"card": {"number": PAN, "last4": "4242"}}) == {
        "card": {"number": "[scrubbed]", "last4": "4242"}
    }


def test_the_plain_format_is_scrubbed_and_carries_the_request_id():
    formatter = ScrubbingFormatter("%(levelname)s %(message)s")
    record = logging.makeLogRecord({"msg": "key %s", "args": (SECRETS["api_key"],), "levelname": "INFO"})
    with log_context(request_id="req_plain"):
        line = formatter.format(record)
    assert line == "INFO key sk_test_[scrubbed] request_id=req_plain"


def test_the_request_id_is_echoed_or_made_and_every_line_of_the_request_carries_it(api, output, aws):
    given = api.get("/v1/payments", headers={"X-Request-ID": "trace-123"})
    made = api.get("/v1/payments")
    refused = api.get("/v1/payments", headers={"X-Request-ID": "bad id\n" + "x" * 200})

    assert given["X-Request-ID"] == "trace-123"
    assert made["X-Request-ID"].startswith("req_") and len(made["X-Request-ID"]) == 36
    assert refused["X-Request-ID"].startswith("req_")
    logging.getLogger("payflow.test").info("after the requests")
    assert "request_id" not in output()[-1]  # nothing of a request stays behind


def test_a_requests_log_lines_carry_its_id_and_merchant(api, output, merchant, aws):
    response = api.post(
        "/v1/payments",
        {"amount": "1.00", "currency": "USD", "type": "eft", "metadata": {"k": "v"}},
        format="json",
        headers={"X-Request-ID": "trace-create"},
    )
    assert response.status_code == 201
    logged = [line for line in output() if line.get("request_id") == "trace-create"]
    assert logged, output()
    assert all(line["merchant_id"] == merchant.id for line in logged)
    assert any(line.get("payment_id") == response.json()["id"] for line in logged)


def test_a_task_carries_the_request_id_of_the_work_that_published_it(output):
    headers: dict = {}
    with log_context(request_id="trace-task"):
        task_headers_add(headers=headers)
    assert headers == {"request_id": "trace-task"}

    task = SimpleNamespace(name="payments.tasks.process_payment_task", request=SimpleNamespace(**headers))
    task_context_bind(task=task, task_id="t-1", args=["pay_123"])
    logging.getLogger("payments.tasks").info("processing")
    task_context_clear()
    logging.getLogger("payments.tasks").info("between tasks")

    during, after = output()
    assert during["request_id"] == "trace-task" and during["payment_id"] == "pay_123"
    assert (during["task"], during["task_id"]) == ("payments.tasks.process_payment_task", "t-1")
    assert "request_id" not in after and "payment_id" not in after
