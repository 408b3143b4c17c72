from datetime import UTC, datetime, timedelta

import pytest
from rest_framework.test import APIClient

from payflow.merchants.services import api_key_issue, merchant_create
from payments.services import payment_process

pytestmark = pytest.mark.django_db


@pytest.fixture
def other_api(db):
    _, secret = api_key_issue(merchant=merchant_create(name="Other Ltd"))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client


def test_a_payment_can_be_read_back(api, create_payment):
    created = create_payment().json()
    response = api.get(f"/v1/payments/{created['id']}")
    assert response.status_code == 200
    assert response.json() == created


def test_another_merchants_payment_is_not_found_and_not_listed(create_payment, other_api):
    payment_id = create_payment().json()["id"]
    response = other_api.get(f"/v1/payments/{payment_id}")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    assert other_api.get(f"/v1/payments/{payment_id}/history").status_code == 404
    assert other_api.get("/v1/payments").json()["data"] == []


def test_an_unknown_payment_is_a_404(api, aws):
    assert api.get("/v1/payments/pay_nope").status_code == 404


def test_lists_are_newest_first_and_paginate_with_a_cursor(api, create_payment):
    ids = [create_payment(idempotency_key=None).json()["id"] for _ in range(5)]
    first = api.get("/v1/payments?limit=2").json()
    assert first["object"] == "list"
    assert [p["id"] for p in first["data"]] == ids[::-1][:2]
    assert first["has_more"] is True
    second = api.get(f"/v1/payments?limit=2&starting_after={first['next_cursor']}").json()
    third = api.get(f"/v1/payments?limit=2&starting_after={second['next_cursor']}").json()
    assert [p["id"] for p in second["data"] + third["data"]] == ids[::-1][2:]
    assert third["has_more"] is False and third["next_cursor"] is None


def test_lists_filter_by_status_and_customer(api, create_payment):
    done = create_payment(idempotency_key=None, customer_id="cus_1").json()["id"]
    create_payment(idempotency_key=None, customer_id="cus_1")
    create_payment(idempotency_key=None, customer_id="cus_2")
    payment_process(payment_id=done)

    completed = api.get("/v1/payments?status=completed").json()["data"]
    assert [p["id"] for p in completed] == [done]
    assert len(api.get("/v1/payments?status=pending").json()["data"]) == 2
    assert len(api.get("/v1/payments?customer_id=cus_1").json()["data"]) == 2
    both = api.get("/v1/payments?customer_id=cus_1&status=completed").json()["data"]
    assert [p["id"] for p in both] == [done]


def test_lists_filter_by_creation_time(api, create_payment):
    payment = create_payment().json()
    created = datetime.fromisoformat(payment["created_at"].replace("Z", "+00:00"))
    before, after = (created - timedelta(seconds=1)).isoformat(), (created + timedelta(seconds=1)).isoformat()
    assert len(api.get("/v1/payments", {"created[gte]": before}).json()["data"]) == 1
    assert len(api.get("/v1/payments", {"created[gte]": after}).json()["data"]) == 0
    assert len(api.get("/v1/payments", {"created[lt]": after}).json()["data"]) == 1
    assert len(api.get("/v1/payments", {"created[gte]": before, "created[lt]": after}).json()["data"]) == 1
    assert datetime.now(UTC) > created


@pytest.mark.parametrize(
    ("query", "param"),
    [
        ("limit=0", "limit"),
        ("limit=101", "limit"),
        ("status=lost", "status"),
        ("starting_after=forged", "starting_after"),
        ("created[gte]=yesterday", "created[gte]"),
        ("color=red", "color"),
    ],
)
def test_bad_list_parameters_are_a_400(api, aws, query, param):
    response = api.get(f"/v1/payments?{query}")
    assert response.status_code == 400
    assert response.json()["error"]["param"] == param


def test_a_cursor_only_works_for_the_list_it_came_from(api, create_payment, other_api):
    for _ in range(2):
        create_payment(idempotency_key=None, customer_id="cus_1")
    cursor = api.get("/v1/payments?limit=1").json()["next_cursor"]
    assert api.get(f"/v1/payments?status=pending&starting_after={cursor}").status_code == 400
    assert other_api.get(f"/v1/payments?starting_after={cursor}").status_code == 400


def test_history_shows_every_transition(api, create_payment):
    payment_id = create_payment().json()["id"]
    payment_process(payment_id=payment_id)
    history = api.get(f"/v1/payments/{payment_id}/history").json()["data"]
    assert [(h["from"], h["to"], h["actor"]) for h in history] == [
        (None, "pending", "api"),
        ("pending", "processing", "worker"),
        ("processing", "completed", "worker"),
    ]


def test_a_created_range_from_any_year_or_reversed_answers_a_list(api, create_payment):
    from payflow.aws.dynamodb import time_key

    # Keys sort as text: a year before 1000 is padded, or it would sort after 2026.
    assert time_key(datetime(222, 6, 1, tzinfo=UTC)) < time_key(datetime(2026, 1, 1, tzinfo=UTC))
    payment_id = create_payment(idempotency_key=None).json()["id"]
    since_222 = {"created[gte]": "0222-05-31T15:24:05.4-19:55", "created[lt]": "2999-01-01T00:00:00Z"}
    assert [p["id"] for p in api.get("/v1/payments", since_222).json()["data"]] == [payment_id]
    reversed_range = {"created[gte]": "2030-01-01T00:00:00Z", "created[lt]": "2020-01-01T00:00:00Z"}
    response = api.get("/v1/payments", reversed_range)
    assert response.status_code == 200 and response.json()["data"] == []
