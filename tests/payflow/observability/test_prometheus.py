import socket

import pytest
from prometheus_client import REGISTRY

from payflow.observability.prometheus import queue_depths, webhook_attempt_observe
from payments.tasks import process_payment_task
from tests.conftest import point_settings_at_aws
from tests.prometheus_text import sample, samples

TOKEN = "ops-token-unit-0123456789"


@pytest.fixture(autouse=True)
def _fresh_queue_depths():
    queue_depths.forget()
    yield
    queue_depths.forget()


def value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def scrape(client, **headers) -> dict[str, float]:
    response = client.get("/metrics", headers=headers)
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain; version=")
    return samples(response.content.decode())


@pytest.mark.django_db
def test_metrics_are_for_operators_only(client, settings, aws):
    settings.OPERATIONS_TOKEN = TOKEN
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Basic {TOKEN}"}):
        response = client.get("/metrics", headers=headers)
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "authentication_required"
        assert response["WWW-Authenticate"].startswith("Bearer")
    assert "payflow_sqs_up" in scrape(client, Authorization=f"Bearer {TOKEN}")
    refused = client.post("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert refused.status_code == 405 and refused.json()["error"]["code"] == "method_not_allowed"


@pytest.mark.django_db
def test_without_a_token_configured_no_bearer_gets_in_but_a_staff_session_does(
    client, settings, aws, admin_user
):
    settings.OPERATIONS_TOKEN = ""
    assert client.get("/metrics", headers={"Authorization": "Bearer "}).status_code == 401
    client.force_login(admin_user)
    assert "payflow_sqs_up" in scrape(client)


def test_requests_are_counted_by_route_pattern_method_and_status(api, aws, admin_client):
    before = value(
        "payflow_http_requests_total", route="v1/payments/<str:payment_id>", method="GET", status="404"
    )
    timed = value(
        "payflow_http_request_duration_seconds_count", route="v1/payments/<str:payment_id>", method="GET"
    )
    unmatched = value("payflow_http_requests_total", route="<unmatched>", method="other", status="404")

    assert api.get("/v1/payments/pay_missing").status_code == 404
    assert api.get("/v1/payments/pay_other").status_code == 404
    assert api.generic("BREW", "/no/such/path").status_code == 404

    found = scrape(admin_client)
    route = {"route": "v1/payments/<str:payment_id>", "method": "GET"}
    assert sample(found, "payflow_http_requests_total", status="404", **route) == before + 2
    assert sample(found, "payflow_http_request_duration_seconds_count", **route) == timed + 2
    assert sample(found, "payflow_http_requests_total", route="<unmatched>", method="other") == unmatched + 1
    assert not any("pay_missing" in series for series in found)


def test_payments_and_tasks_are_counted_by_status_and_outcome(api, aws, admin_client):
    task = "payments.tasks.process_payment_task"
    completed = value("payflow_payments_total", status="completed")
    amount = value("payflow_payment_amount_minor_total", status="completed", currency="CAD")
    succeeded = value("payflow_celery_tasks_total", task=task, outcome="succeeded")
    timed = value("payflow_celery_task_duration_seconds_count", task=task)

    body = {"amount": "12.34", "currency": "CAD", "type": "eft"}
    payment_id = api.post("/v1/payments", body, format="json").json()["id"]
    process_payment_task.apply(args=[payment_id])

    found = scrape(admin_client)
    assert sample(found, "payflow_payments_total", status="completed") == completed + 1
    assert (
        sample(found, "payflow_payment_amount_minor_total", status="completed", currency="CAD")
        == amount + 1234
    )
    assert sample(found, "payflow_celery_tasks_total", task=task, outcome="succeeded") == succeeded + 1
    assert sample(found, "payflow_celery_task_duration_seconds_count", task=task) == timed + 1


def test_webhook_attempts_are_counted_by_outcome():
    before = {
        o: value("payflow_webhook_attempts_total", outcome=o) for o in ("succeeded", "http_5xx", "error")
    }
    webhook_attempt_observe(status_code=200, succeeded=True)
    webhook_attempt_observe(status_code=503, succeeded=False)
    webhook_attempt_observe(status_code=None, succeeded=False)
    for outcome, count in before.items():
        assert value("payflow_webhook_attempts_total", outcome=outcome) == count + 1


def test_queue_depths_come_from_sqs_and_sqs_down_leaves_the_rest(admin_client, aws, settings):
    from payflow.aws.clients import aws_client
    from payflow.aws.queues import queue_name, queue_url

    aws_client("sqs").send_message(QueueUrl=queue_url(queue_name("webhooks")), MessageBody="{}")
    found = scrape(admin_client)
    assert sample(found, "payflow_sqs_up") == 1
    webhooks = {"queue": queue_name("webhooks"), "dead_letter": "false"}
    assert sample(found, "payflow_sqs_messages", state="visible", **webhooks) == 1
    assert (
        sample(found, "payflow_sqs_messages", queue=f"{queue_name('webhooks')}-dlq", dead_letter="true") == 0
    )

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    point_settings_at_aws(settings, endpoint_url=f"http://127.0.0.1:{closed_port}", payflow_env="test")
    queue_depths.forget()
    found = scrape(admin_client)
    assert sample(found, "payflow_sqs_up") == 0
    assert not any(series.startswith("payflow_sqs_messages") for series in found)
    assert any(series.startswith("payflow_http_requests_total") for series in found)


def test_a_workers_own_metrics_endpoint_takes_the_token_only(settings, aws):
    from payflow.observability.prometheus import worker_metrics_app

    settings.OPERATIONS_TOKEN = TOKEN

    def call(path: str, authorization: str = "") -> tuple[str, bytes]:
        answer = {}
        environ = {"PATH_INFO": path, "HTTP_AUTHORIZATION": authorization}
        body = b"".join(worker_metrics_app(environ, lambda status, headers: answer.update(status=status)))
        return answer["status"], body

    assert call("/metrics")[0] == "401 Unauthorized"
    assert call("/metrics", "Bearer wrong")[0] == "401 Unauthorized"
    assert call("/other", f"Bearer {TOKEN}")[0] == "404 Not Found"
    status, body = call("/metrics", f"Bearer {TOKEN}")
    assert status == "200 OK" and b"payflow_sqs_up" in body
