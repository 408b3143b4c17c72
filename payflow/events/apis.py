from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response

from payflow.api import ERROR, ListQuery, MerchantApi, list_response

from .representations import event_representation
from .selectors import event_get, event_list

EventOutput = inline_serializer(
    "Event",
    {
        "id": serializers.CharField(),
        "object": serializers.CharField(),
        "type": serializers.CharField(),
        "api_version": serializers.CharField(),
        "created_at": serializers.DateTimeField(),
        "data": serializers.DictField(),
    },
)


class EventListQuery(ListQuery):
    type = serializers.CharField(required=False, max_length=64)


class EventsApi(MerchantApi):
    @extend_schema(
        summary="List events (kept 30 days)",
        parameters=[
            OpenApiParameter("type", str),
            OpenApiParameter("limit", int),
            OpenApiParameter("starting_after", str),
        ],
        responses={
            200: inline_serializer(
                "EventList",
                {
                    "object": serializers.CharField(),
                    "url": serializers.CharField(),
                    "data": serializers.ListField(child=serializers.DictField()),
                    "has_more": serializers.BooleanField(),
                    "next_cursor": serializers.CharField(allow_null=True),
                },
            ),
            400: ERROR,
        },
        operation_id="events_list",
        tags=["events"],
    )
    def get(self, request):
        query = EventListQuery(data=request.query_params.dict())
        query.is_valid(raise_exception=True)
        page = event_list(merchant_id=self.merchant_id, **query.validated_data)
        return list_response(page, event_representation, "/v1/events")


class EventDetailApi(MerchantApi):
    @extend_schema(
        summary="Retrieve an event",
        responses={200: EventOutput, 404: ERROR},
        operation_id="events_retrieve",
        tags=["events"],
    )
    def get(self, request, event_id):
        return Response(event_representation(event_get(merchant_id=self.merchant_id, event_id=event_id)))
