"""/metrics through the real stack: the counts of two gunicorn workers and a prefork worker, added up."""

import json
import urllib.request

from payflow.devstack.emulator import free_port
from tests.e2e.test_webhooks import wait
from tests.prometheus_text import sample, samples

TOKEN = "ops-token-e2e-0123456789"
PAYMENTS = 8
CARD = {"number": "4242424242424242", "exp_month": 12, "exp_year": 2034, "cvc": "123"}


def scrape(url: str, token: str | None = TOKEN) -> tuple[int, str, str]:
    request = urllib.request.Request(url + "/metrics")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.headers["Content-Type"], response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.headers["Content-Type"], error.read().decode()


def _try_scrape(url: str):
    try:
        return scrape(url)
    except OSError:
        return None  # not listening yet


def test_metrics_add_up_every_process_on_the_host(stack, tmp_path):
    shared = {"PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "prometheus"), "PAYFLOW_OPERATIONS_TOKEN": TOKEN}
    stack.env |= shared
    key = stack.create_merchant()["api_key"]
    web = stack.start_web()  # two gunicorn workers
    worker_port = free_port()
    # Two prefork children; the worker also serves /metrics itself, as on a host without a web server.
    stack.start_worker("payments", pool_args=("--concurrency=2",), WORKER_METRICS_PORT=str(worker_port))

    ids = []
    for i in range(PAYMENTS):
        body = {"amount": f"{10 + i}.00", "currency": "EUR", "type": "card", "card": CARD}
        status, _, payment = web.request("POST", "/v1/payments", body, key=key)
        assert status == 201, payment
        ids.append(payment["id"])
    for payment_id in ids:
        wait(
            lambda pid=payment_id: (
                web.request("GET", f"/v1/payments/{pid}", key=key)[2]["status"] == "completed"
            ),
            30,
            f"{payment_id} never completed",
        )

    # Whichever gunicorn worker answers the scrape, it reports everyone's counts.
    for _ in range(6):
        status, content_type, text = scrape(web.url)
        assert status == 200 and content_type.startswith("text/plain"), text
        found = samples(text)
        assert (
            sample(found, "payflow_http_requests_total", route="v1/payments", method="POST", status="201")
            == PAYMENTS
        )
        assert (
            sample(found, "payflow_http_request_duration_seconds_count", route="v1/payments", method="POST")
            == PAYMENTS
        )
        assert sample(found, "payflow_payments_total", status="completed") == PAYMENTS
        assert sample(found, "payflow_payment_amount_minor_total", status="completed", currency="EUR") == sum(
            (10 + i) * 100 for i in range(PAYMENTS)
        )
        tasks = sample(
            found,
            "payflow_celery_tasks_total",
            task="payments.tasks.process_payment_task",
            outcome="succeeded",
        )
        assert tasks == PAYMENTS
        assert (
            sample(
                found,
                "payflow_celery_task_duration_seconds_count",
                task="payments.tasks.process_payment_task",
            )
            == PAYMENTS
        )
        assert sample(found, "payflow_sqs_up") == 1
        assert f'queue="{stack.prefix}-payments-dlq"' in text
    # The worker's own endpoint reads the same files.
    status, _, worker_text = wait(lambda: _try_scrape(f"http://127.0.0.1:{worker_port}"), 10, "no metrics")
    assert status == 200
    worker_found = samples(worker_text)
    assert sample(worker_found, "payflow_payments_total", status="completed") == PAYMENTS
    assert scrape(f"http://127.0.0.1:{worker_port}", token="wrong")[0] == 401
    # A route is its pattern, never an id.
    assert not any(payment_id in text for payment_id in ids)

    status, content_type, body = scrape(web.url, token=None)
    assert status == 401 and content_type == "application/json"
    assert json.loads(body)["error"]["code"] == "authentication_required"
    assert scrape(web.url, token="wrong")[0] == 401
