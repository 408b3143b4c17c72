"""Webhook endpoints: register, list, change, delete, rotate the signing secret."""

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from payflow.api import ERROR, PAGING, ListQuery, MerchantViewSet, StrictSerializer, list_of, list_response
from payments.representations import iso

from .selectors import endpoint_get, endpoint_list
from .services import endpoint_create, endpoint_delete, endpoint_rotate_secret, endpoint_update
from .signing import secret_masked
from .tables import WebhookEndpoint

EVENT_TYPES = (
    "*",
    "payment.created",
    "payment.processing",
    "payment.authorized",
    "payment.completed",
    "payment.failed",
    "payment.canceled",
    "payment.partially_refunded",
    "payment.refunded",
    "refund.created",
    "refund.completed",
    "refund.failed",
    "customer.created",
    "customer.updated",
    "disbursement.created",
    "disbursement.completed",
    "disbursement.failed",
    "disbursement.returned",
    "settlement.completed",
)


def endpoint_representation(endpoint: WebhookEndpoint, *, reveal_secret: bool = False) -> dict:
    return {
        "id": endpoint.id,
        "object": "webhook_endpoint",
        "url": endpoint.url,
        "enabled_events": list(endpoint.enabled_events),
        "description": endpoint.description,
        "status": endpoint.status,
        "secret": endpoint.secret if reveal_secret else secret_masked(endpoint.secret),
        "created_at": iso(endpoint.created_at),
        "updated_at": iso(endpoint.updated_at),
    }


class EndpointCreateInput(StrictSerializer):
    url = serializers.URLField(max_length=2048)
    enabled_events = serializers.ListField(
        child=serializers.ChoiceField(choices=EVENT_TYPES), min_length=1, max_length=len(EVENT_TYPES)
    )
    description = serializers.CharField(max_length=500, required=False)


class EndpointUpdateInput(StrictSerializer):
    url = serializers.URLField(max_length=2048, required=False)
    enabled_events = serializers.ListField(
        child=serializers.ChoiceField(choices=EVENT_TYPES), min_length=1, required=False
    )
    description = serializers.CharField(max_length=500, required=False)
    disabled = serializers.BooleanField(required=False)


class EndpointOutput(serializers.Serializer):
    id = serializers.CharField()
    object = serializers.CharField()
    url = serializers.URLField()
    enabled_events = serializers.ListField(child=serializers.CharField())
    description = serializers.CharField(allow_null=True)
    status = serializers.ChoiceField(choices=("enabled", "disabled"))
    secret = serializers.CharField(
        help_text="whsec_… in full only when created or rotated; masked otherwise."
    )
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


@extend_schema_view(
    create=extend_schema(
        summary="Register a webhook endpoint",
        request=EndpointCreateInput,
        responses={201: EndpointOutput, 400: ERROR},
    ),
    list=extend_schema(
        summary="List webhook endpoints",
        parameters=PAGING,
        responses={200: list_of("WebhookEndpointList", EndpointOutput(many=True))},
    ),
    retrieve=extend_schema(
        summary="Retrieve a webhook endpoint", responses={200: EndpointOutput, 404: ERROR}
    ),
    partial_update=extend_schema(
        summary="Change a webhook endpoint",
        request=EndpointUpdateInput,
        responses={200: EndpointOutput, 400: ERROR, 404: ERROR},
    ),
    destroy=extend_schema(summary="Delete a webhook endpoint", responses={204: None, 404: ERROR}),
    rotate_secret=extend_schema(
        summary="Rotate the signing secret (the old one keeps signing for 24 h)",
        request=None,
        responses={200: EndpointOutput, 404: ERROR},
    ),
)
class WebhookEndpointViewSet(MerchantViewSet):
    def create(self, request):
        serializer = EndpointCreateInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        endpoint = endpoint_create(merchant_id=self.merchant_id, **serializer.validated_data)
        return Response(endpoint_representation(endpoint, reveal_secret=True), status=status.HTTP_201_CREATED)

    def list(self, request):
        query = ListQuery(data=request.query_params.dict())
        query.is_valid(raise_exception=True)
        page = endpoint_list(merchant_id=self.merchant_id, **query.validated_data)
        return list_response(page, endpoint_representation, "/v1/webhook_endpoints")

    def retrieve(self, request, pk=None):
        return Response(endpoint_representation(endpoint_get(merchant_id=self.merchant_id, endpoint_id=pk)))

    def partial_update(self, request, pk=None):
        serializer = EndpointUpdateInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        endpoint = endpoint_get(merchant_id=self.merchant_id, endpoint_id=pk)
        endpoint_update(endpoint=endpoint, **serializer.validated_data)
        return Response(endpoint_representation(endpoint_get(merchant_id=self.merchant_id, endpoint_id=pk)))

    def destroy(self, request, pk=None):
        endpoint_delete(endpoint=endpoint_get(merchant_id=self.merchant_id, endpoint_id=pk))
        return Response(status=status.HTTP_204_NO_CONTENT)

    @action(detail=True, methods=["post"])
    def rotate_secret(self, request, pk=None):
        endpoint = endpoint_rotate_secret(endpoint=endpoint_get(merchant_id=self.merchant_id, endpoint_id=pk))
        rotated = endpoint_get(merchant_id=self.merchant_id, endpoint_id=endpoint.id)
        return Response(endpoint_representation(rotated, reveal_secret=True))
