"""The idempotency layer as every creating endpoint uses it, through a small test endpoint."""

import pytest
from django.urls import path
from rest_framework.test import APIClient

from payflow import urls as project_urls
from payflow.api import MerchantApi
from payflow.errors import ApplicationError, ErrorCode
from payflow.idempotency.http import idempotent_response
from payflow.idempotency.tables import IdempotencyRecord

calls: list[str] = []


class ActionApi(MerchantApi):
    def post(self, request, outcome):
        def work(claim):
            calls.append(outcome)
            if outcome == "refused":
                raise ApplicationError(ErrorCode.INVALID_STATE, "Not now.")
            if outcome == "unavailable":
                raise ApplicationError(ErrorCode.SERVICE_UNAVAILABLE)
            if outcome == "bug":
                raise RuntimeError("boom")
            return 200, {"done": len(calls)}

        return idempotent_response(request, merchant_id=self.merchant_id, work=work)


urlpatterns = [*project_urls.urlpatterns, path("v1/actions/<str:outcome>", ActionApi.as_view())]
handler404 = project_urls.handler404
handler500 = project_urls.handler500
pytestmark = [pytest.mark.urls(__name__), pytest.mark.django_db]


@pytest.fixture(autouse=True)
def fresh_calls():
    calls.clear()


def post(api: APIClient, outcome: str, key: str = "k1"):
    return api.post(f"/v1/actions/{outcome}", {"x": 1}, format="json", headers={"Idempotency-Key": key})


def test_a_refusal_is_stored_and_replayed_without_running_again(api, aws):
    first = post(api, "refused")
    again = post(api, "refused")
    assert first.status_code == again.status_code == 409
    assert again.json() == first.json() and again["Idempotent-Replayed"] == "true"
    assert calls == ["refused"]


def test_a_success_that_is_not_a_creation_keeps_its_status(api, aws):
    assert post(api, "ok").status_code == 200
    replay = post(api, "ok")
    assert (replay.status_code, replay.json(), calls) == (200, {"done": 1}, ["ok"])


@pytest.mark.parametrize("outcome", ["unavailable", "bug"])
def test_a_failure_that_changed_nothing_releases_the_key_for_a_retry(api, aws, outcome):
    assert post(api, outcome).status_code in (500, 503)
    assert list(IdempotencyRecord.scan()) == []
    post(api, outcome)
    assert calls == [outcome, outcome]


@pytest.mark.parametrize("key", ["", "x" * 256, "tab\there"])
def test_a_malformed_key_is_a_400(api, aws, key):
    response = post(api, "ok", key=key)
    assert response.status_code == 400
    assert response.json()["error"]["param"] == "idempotency_key"
    assert calls == []
