"""Pieces every API view shares: strict input serializers and list envelopes."""

from drf_spectacular.drainage import set_override
from drf_spectacular.utils import OpenApiParameter, extend_schema_field, inline_serializer
from rest_framework import serializers, viewsets
from rest_framework.response import Response
from rest_framework.views import APIView

# OpenAPI pieces every endpoint shares.
ERROR = {"$ref": "#/components/schemas/Error"}
IDEMPOTENCY_HEADER = OpenApiParameter("Idempotency-Key", str, OpenApiParameter.HEADER)
PAGING = [OpenApiParameter("limit", int), OpenApiParameter("starting_after", str)]


class StrictSerializer(serializers.Serializer):
    """Refuses fields it does not know, naming the first one (like Stripe's ``param``), and
    strings sent as other JSON types (DRF would turn ``{"name": -270}`` into ``"-270"``)."""

    def to_internal_value(self, data):
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError({unknown[0]: ["Unknown field."]})
            for name, field in self.fields.items():
                problem = _not_strings(field, data.get(name)) or _too_long(field, data.get(name))
                if problem:
                    raise serializers.ValidationError({name: [problem]})
        return super().to_internal_value(data)


def _too_long(field, value) -> str | None:
    """The length limit holds for what was sent: DRF would trim whitespace first and let
    a ``"\\r"`` + 500 characters through a limit of 500 (the schema says otherwise)."""
    limit = getattr(field, "max_length", None)
    if isinstance(field, serializers.CharField) and limit and isinstance(value, str) and len(value) > limit:
        return f"Ensure this field has no more than {limit} characters."
    return None


def _is_text(field) -> bool:
    return isinstance(field, (serializers.CharField, serializers.ChoiceField))


def _not_strings(field, value) -> str | None:
    """Why ``value`` is the wrong JSON type for a text field (or a list or map of text), if it is."""
    if value is None:
        return None
    if _is_text(field) and not isinstance(value, str):
        return "Must be a string."
    texts = _is_text(getattr(field, "child", None))
    if isinstance(field, serializers.DictField) and texts and isinstance(value, dict):
        return (
            "Values must be strings." if any(not isinstance(v, str | None) for v in value.values()) else None
        )
    if isinstance(field, serializers.ListField) and texts and isinstance(value, list):
        return "Items must be strings." if any(not isinstance(v, str) for v in value) else None
    return None


class JsonBooleanField(serializers.BooleanField):
    """true or false, as JSON says: not 0, 1, "yes" or "on" (DRF's BooleanField takes those)."""

    def to_internal_value(self, data):
        if not isinstance(data, bool):
            self.fail("invalid", input=data)
        return data


class ListQuery(StrictSerializer):
    limit = serializers.IntegerField(min_value=1, max_value=100, default=10)
    starting_after = serializers.CharField(required=False, max_length=1024)


@extend_schema_field({"oneOf": [{"type": "string", "example": "250.00"}, {"type": "number"}]})
class AmountField(serializers.Field):
    """Kept as sent (decimal string, integer or JSON number as Decimal); checked against the currency."""

    def to_internal_value(self, data):
        return data

    def to_representation(self, value):
        return value


class MerchantApi(APIView):
    """A view for API-key callers; ``self.merchant_id`` is the caller's merchant."""

    @property
    def merchant_id(self) -> str:
        return self.request.user.merchant_id


class MerchantViewSet(viewsets.ViewSet):
    """A viewset for API-key callers; ``self.merchant_id`` is the caller's merchant."""

    lookup_value_regex = "[^/]+"

    @property
    def merchant_id(self) -> str:
        return self.request.user.merchant_id


def list_of(name: str, item: serializers.Serializer):
    """The OpenAPI schema of a list envelope of ``item``."""
    envelope = inline_serializer(
        name,
        {
            "object": serializers.CharField(),
            "url": serializers.CharField(),
            "data": item,
            "has_more": serializers.BooleanField(),
            "next_cursor": serializers.CharField(allow_null=True),
        },
    )
    # A viewset's ``list`` action would otherwise be documented as a bare array of envelopes.
    set_override(envelope, "many", False)
    return envelope


def list_body(*, data: list, has_more: bool, next_cursor: str | None, url: str) -> dict:
    return {"object": "list", "url": url, "data": data, "has_more": has_more, "next_cursor": next_cursor}


def list_response(page, render, url: str) -> Response:
    """A page of objects (from ``query_page``) as the list envelope."""
    return Response(
        list_body(
            data=[render(i) for i in page.items],
            has_more=page.has_more,
            next_cursor=page.next_cursor,
            url=url,
        )
    )
