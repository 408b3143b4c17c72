import socket
import time

import pytest

from tests.conftest import point_settings_at_aws


def test_health_is_ok_when_every_dependency_answers(client, aws):
    response = client.get("/v1/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"dynamodb": "ok", "sqs": "ok", "s3": "ok"}}


def test_health_names_the_missing_dependency(client, aws, settings):
    from payflow.aws.clients import aws_client
    from payflow.aws.queues import bucket_name

    aws_client("s3").delete_bucket(Bucket=bucket_name())
    response = client.get("/v1/health")
    assert response.status_code == 503
    body = response.json()
    assert body["checks"] == {"dynamodb": "ok", "sqs": "ok", "s3": "unavailable"}
    assert body["error"]["code"] == "service_unavailable"
    assert "s3" in body["error"]["message"]


@pytest.fixture
def hanging_endpoint():
    """A TCP server that accepts connections and never answers."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(64)
    yield f"http://127.0.0.1:{server.getsockname()[1]}"
    server.close()


def test_health_answers_503_within_two_seconds_when_aws_hangs(client, settings, hanging_endpoint):
    point_settings_at_aws(settings, endpoint_url=hanging_endpoint, payflow_env="test")
    settings.SQS_QUEUE_URL_BASE = f"{hanging_endpoint}/000000000000"
    settings.HEALTH_CHECK_TIMEOUT_SECONDS = 1.0
    started = time.monotonic()
    response = client.get("/v1/health")
    elapsed = time.monotonic() - started
    assert response.status_code == 503
    assert elapsed < 2.0
    assert set(response.json()["checks"].values()) <= {"timeout", "unavailable"}


def test_health_needs_no_api_key_and_says_unavailable_when_nothing_listens(client, settings):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    point_settings_at_aws(settings, endpoint_url=f"http://127.0.0.1:{closed_port}", payflow_env="test")
    response = client.get("/v1/health")
    assert response.status_code == 503
    assert response.json()["checks"] == {"dynamodb": "unavailable", "sqs": "unavailable", "s3": "unavailable"}
