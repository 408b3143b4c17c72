"""Logs through the real stack: JSON lines, one request id from the API call to the webhook, no secrets."""

import json

from tests.e2e.test_webhooks import receivers, register, wait  # noqa: F401 (receivers: the fixture)

PAN = "4242424242424242"
CVC = "918"


def json_lines(text: str) -> list[dict]:
    """Every JSON log line of a process's output (banners and the like are not JSON)."""
    found = []
    for line in text.splitlines():
        if line.startswith("{"):
            found.append(json.loads(line))
    return found


def test_one_request_id_follows_a_payment_from_the_api_through_the_worker_to_its_webhook(stack, receivers):  # noqa: F811
    merchant = stack.create_merchant()
    key = merchant["api_key"]
    web = stack.start_web()
    worker = stack.start_worker("payments")
    hooks = stack.start_webhook_worker()
    receiver = receivers()
    endpoint = register(web, key, receiver.url, ["payment.completed"])

    card = {"number": PAN, "exp_month": 12, "exp_year": 2034, "cvc": CVC}
    body = {"amount": "12.50", "currency": "USD", "type": "card", "card": card}
    status, headers, payment = web.request(
        "POST", "/v1/payments", body, key=key, headers={"X-Request-ID": "trace-e2e-0001"}
    )
    assert (status, headers["X-Request-ID"]) == (201, "trace-e2e-0001")
    # A refused request is logged too, with its card number scrubbed.
    refused = web.request("POST", "/v1/payments", body | {"amount": "-1"}, key=key)
    assert refused[0] == 400 and refused[1]["X-Request-ID"].startswith("req_")
    receiver.wait_for(1, timeout=30)

    def traced(output) -> list[dict]:
        return [line for line in json_lines(output.text) if line.get("request_id") == "trace-e2e-0001"]

    web_lines = wait(lambda: traced(web), 10, "the web never logged the request:\n" + web.text)
    assert any(line.get("status") == 201 and line.get("path") == "/v1/payments" for line in web_lines)
    assert all(line["merchant_id"] == merchant["merchant_id"] for line in web_lines)
    worker_lines = wait(lambda: traced(worker), 10, "the worker never logged the request id:\n" + worker.text)
    assert {line.get("payment_id") for line in worker_lines} == {payment["id"]}
    assert any(line.get("task", "").endswith("process_payment_task") for line in worker_lines)
    hook_lines = wait(
        lambda: traced(hooks), 10, "the webhook worker never logged the request id:\n" + hooks.text
    )
    assert any(
        line.get("event_id") and line.get("merchant_id") == merchant["merchant_id"] for line in hook_lines
    )

    for output in (web, worker, hooks):
        for line in json_lines(output.text):
            assert {"timestamp", "level", "event"} <= set(line), line
        assert PAN not in output.text and f'"{CVC}"' not in output.text and key not in output.text
        assert endpoint["secret"] not in output.text
