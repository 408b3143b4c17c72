"""Webhook endpoints, their deliveries, and replays."""

from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from payflow.api import (
    ERROR,
    IDEMPOTENCY_HEADER,
    PAGING,
    JsonBooleanField,
    ListQuery,
    MerchantApi,
    MerchantViewSet,
    StrictSerializer,
    list_body,
    list_of,
    list_response,
)
from payflow.events.selectors import event_get
from payflow.events.services import EVENT_TYPES, RETENTION
from payflow.idempotency.http import idempotent_response
from payments.representations import iso

from .representations import delivery_representation, endpoint_representation
from .selectors import (
    delivery_get,
    delivery_list_for_endpoint,
    delivery_list_for_event,
    endpoint_get,
    endpoint_list,
)
from .services import (
    endpoint_create,
    endpoint_delete,
    endpoint_recover_start,
    endpoint_rotate_secret,
    endpoint_test,
    endpoint_update,
    event_redeliver,
)

SUBSCRIBABLE = ("*", *EVENT_TYPES)
DELIVERY_STATUSES = ("pending", "succeeded", "failed")


class EndpointCreateInput(StrictSerializer):
    url = serializers.URLField(max_length=2048)
    enabled_events = serializers.ListField(
        child=serializers.ChoiceField(choices=SUBSCRIBABLE), min_length=1, max_length=len(SUBSCRIBABLE)
    )
    description = serializers.CharField(max_length=500, required=False)


class EndpointUpdateInput(StrictSerializer):
    url = serializers.URLField(max_length=2048, required=False)
    enabled_events = serializers.ListField(
        child=serializers.ChoiceField(choices=SUBSCRIBABLE),
        min_length=1,
        max_length=len(SUBSCRIBABLE),
        required=False,
    )
    description = serializers.CharField(max_length=500, required=False)
    disabled = JsonBooleanField(required=False)


class EndpointOutput(serializers.Serializer):
    id = serializers.CharField()
    object = serializers.CharField()
    url = serializers.URLField()
    enabled_events = serializers.ListField(child=serializers.CharField())
    description = serializers.CharField(allow_null=True)
    status = serializers.ChoiceField(choices=("enabled", "disabled"))
    disabled_reason = serializers.CharField(allow_null=True)
    failing_since = serializers.DateTimeField(
        allow_null=True, help_text="Since when every attempt has failed; disabled after 5 days of it."
    )
    secret = serializers.CharField(
        help_text="whsec_… in full only when created or rotated; masked otherwise."
    )
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class AttemptOutput(serializers.Serializer):
    at = serializers.DateTimeField()
    trigger = serializers.ChoiceField(choices=("scheduled", "manual", "test"))
    status_code = serializers.IntegerField(allow_null=True)
    latency_ms = serializers.IntegerField()
    response_body = serializers.CharField(allow_null=True, help_text="The first 2 KB of the answer.")
    error = serializers.CharField(allow_null=True)


class DeliveryOutput(serializers.Serializer):
    id = serializers.CharField()
    object = serializers.CharField()
    event_id = serializers.CharField()
    event_type = serializers.CharField()
    endpoint_id = serializers.CharField()
    status = serializers.ChoiceField(choices=DELIVERY_STATUSES)
    attempt_count = serializers.IntegerField()
    next_attempt_at = serializers.DateTimeField(allow_null=True)
    last_attempt_at = serializers.DateTimeField(allow_null=True)
    last_status_code = serializers.IntegerField(allow_null=True)
    last_error = serializers.CharField(allow_null=True)
    attempts = AttemptOutput(many=True, help_text="The latest 25 attempts, oldest first.")
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class DeliveryListQuery(ListQuery):
    status = serializers.ChoiceField(choices=DELIVERY_STATUSES, required=False)


class RecoverInput(StrictSerializer):
    since = serializers.DateTimeField(help_text="Redeliver every failed delivery created since then.")

    def validate_since(self, since):
        if since > timezone.now():
            raise serializers.ValidationError("Must not be in the future.")
        return max(since, timezone.now() - RETENTION)


class RecoveryOutput(serializers.Serializer):
    object = serializers.CharField()
    endpoint_id = serializers.CharField()
    since = serializers.DateTimeField()
    until = serializers.DateTimeField()
    status = serializers.CharField()


class RedeliverInput(StrictSerializer):
    endpoint = serializers.CharField(
        max_length=64, required=False, help_text="Only to this endpoint (it need not have had the event yet)."
    )


DELIVERY_LIST = list_of("WebhookDeliveryList", DeliveryOutput(many=True))
DELIVERY_FILTERS = [OpenApiParameter("status", str, enum=DELIVERY_STATUSES), *PAGING]


@extend_schema_view(
    create=extend_schema(
        summary="Register a webhook endpoint",
        parameters=[IDEMPOTENCY_HEADER],
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
        summary="Change, disable or enable a webhook endpoint",
        request=EndpointUpdateInput,
        responses={200: EndpointOutput, 400: ERROR, 404: ERROR},
    ),
    destroy=extend_schema(summary="Delete a webhook endpoint", responses={204: None, 404: ERROR}),
    rotate_secret=extend_schema(
        summary="Rotate the signing secret (the old one keeps signing for 24 h)",
        parameters=[IDEMPOTENCY_HEADER],
        request=None,
        responses={200: EndpointOutput, 404: ERROR},
    ),
    test=extend_schema(
        summary="Send a webhook.test event now and return the attempt's result",
        parameters=[IDEMPOTENCY_HEADER],
        request=None,
        responses={200: DeliveryOutput, 404: ERROR, 409: ERROR},
    ),
    recover=extend_schema(
        summary="Redeliver every failed delivery since a time (in the background)",
        parameters=[IDEMPOTENCY_HEADER],
        request=RecoverInput,
        responses={202: RecoveryOutput, 400: ERROR, 404: ERROR, 409: ERROR, 503: ERROR},
    ),
    deliveries=extend_schema(
        summary="List the endpoint's deliveries, newest first (status=failed: its dead letters)",
        parameters=DELIVERY_FILTERS,
        responses={200: DELIVERY_LIST, 404: ERROR},
    ),
)
class WebhookEndpointViewSet(MerchantViewSet):
    def create(self, request):
        serializer = EndpointCreateInput(data=request.data)
        serializer.is_valid(raise_exception=True)

        def create(claim):
            endpoint = endpoint_create(merchant_id=self.merchant_id, **serializer.validated_data)
            return 201, endpoint_representation(endpoint, reveal_secret=True)

        return idempotent_response(request, merchant_id=self.merchant_id, work=create)

    def list(self, request):
        query = ListQuery(data=request.query_params.dict())
        query.is_valid(raise_exception=True)
        page = endpoint_list(merchant_id=self.merchant_id, **query.validated_data)
        return list_response(page, endpoint_representation, "/v1/webhook_endpoints")

    def retrieve(self, request, pk=None):
        return Response(endpoint_representation(self._endpoint(pk)))

    def partial_update(self, request, pk=None):
        serializer = EndpointUpdateInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        endpoint = endpoint_update(endpoint=self._endpoint(pk), **serializer.validated_data)
        return Response(endpoint_representation(endpoint))

    def destroy(self, request, pk=None):
        endpoint_delete(endpoint=self._endpoint(pk))
        return Response(status=status.HTTP_204_NO_CONTENT)

    @action(detail=True, methods=["post"])
    def rotate_secret(self, request, pk=None):
        def rotate(claim):
            endpoint = endpoint_rotate_secret(endpoint=self._endpoint(pk))
            return 200, endpoint_representation(endpoint, reveal_secret=True)

        return idempotent_response(request, merchant_id=self.merchant_id, work=rotate)

    @action(detail=True, methods=["post"])
    def test(self, request, pk=None):
        def send(claim):
            return 200, delivery_representation(endpoint_test(endpoint=self._endpoint(pk)))

        return idempotent_response(request, merchant_id=self.merchant_id, work=send)

    @action(detail=True, methods=["post"])
    def recover(self, request, pk=None):
        serializer = RecoverInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        since = serializer.validated_data["since"]

        def recover(claim):
            endpoint = self._endpoint(pk)
            until = endpoint_recover_start(endpoint=endpoint, since=since)
            body = {
                "object": "webhook_recovery",
                "endpoint_id": endpoint.id,
                "since": iso(since),
                "until": iso(until),
                "status": "queued",
            }
            return 202, body

        return idempotent_response(request, merchant_id=self.merchant_id, work=recover)

    @action(detail=True, methods=["get"])
    def deliveries(self, request, pk=None):
        query = DeliveryListQuery(data=request.query_params.dict())
        query.is_valid(raise_exception=True)
        endpoint = self._endpoint(pk)
        page = delivery_list_for_endpoint(endpoint_id=endpoint.id, **query.validated_data)
        return list_response(page, delivery_representation, f"/v1/webhook_endpoints/{endpoint.id}/deliveries")

    def _endpoint(self, endpoint_id):
        return endpoint_get(merchant_id=self.merchant_id, endpoint_id=endpoint_id)


class EventDeliveriesApi(MerchantApi):
    @extend_schema(
        summary="List an event's webhook deliveries",
        parameters=PAGING,
        responses={200: DELIVERY_LIST, 404: ERROR},
        operation_id="events_deliveries",
        tags=["events"],
    )
    def get(self, request, event_id):
        query = ListQuery(data=request.query_params.dict())
        query.is_valid(raise_exception=True)
        event = event_get(merchant_id=self.merchant_id, event_id=event_id)
        page = delivery_list_for_event(event_id=event.id, **query.validated_data)
        return list_response(page, delivery_representation, f"/v1/events/{event.id}/deliveries")


class EventRedeliverApi(MerchantApi):
    @extend_schema(
        summary="Deliver an event again, to one endpoint or to every endpoint that takes its type",
        parameters=[IDEMPOTENCY_HEADER],
        request=RedeliverInput,
        responses={202: DELIVERY_LIST, 400: ERROR, 404: ERROR, 409: ERROR},
        operation_id="events_redeliver",
        tags=["events"],
    )
    def post(self, request, event_id):
        serializer = RedeliverInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        endpoint_id = serializer.validated_data.get("endpoint")

        def redeliver(claim):
            event = event_get(merchant_id=self.merchant_id, event_id=event_id)
            endpoint = None
            if endpoint_id is not None:
                endpoint = endpoint_get(merchant_id=self.merchant_id, endpoint_id=endpoint_id)
            deliveries = event_redeliver(event=event, endpoint=endpoint)
            url = f"/v1/events/{event.id}/deliveries"
            data = [delivery_representation(d) for d in deliveries]
            return 202, list_body(data=data, has_more=False, next_cursor=None, url=url)

        return idempotent_response(request, merchant_id=self.merchant_id, work=redeliver)


class DeliveryDetailApi(MerchantApi):
    @extend_schema(
        summary="Retrieve a webhook delivery with its attempts",
        responses={200: DeliveryOutput, 404: ERROR},
        operation_id="webhook_deliveries_retrieve",
        tags=["webhook_deliveries"],
    )
    def get(self, request, delivery_id):
        return Response(
            delivery_representation(delivery_get(merchant_id=self.merchant_id, delivery_id=delivery_id))
        )
