import json

import pytest
from botocore.exceptions import EndpointConnectionError
from django.test import Client
from django.urls import path
from pynamodb.exceptions import TransactWriteError
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from payflow import urls as project_urls
from payflow.errors import ApplicationError, ErrorCode


class EchoSerializer(serializers.Serializer):
    amount = serializers.CharField()
    card = serializers.DictField(child=serializers.CharField(), required=False)


class EchoApi(APIView):
    authentication_classes = permission_classes = ()

    def post(self, request):
        serializer = EchoSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return Response(serializer.validated_data)


class FailingApi(APIView):
    authentication_classes = permission_classes = ()

    failures = {
        "application": ApplicationError(ErrorCode.INVALID_REQUEST, "Amount too large.", param="amount"),
        "aws": EndpointConnectionError(endpoint_url="http://127.0.0.1:1"),
        # What a transaction raises when DynamoDB cannot be reached (found by the chaos suite).
        "transaction": TransactWriteError(
            "Failed", EndpointConnectionError(endpoint_url="http://127.0.0.1:1")
        ),
        "bug": ZeroDivisionError("secret detail"),
    }

    def get(self, request, kind):
        raise self.failures[kind]


def crash_outside_drf(request):
    raise RuntimeError("boom with /home/secret/path")


urlpatterns = [
    *project_urls.urlpatterns,
    path("v1/echo", EchoApi.as_view()),
    path("v1/fail/<str:kind>", FailingApi.as_view()),
    path("plain/crash", crash_outside_drf),
]

handler400 = project_urls.handler400
handler403 = project_urls.handler403
handler404 = project_urls.handler404
handler500 = project_urls.handler500

pytestmark = pytest.mark.urls(__name__)


def error_of(response) -> dict:
    assert response["Content-Type"].startswith("application/json")
    body = json.loads(response.content)
    assert set(body["error"]) == {"type", "code", "message", "param"}
    return body["error"]


def test_unknown_path_is_a_json_404(client):
    response = client.get("/v1/nowhere")
    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"


def test_wrong_method_is_a_json_405(client):
    response = client.delete("/v1/echo")
    assert response.status_code == 405
    assert error_of(response)["code"] == "method_not_allowed"


def test_malformed_json_is_a_400_that_says_so(client):
    response = client.post("/v1/echo", data="{not json", content_type="application/json")
    assert response.status_code == 400
    assert error_of(response)["code"] == "malformed_json"


def test_non_json_body_is_a_415(client):
    response = client.post("/v1/echo", data="amount=1", content_type="application/x-www-form-urlencoded")
    assert response.status_code == 415
    assert error_of(response)["code"] == "unsupported_media_type"


def test_validation_error_names_the_parameter(client):
    response = client.post("/v1/echo", data={}, content_type="application/json")
    assert response.status_code == 400
    error = error_of(response)
    assert error == {
        "type": "invalid_request_error",
        "code": "invalid_request",
        "message": "amount: This field is required.",
        "param": "amount",
    }


def test_nested_validation_error_names_the_nested_parameter(client):
    response = client.post("/v1/echo", data={"amount": "1", "card": "x"}, content_type="application/json")
    assert error_of(response)["param"] == "card"


def test_application_error_keeps_its_code_message_and_param(client):
    response = client.get("/v1/fail/application")
    assert response.status_code == 400
    assert error_of(response)["param"] == "amount"
    assert error_of(response)["message"] == "Amount too large."


@pytest.mark.parametrize("kind", ["aws", "transaction"])
def test_unreachable_aws_is_a_retryable_503(client, kind):
    response = client.get(f"/v1/fail/{kind}")
    assert response.status_code == 503
    assert response["Retry-After"] == "1"
    assert error_of(response)["code"] == "service_unavailable"


def test_unhandled_exception_is_a_500_without_details(client):
    response = client.get("/v1/fail/bug")
    assert response.status_code == 500
    error = error_of(response)
    assert error["code"] == "internal_error"
    assert "secret detail" not in response.content.decode()


def test_crash_outside_drf_is_a_json_500_without_a_traceback():
    client = Client(raise_request_exception=False)
    response = client.get("/plain/crash")
    assert response.status_code == 500
    assert error_of(response)["code"] == "internal_error"
    assert b"Traceback" not in response.content
    assert b"/home/secret" not in response.content


def test_admin_keeps_html_error_pages(client):
    response = client.get("/admin/nowhere/")
    assert response.status_code in (302, 404)
    assert not response["Content-Type"].startswith("application/json")
