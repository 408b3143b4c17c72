from rest_framework.routers import SimpleRouter

from .apis import WebhookEndpointViewSet

router = SimpleRouter(trailing_slash=False)
router.register("webhook_endpoints", WebhookEndpointViewSet, basename="webhook-endpoint")

urlpatterns = router.urls
