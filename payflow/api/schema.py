"""The OpenAPI document says what the API checks: no more, no less.

- ``AutoSchema``: a request string a serializer refuses when blank is
  documented with ``minLength: 1`` (drf-spectacular leaves it out), and the
  strict serializers' bodies with ``additionalProperties: false``.
- ``document_parameters`` (a postprocessing hook): the query and header
  parameters every list and every POST shares get their real bounds; the
  idempotent operations document their replay (200), a key in flight (409) and
  a key reused with other parameters (422); and each create links to the
  operations on what it created, so clients and schema fuzzers can follow
  ``id`` from one call to the next (OpenAPI links).
"""

import copy
import re

from drf_spectacular import openapi
from rest_framework import serializers

ERROR = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}

# By name, wherever they appear: what the query serializers (``ListQuery`` and
# its kin) and the idempotency check accept.
PARAMETER_SCHEMAS = {
    ("query", "limit"): {"type": "integer", "minimum": 1, "maximum": 100, "default": 10},
    # A cursor is what the previous page's next_cursor said: URL-safe base64, a dot, hex.
    ("query", "starting_after"): {
        "type": "string",
        "minLength": 1,
        "maxLength": 1024,
        "pattern": "^[A-Za-z0-9_-]+\\.[0-9a-f]+$",
    },
    ("query", "customer_id"): {"type": "string", "minLength": 1, "maxLength": 255},
    ("query", "payment_id"): {"type": "string", "minLength": 1, "maxLength": 255},
    ("query", "type"): {"type": "string", "minLength": 1, "maxLength": 100},
    ("query", "created[gte]"): {"type": "string", "format": "date-time"},
    ("query", "created[lt]"): {"type": "string", "format": "date-time"},
    ("header", "Idempotency-Key"): {
        "type": "string",
        "minLength": 1,
        "maxLength": 255,
        "pattern": "^[\\x20-\\x7e]+$",
    },
}


class AutoSchema(openapi.AutoSchema):
    def _map_serializer(self, serializer, direction, bypass_extensions=False):
        from payflow.api import StrictSerializer

        schema = super()._map_serializer(serializer, direction, bypass_extensions)
        if isinstance(serializer, StrictSerializer):
            schema["additionalProperties"] = False  # unknown fields are refused, by name
        return schema

    def _map_serializer_field(self, field, direction, bypass_extensions=False):
        schema = super()._map_serializer_field(field, direction, bypass_extensions)
        if (
            direction == "request"
            and isinstance(field, serializers.CharField)
            and not field.allow_blank
            and schema.get("type") == "string"
            and "enum" not in schema
            and "minLength" not in schema
        ):
            schema["minLength"] = 1
        return schema


def document_parameters(result, generator, request, public):
    paths = result.get("paths", {})
    for operations in paths.values():
        for operation in operations.values():
            for parameter in operation.get("parameters", []):
                bounds = PARAMETER_SCHEMAS.get((parameter["in"], parameter["name"]))
                if bounds is not None:
                    parameter["schema"] = {**parameter["schema"], **bounds}
            if any(p["name"] == "Idempotency-Key" for p in operation.get("parameters", [])):
                _document_idempotency(operation)
    _link_creates(paths)
    return result


def _document_idempotency(operation) -> None:
    responses = operation["responses"]
    responses.setdefault(
        "409",
        {"description": "The first request with this key still runs (`idempotency_key_in_use`); retry."},
    )
    responses.setdefault(
        "422",
        {
            "description": "The key was used with other parameters (`idempotency_key_reused`).",
            "content": ERROR,
        },
    )
    responses["409"].setdefault("content", ERROR)
    if "201" in responses and "200" not in responses:
        replay = copy.deepcopy(responses["201"])
        replay["description"] = "A replay of the first request with this key (`Idempotent-Replayed: true`)."
        responses["200"] = replay


def _link_creates(paths) -> None:
    """``POST /v1/things`` (201) links to every operation on ``/v1/things/{id}…``."""
    for path, operations in paths.items():
        create = operations.get("post")
        if create is None or "201" not in create["responses"] or "{" in path:
            continue
        links = {}
        for other_path, other_operations in paths.items():
            match = re.fullmatch(re.escape(path) + r"/\{(\w+)\}(/.*)?", other_path)
            if match is None:
                continue
            for other in other_operations.values():
                links[other["operationId"]] = {
                    "operationId": other["operationId"],
                    "parameters": {match.group(1): "$response.body#/id"},
                }
        if links:
            for status in ("201", "200"):
                if status in create["responses"]:
                    create["responses"][status]["links"] = links
