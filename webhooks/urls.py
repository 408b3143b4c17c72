from django.urls import path
from rest_framework.routers import SimpleRouter

from .apis import DeliveryDetailApi, EventDeliveriesApi, EventRedeliverApi, WebhookEndpointViewSet

router = SimpleRouter(trailing_slash=False)
router.register("webhook_endpoints", WebhookEndpointViewSet, basename="webhook-endpoint")

urlpatterns = [
    *router.urls,
    path("events/<str:event_id>/deliveries", EventDeliveriesApi.as_view(), name="event-deliveries"),
    path("events/<str:event_id>/redeliver", EventRedeliverApi.as_view(), name="event-redeliver"),
    path("webhook_deliveries/<str:delivery_id>", DeliveryDetailApi.as_view(), name="webhook-delivery"),
]
