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


DEEP = ("dynamodb", "sqs", "s3", "database", "cache", "rate_limiter")


@pytest.mark.django_db
def test_the_deep_check_is_for_operators_only(client, api, aws, settings):
    settings.OPERATIONS_TOKEN = "ops-token-for-probes"
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic ops-token-for-probes"}):
        response = client.get("/v1/health?deep=1", headers=headers)
        assert response.status_code == 401, headers
        assert response.json()["error"]["code"] == "authentication_required"
        assert "latency_ms" not in response.json()
    assert api.get("/v1/health?deep=1").status_code == 401  # a merchant's API key is not an operator


@pytest.mark.django_db
def test_the_deep_check_gives_every_dependencys_latency(client, admin_client, aws, settings):
    settings.OPERATIONS_TOKEN = "ops-token-for-probes"
    by_token = client.get("/v1/health?deep=1", headers={"Authorization": "Bearer ops-token-for-probes"})
    by_session = admin_client.get("/v1/health?deep=true")

    for response in (by_token, by_session):
        assert response.status_code == 200
        body = response.json()
        assert body["checks"] == dict.fromkeys(DEEP, "ok")
        assert set(body["latency_ms"]) == set(DEEP)
        assert all(isinstance(ms, float) and 0 <= ms < 1500 for ms in body["latency_ms"].values())


@pytest.mark.django_db
def test_the_deep_check_names_a_rate_limiter_that_is_down(admin_client, aws, settings, tmp_path):
    settings.RATE_LIMIT_STORE_URL = f"sqlite:///{tmp_path}"  # a directory: SQLite cannot open it
    response = admin_client.get("/v1/health?deep=1")
    assert response.status_code == 503
    body = response.json()
    assert body["checks"]["rate_limiter"] == "unavailable" and body["latency_ms"]["rate_limiter"] is None
    assert "rate_limiter" in body["error"]["message"]
    # The cheap check, for load balancers, does not look at it.
    assert admin_client.get("/v1/health").status_code == 200


def test_without_a_token_configured_no_bearer_gets_in(client, aws, settings):
    settings.OPERATIONS_TOKEN = ""
    assert client.get("/v1/health?deep=1", headers={"Authorization": "Bearer "}).status_code == 401


def test_deep_takes_only_a_boolean(client, aws):
    response = client.get("/v1/health?deep=maybe")
    assert response.status_code == 400 and response.json()["error"]["param"] == "deep"
    assert client.get("/v1/health?deep=false").status_code == 200
