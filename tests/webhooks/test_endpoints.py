import json
import time

import pytest
from standardwebhooks import Webhook

from payflow.errors import ApplicationError, ErrorCode
from webhooks.services import (
    endpoint_enable,
    endpoint_rotate_secret,
    endpoint_signing_secrets,
    endpoint_update,
)
from webhooks.signing import signature_header
from webhooks.tables import WebhookEndpoint

pytestmark = pytest.mark.django_db


@pytest.fixture
def endpoint(api, aws):
    body = {"url": "http://127.0.0.1:9000/hooks", "enabled_events": ["payment.completed", "refund.completed"]}
    response = api.post("/v1/webhook_endpoints", body, format="json")
    assert response.status_code == 201
    return response.json()


def test_the_secret_is_shown_once_and_masked_afterwards(api, endpoint):
    assert endpoint["secret"].startswith("whsec_") and len(endpoint["secret"]) > 40
    shown = api.get(f"/v1/webhook_endpoints/{endpoint['id']}").json()
    assert shown["secret"] == "whsec_…" + endpoint["secret"][-4:]
    assert [e["id"] for e in api.get("/v1/webhook_endpoints").json()["data"]] == [endpoint["id"]]


def test_signatures_verify_with_the_standard_webhooks_library(aws, endpoint):
    stored = WebhookEndpoint.get(endpoint["id"])
    body = json.dumps({"id": "evt_1", "type": "payment.completed"})
    timestamp = int(time.time())
    header = signature_header(
        secrets_=endpoint_signing_secrets(stored), message_id="evt_1", timestamp=timestamp, body=body
    )
    headers = {"webhook-id": "evt_1", "webhook-timestamp": str(timestamp), "webhook-signature": header}
    assert Webhook(endpoint["secret"]).verify(body, headers) == json.loads(body)


def test_after_a_rotation_both_secrets_verify_during_the_overlap(api, endpoint):
    rotated = api.post(f"/v1/webhook_endpoints/{endpoint['id']}/rotate_secret").json()
    assert rotated["secret"] != endpoint["secret"]
    stored = WebhookEndpoint.get(endpoint["id"])
    body, timestamp = '{"id": "evt_2"}', int(time.time())
    header = signature_header(
        secrets_=endpoint_signing_secrets(stored), message_id="evt_2", timestamp=timestamp, body=body
    )
    assert len(header.split(" ")) == 2
    headers = {"webhook-id": "evt_2", "webhook-timestamp": str(timestamp), "webhook-signature": header}
    for secret in (endpoint["secret"], rotated["secret"]):
        Webhook(secret).verify(body, headers)

    WebhookEndpoint(endpoint["id"]).update(actions=[WebhookEndpoint.previous_secret_until.set(0)])
    assert endpoint_signing_secrets(WebhookEndpoint.get(endpoint["id"])) == [rotated["secret"]]


def test_endpoints_can_be_changed_disabled_and_deleted(api, endpoint):
    changed = api.patch(
        f"/v1/webhook_endpoints/{endpoint['id']}", {"enabled_events": ["*"], "disabled": True}, format="json"
    ).json()
    assert (changed["enabled_events"], changed["status"]) == (["*"], "disabled")
    assert api.delete(f"/v1/webhook_endpoints/{endpoint['id']}").status_code == 204
    assert api.get(f"/v1/webhook_endpoints/{endpoint['id']}").status_code == 404


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data",
        "https://10.0.0.1/hook",
        "https://localhost/hook",
        "https://[::1]/x",
    ],
)
def test_production_settings_refuse_private_and_metadata_addresses(api, aws, settings, url):
    settings.WEBHOOK_ALLOW_HTTP = False
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = False
    response = api.post("/v1/webhook_endpoints", {"url": url, "enabled_events": ["*"]}, format="json")
    assert response.status_code == 400
    assert (response.json()["error"]["code"], response.json()["error"]["param"]) == ("url_not_allowed", "url")


def test_production_settings_refuse_plain_http(api, aws, settings):
    settings.WEBHOOK_ALLOW_HTTP = False
    response = api.post(
        "/v1/webhook_endpoints", {"url": "http://example.com/h", "enabled_events": ["*"]}, format="json"
    )
    assert response.json()["error"]["code"] == "url_not_allowed"


def test_unknown_event_types_are_refused(api, aws):
    response = api.post(
        "/v1/webhook_endpoints",
        {"url": "http://127.0.0.1/h", "enabled_events": ["payment.exploded"]},
        format="json",
    )
    assert (response.status_code, response.json()["error"]["param"]) == (400, "enabled_events[0]")


def test_another_merchants_endpoint_is_not_found(endpoint, client):
    from payflow.merchants.services import api_key_issue, merchant_create

    _, secret = api_key_issue(merchant=merchant_create(name="Other"))
    response = client.get(f"/v1/webhook_endpoints/{endpoint['id']}", HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert response.status_code == 404


@pytest.mark.parametrize(
    "url", ["http://169.254.169.254/latest/meta-data", "http://10.0.0.1/hook", "http://localhost:9000/h"]
)
def test_the_address_is_refused_even_where_plain_http_is_allowed(api, aws, settings, url):
    settings.WEBHOOK_ALLOW_HTTP = True
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = False
    response = api.post("/v1/webhook_endpoints", {"url": url, "enabled_events": ["*"]}, format="json")
    error = response.json()["error"]
    assert (response.status_code, error["code"]) == (400, "url_not_allowed")
    assert "resolves to a non-public address" in error["message"]


def test_an_endpoint_deleted_between_read_and_write_is_not_found(api, endpoint):
    read = WebhookEndpoint.get(endpoint["id"])
    assert api.delete(f"/v1/webhook_endpoints/{endpoint['id']}").status_code == 204
    with pytest.raises(ApplicationError) as updating:
        endpoint_update(endpoint=read, description="too late")
    with pytest.raises(ApplicationError) as rotating:
        endpoint_rotate_secret(endpoint=read)
    assert updating.value.code == rotating.value.code == ErrorCode.NOT_FOUND
    with pytest.raises(WebhookEndpoint.DoesNotExist):
        WebhookEndpoint.get(endpoint["id"])


def test_two_rotations_at_once_both_happen(api, endpoint):
    first, second = WebhookEndpoint.get(endpoint["id"]), WebhookEndpoint.get(endpoint["id"])
    endpoint_rotate_secret(endpoint=first)
    endpoint_rotate_secret(endpoint=second)
    stored = WebhookEndpoint.get(endpoint["id"])
    assert stored.secret == second.secret and stored.previous_secret == first.secret
    assert len({endpoint["secret"], first.secret, second.secret}) == 3


def test_only_a_disabled_endpoint_can_be_enabled_again(api, endpoint):
    stored = WebhookEndpoint.get(endpoint["id"])
    with pytest.raises(ApplicationError) as refused:
        endpoint_enable(endpoint=stored)
    assert refused.value.code == ErrorCode.INVALID_STATE
    endpoint_update(endpoint=stored, disabled=True)
    assert endpoint_enable(endpoint=stored).status == "enabled"
    assert WebhookEndpoint.get(endpoint["id"]).status == "enabled"
