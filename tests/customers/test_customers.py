import pytest

from payflow.events.tables import Event

pytestmark = pytest.mark.django_db


@pytest.fixture
def customer(api, aws):
    return api.post(
        "/v1/customers",
        {"customer_id": "unixuser1", "email": "unix@example.com", "name": "Unix User"},
        format="json",
    ).json()


def test_a_customer_is_created_and_found_by_either_id(api, customer):
    assert customer["id"].startswith("cus_") and customer["customer_id"] == "unixuser1"
    assert api.get(f"/v1/customers/{customer['id']}").json() == customer
    assert api.get("/v1/customers/unixuser1").json() == customer
    assert [e.type for e in Event.scan()] == ["customer.created"]


def test_the_merchants_customer_id_is_unique(api, customer):
    again = api.post("/v1/customers", {"customer_id": "unixuser1", "email": "x@example.com"}, format="json")
    assert again.status_code == 409
    assert again.json()["error"] | {"message": None} == {
        "type": "invalid_request_error",
        "code": "customer_exists",
        "message": None,
        "param": "customer_id",
    }


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"email": "not-an-email"}, "email"),
        ({}, "email"),
        ({"email": "a@b.co", "customer_id": "cus_x"}, "customer_id"),
    ],
)
def test_bad_customers_are_refused(api, aws, body, param):
    response = api.post("/v1/customers", body, format="json")
    assert (response.status_code, response.json()["error"]["param"]) == (400, param)


def test_a_customer_can_be_updated(api, customer):
    response = api.patch(
        f"/v1/customers/{customer['id']}", {"name": "Renamed", "metadata": {"tier": "gold"}}, format="json"
    )
    assert response.status_code == 200
    assert (response.json()["name"], response.json()["metadata"]) == ("Renamed", {"tier": "gold"})
    assert api.get("/v1/customers/unixuser1").json()["name"] == "Renamed"
    assert sorted(e.type for e in Event.scan()) == ["customer.created", "customer.updated"]


def test_customers_are_listed_newest_first_and_per_merchant(api, customer):
    second = api.post("/v1/customers", {"email": "second@example.com"}, format="json").json()
    listed = api.get("/v1/customers?limit=1").json()
    assert [c["id"] for c in listed["data"]] == [second["id"]] and listed["has_more"]
    rest = api.get(f"/v1/customers?starting_after={listed['next_cursor']}").json()["data"]
    assert [c["id"] for c in rest] == [customer["id"]]


def test_another_merchants_customer_is_not_found(customer, aws, client):
    from payflow.merchants.services import api_key_issue, merchant_create

    _, secret = api_key_issue(merchant=merchant_create(name="Other"))
    headers = {"HTTP_AUTHORIZATION": f"Bearer {secret}"}
    assert client.get(f"/v1/customers/{customer['id']}", **headers).status_code == 404
    assert client.get("/v1/customers/unixuser1", **headers).status_code == 404
    assert client.get("/v1/customers", **headers).json()["data"] == []


def test_customer_creation_is_idempotent(api, aws):
    body = {"email": "a@example.com", "idempotency_key": "c-1"}
    first = api.post("/v1/customers", body, format="json")
    again = api.post("/v1/customers", body, format="json")
    assert (first.status_code, again.status_code, again.json()) == (201, 200, first.json())
