import pytest

from payflow.merchants.services import api_key_issue, api_key_revoke

pytestmark = pytest.mark.django_db


def error_code(response) -> str:
    return response.json()["error"]["code"]


def test_a_request_without_a_key_is_a_401_that_says_how_to_authenticate(client, aws):
    response = client.get("/v1/payments")
    assert response.status_code == 401
    assert error_code(response) == "authentication_required"
    assert response["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize(
    "header",
    [
        "Bearer sk_test_unknownunknownunknownunknown12",
        "Basic dXNlcjpwYXNz",
        "Bearer",
        "Bearer a b",
        "Bearer \u00e9",
    ],
)
def test_a_bad_key_is_a_401(client, aws, header):
    response = client.get("/v1/payments", HTTP_AUTHORIZATION=header)
    assert response.status_code == 401
    assert error_code(response) == "invalid_api_key"


def test_a_revoked_key_stops_working_at_once(client, aws, merchant):
    key, secret = api_key_issue(merchant=merchant)
    assert client.get("/v1/payments", HTTP_AUTHORIZATION=f"Bearer {secret}").status_code == 200
    api_key_revoke(key=key)
    response = client.get("/v1/payments", HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert response.status_code == 401
    assert error_code(response) == "invalid_api_key"


def test_a_known_key_costs_no_database_query(client, aws, api_key, django_assert_num_queries):
    client.get("/v1/payments", HTTP_AUTHORIZATION=f"Bearer {api_key}")
    with django_assert_num_queries(0):
        assert client.get("/v1/payments", HTTP_AUTHORIZATION=f"Bearer {api_key}").status_code == 200


def test_health_and_docs_need_no_key(client, aws):
    assert client.get("/v1/health").status_code == 200
    assert client.get("/v1/schema").status_code == 200
    assert client.get("/v1/docs").status_code == 200
    assert client.get("/v1/redoc").status_code == 200


def test_the_schema_documents_the_bearer_scheme_and_the_error_codes(client):
    schema = client.get("/v1/schema", HTTP_ACCEPT="application/json").json()
    assert schema["components"]["securitySchemes"]["apiKey"]["scheme"] == "bearer"
    assert "idempotency_key_reused" in schema["info"]["description"]
    assert "/v1/payments" in schema["paths"]


def test_every_operation_documents_the_errors_it_may_answer(client):
    schema = client.get("/v1/schema", HTTP_ACCEPT="application/json").json()
    error = {"$ref": "#/components/schemas/Error"}
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            expected = {"400", "404", "406", "414", "503"}
            if operation.get("security"):
                expected |= {"401", "429"}
            if "requestBody" in operation:
                expected |= {"413", "415"}
            responses = operation["responses"]
            assert expected <= set(responses), (method, path, sorted(responses))
            for status in expected:
                assert responses[status]["content"]["application/json"]["schema"] == error, (
                    method,
                    path,
                    status,
                )
