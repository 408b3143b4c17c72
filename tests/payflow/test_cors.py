"""CORS: browsers may call the API only from the allowed origins, never with cookies."""

import pytest


@pytest.fixture
def origins(settings):
    settings.CORS_ALLOWED_ORIGINS = ["https://dashboard.payflow.example"]


def preflight(client, origin: str):
    return client.options(
        "/v1/payments",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type, idempotency-key",
        },
    )


def test_an_allowed_origin_may_call_the_api(client, origins):
    response = preflight(client, "https://dashboard.payflow.example")
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == "https://dashboard.payflow.example"
    assert "idempotency-key" in response["Access-Control-Allow-Headers"]
    assert "Access-Control-Allow-Credentials" not in response


def test_another_origin_gets_no_cors_headers(client, origins):
    response = preflight(client, "https://evil.example")
    assert "Access-Control-Allow-Origin" not in response


@pytest.mark.django_db
def test_responses_expose_the_request_id_and_rate_limit_headers_to_the_allowed_origin(api, aws, origins):
    response = api.get("/v1/payments", headers={"Origin": "https://dashboard.payflow.example"})
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == "https://dashboard.payflow.example"
    exposed = response["Access-Control-Expose-Headers"]
    assert "X-Request-ID" in exposed and "RateLimit-Remaining" in exposed


def test_the_admin_is_not_opened_to_other_origins(client, origins):
    response = client.get("/admin/login/", headers={"Origin": "https://dashboard.payflow.example"})
    assert "Access-Control-Allow-Origin" not in response
