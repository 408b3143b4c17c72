"""Every API operation for every kind of caller who must not get in, and every console URL for
operators without the permission: the right status, the one error shape, nothing of the owner's data."""

import re
from datetime import UTC, datetime

import pytest
from django.contrib import admin
from django.contrib.auth.models import User
from django.test import Client
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from payflow.balances.services import balance_top_up
from payflow.console.options import DynamoAdmin
from payflow.merchants.services import api_key_issue, api_key_revoke, merchant_create
from payments.services import payment_process
from payments.settlement import settlement_run

pytestmark = pytest.mark.django_db

PUBLIC = {("GET", "/v1/health")}


def operations() -> list[tuple[str, str]]:
    schema = SchemaGenerator().get_schema(request=None, public=True)
    return sorted(
        (method.upper(), path)
        for path, methods in schema["paths"].items()
        for method in methods
        if (method.upper(), path) not in PUBLIC
    )


def keyed(secret: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client


@pytest.fixture
def owned(api, merchant, aws):
    """One object of every kind, all of ``merchant``: {path parameter kind: id}."""
    endpoint = api.post(
        "/v1/webhook_endpoints", {"url": "http://127.0.0.1:9/hooks", "enabled_events": ["*"]}, format="json"
    ).json()
    payment = api.post(
        "/v1/payments", {"amount": "50.00", "currency": "USD", "type": "eft"}, format="json"
    ).json()
    payment_process(payment_id=payment["id"])
    refund = api.post("/v1/refunds", {"payment_id": payment["id"], "amount": "1.00"}, format="json").json()
    api.post("/v1/customers", {"customer_id": "cus-owned-1", "email": "owned@example.com"}, format="json")
    balance_top_up(merchant_id=merchant.id, currency="USD", amount=100_000, operator="ops", note="test")
    disbursement = api.post(
        "/v1/disbursements",
        {"customer_id": "cus-owned-1", "amount": "10.00", "currency": "USD", "method": "paypal"},
        format="json",
    ).json()
    (settlement_id,) = settlement_run(day=datetime.now(UTC).date(), merchant_ids=[merchant.id]).settlements
    event = api.get("/v1/events").json()["data"][0]
    delivery = api.get(f"/v1/webhook_endpoints/{endpoint['id']}/deliveries").json()["data"][0]
    ids = {
        "payments": payment["id"],
        "refunds": refund["id"],
        "customers": "cus-owned-1",
        "disbursements": disbursement["id"],
        "settlements": settlement_id,
        "events": event["id"],
        "webhook_deliveries": delivery["id"],
        "webhook_endpoints": endpoint["id"],
    }
    assert all(ids.values()), ids
    return ids


def concrete(path: str, owned: dict) -> str:
    """The path with its parameter filled by the owner's object of that kind."""
    if "{" not in path:
        return path
    return re.sub(r"\{[^}]+\}", owned[path.split("/")[2]], path)


def refused(response, status: int, code: str, owned: dict) -> None:
    assert response.status_code == status, (response.status_code, response.content[:300])
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"type", "code", "message", "param"}
    assert body["error"]["code"] == code
    leaked = [value for value in owned.values() if value in response.content.decode()]
    assert leaked == [], leaked


@pytest.fixture
def callers(merchant, owned, payments_operator):
    """Everyone who must not act for ``merchant``: (name, client, status, code) of their refusal."""
    revoked_key, revoked_secret = api_key_issue(merchant=merchant)
    api_key_revoke(key=revoked_key)
    return [
        ("no key", APIClient(), 401, "authentication_required"),
        ("unknown key", keyed("sk_test_" + "x" * 43), 401, "invalid_api_key"),
        ("malformed key", keyed("not-a-key"), 401, "invalid_api_key"),
        ("revoked key", keyed(revoked_secret), 401, "invalid_api_key"),
        # A session, even an operator's with every payments permission, is not an API credential.
        ("operator session", payments_operator, 401, "authentication_required"),
    ]


def test_no_credential_but_the_owners_key_gets_in_anywhere(callers, owned):
    checked = 0
    for method, path in operations():
        url = concrete(path, owned)
        for name, client, status, code in callers:
            response = client.generic(method, url, "{}", content_type="application/json")
            try:
                refused(response, status, code, owned)
            except AssertionError as exc:
                raise AssertionError(f"{name}: {method} {url}: {exc}") from None
            checked += 1
    assert checked == len(operations()) * 5 >= 150


def test_another_merchants_key_finds_nothing_of_the_owners(owned):
    other = keyed(api_key_issue(merchant=merchant_create(name="Other"))[1])
    not_found = 0
    for method, path in operations():
        url = concrete(path, owned)
        if "{" in path:
            # As if the object did not exist: the same answer as for an id nobody has.
            owners_id = owned[path.split("/")[2]]
            nobodys_id = owners_id[:-4] + "Zz9q"
            response = other.generic(method, url, "{}", content_type="application/json")
            unknown = other.generic(
                method, url.replace(owners_id, nobodys_id), "{}", content_type="application/json"
            )
            # 404; or 400 where the body is checked first (the same for anyone's id).
            assert response.status_code == unknown.status_code, (method, url, response.content)
            assert response.status_code in (400, 404), (method, url, response.content)
            not_found += response.status_code == 404
            answer = response.content.decode().replace(owners_id, "<id>")
            assert answer == unknown.content.decode().replace(nobodys_id, "<id>"), (method, url)
        elif method == "GET":
            response = other.get(url)
            assert response.status_code == 200, (url, response.content[:300])
            leaked = [value for value in owned.values() if value in response.content.decode()]
            assert leaked == [], (url, leaked)
    assert not_found >= 20
    # Creating with a reference to the owner's objects is refused as not found, too.
    payout = {"amount": "1.00", "currency": "USD", "method": "paypal"}
    for path, body, field, owners_id in (
        ("/v1/refunds", {"amount": "1.00"}, "payment_id", owned["payments"]),
        ("/v1/disbursements", payout, "customer_id", owned["customers"]),
    ):
        nobodys_id = owners_id[:-4] + "Zz9q"
        response = other.post(path, body | {field: owners_id}, format="json")
        unknown = other.post(path, body | {field: nobodys_id}, format="json")
        assert response.status_code == unknown.status_code == 404, response.content
        answer = response.content.decode().replace(owners_id, "<id>")
        assert answer == unknown.content.decode().replace(nobodys_id, "<id>")
    assert other.get("/v1/balance").json()["available"] == []


def console_urls(owned) -> list[str]:
    """Every URL of every console page (lists, details, actions), ids filled in."""
    urls = []
    for model, model_admin in admin.site._registry.items():
        if not isinstance(model_admin, DynamoAdmin):
            continue
        base = f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
        for pattern in model_admin.get_urls():
            route = re.sub(r"<[^>]+>", "pay_5Fx", str(pattern.pattern))
            urls.append(base + route)
    return urls


def test_operators_without_the_permission_are_refused_on_every_console_url(owned, read_only_operator):
    nobody = User.objects.create_user(username="staff-only", password="pw", is_staff=True)
    no_permission = Client()
    no_permission.force_login(nobody)
    urls = console_urls(owned)
    assert len(urls) >= 20
    for url in urls:
        assert no_permission.get(url).status_code == 403, url
        assert no_permission.post(url).status_code == 403, url
        # The read-only group may look, never act: a POST is refused (403), not a page's method (405),
        # or (a read-only route) finds nothing to read.
        assert read_only_operator.post(url).status_code in (403, 404, 405), url
    # The API's own operational endpoints want staff (or the token), not just any login.
    assert operator_refused(Client(), "/metrics")
    customer = User.objects.create_user(username="not-staff", password="pw")
    logged_in = Client()
    logged_in.force_login(customer)
    assert operator_refused(logged_in, "/metrics") and operator_refused(logged_in, "/v1/health?deep=1")


def operator_refused(client: Client, url: str) -> bool:
    response = client.get(url)
    return response.status_code == 401 and response.json()["error"]["code"] == "authentication_required"


def test_the_read_only_operator_still_sees_what_it_may(owned, read_only_operator):
    page = read_only_operator.get(f"/admin/payments/payment/{owned['payments']}/")
    assert page.status_code == 200 and owned["payments"] in page.content.decode()
