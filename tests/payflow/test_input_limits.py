import io
import json
from decimal import Decimal

import pytest
from rest_framework import serializers

from payflow.api import StrictSerializer
from payflow.errors import ApplicationError
from payflow.money.parsers import DecimalJSONParser

pytestmark = pytest.mark.django_db

PAYMENT = {"amount": "10.00", "currency": "USD", "type": "eft"}


def post(api, body: bytes):
    return api.generic("POST", "/v1/payments", body, content_type="application/json")


def test_a_body_over_64_kib_gets_413_and_writes_nothing(api, aws):
    big = json.dumps(PAYMENT | {"description": "x" * (64 * 1024)}).encode()
    response = post(api, big)
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "request_too_large"
    assert api.get("/v1/payments").json()["data"] == []
    # Just under the cap, the body is read (and refused for what it says, not its size).
    assert post(api, json.dumps(PAYMENT | {"description": "x" * 60_000}).encode()).status_code == 400


def test_a_body_without_a_length_is_bounded_by_the_parser(settings):
    parser = DecimalJSONParser()
    with pytest.raises(ApplicationError) as refused:
        parser.parse(io.BytesIO(b"[" + b"1," * 40_000 + b"1]"))
    assert refused.value.status == 413
    assert parser.parse(io.BytesIO(b'{"amount": 1.10}')) == {"amount": Decimal("1.10")}


@pytest.mark.parametrize(
    "body",
    [
        b'{"metadata": ' + b'{"a": ' * 10 + b"1" + b"}" * 10 + b"}",  # 11 deep
        b"[" * 20_000 + b"]" * 20_000,  # deep enough to exhaust the JSON scanner's recursion
    ],
)
def test_nesting_deeper_than_10_is_refused_clearly(api, aws, body):
    response = post(api, body)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid_request" and "more than 10 deep" in error["message"]


def test_more_than_1000_fields_and_items_are_refused(api, aws):
    body = PAYMENT | {"metadata": {f"k{i}": "v" for i in range(1001)}}
    response = post(api, json.dumps(body).encode())
    assert response.status_code == 400
    assert "more than 1000 fields" in response.json()["error"]["message"]


def test_numbers_stay_decimal_and_constants_are_refused(api, aws):
    response = post(api, b'{"amount": NaN, "currency": "USD", "type": "eft"}')
    assert response.status_code == 400 and response.json()["error"]["code"] == "malformed_json"
    response = post(api, b'{"amount": 10.10, "currency": "USD", "type": "eft"}')
    assert response.status_code == 201 and response.json()["amount"] == "10.10"


def _input_serializers() -> list[type[StrictSerializer]]:
    import customers.apis  # noqa: F401 - their serializers register as subclasses
    import payments.apis  # noqa: F401
    import webhooks.apis  # noqa: F401

    found, pending = [], [StrictSerializer]
    while pending:
        cls = pending.pop()
        found.append(cls)
        pending.extend(cls.__subclasses__())
    return found


def _unbounded(field, path: str) -> list[str]:
    if isinstance(field, serializers.Serializer):
        return [p for name, child in field.fields.items() for p in _unbounded(child, f"{path}.{name}")]
    if isinstance(field, (serializers.ListField, serializers.DictField)):
        own = [] if isinstance(field, serializers.DictField) or field.max_length else [path]
        return own + _unbounded(field.child, f"{path}[]")
    if isinstance(field, serializers.ListSerializer):
        return ([] if field.max_length else [path]) + _unbounded(field.child, f"{path}[]")
    if isinstance(field, serializers.CharField) and not isinstance(field, serializers.ChoiceField):
        return [] if field.max_length else [path]
    return []


def test_every_string_and_list_an_api_accepts_has_a_maximum_length():
    unbounded = [
        path
        for cls in _input_serializers()
        for name, field in cls().fields.items()
        for path in _unbounded(field, f"{cls.__module__}.{cls.__name__}.{name}")
    ]
    assert unbounded == []


def test_a_boolean_is_true_or_false_not_a_number_or_a_word(api, aws):
    for value in (0, 1, "true", "yes"):
        response = post(api, json.dumps(PAYMENT | {"capture": value}).encode())
        assert response.status_code == 400 and response.json()["error"]["param"] == "capture", value
    assert post(api, json.dumps(PAYMENT | {"capture": False}).encode()).status_code == 201


def test_a_url_over_8_kib_gets_414_in_the_error_shape(api, aws):
    response = api.get("/v1/payments", {"starting_after": "x" * 9000})
    assert response.status_code == 414
    assert response.json()["error"]["code"] == "uri_too_long"
    assert api.get("/v1/payments", {"starting_after": "x" * 1025}).status_code == 400


@pytest.mark.parametrize(
    ("change", "param"),
    [
        ({"description": -270}, "description"),
        ({"currency": 840}, "currency"),
        ({"type": 1}, "type"),
        ({"metadata": {"order": 42}}, "metadata"),
    ],
)
def test_text_must_be_sent_as_a_json_string(api, aws, change, param):
    response = post(api, json.dumps(PAYMENT | change).encode())
    assert response.status_code == 400 and response.json()["error"]["param"] == param


def test_a_length_limit_counts_what_was_sent_not_what_is_left_after_trimming():
    class Described(StrictSerializer):
        description = serializers.CharField(max_length=5)

    assert Described(data={"description": " abcde "}).is_valid() is False  # found by Schemathesis
    assert Described(data={"description": "abcde"}).is_valid() is True
