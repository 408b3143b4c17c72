from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from payflow.events.apis import EventDetailApi, EventsApi
from payflow.observability.apis import HealthApi
from payflow.observability.views import metrics_view

urlpatterns = [
    path("v1/health", HealthApi.as_view(), name="health"),
    path("v1/schema", SpectacularAPIView.as_view(), name="schema"),
    path("v1/docs", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
    path("v1/redoc", SpectacularRedocView.as_view(url_name="schema"), name="redoc"),
    path("v1/events", EventsApi.as_view(), name="events"),
    path("v1/events/<str:event_id>", EventDetailApi.as_view(), name="event"),
    path("v1/", include("payments.urls")),
    path("v1/", include("customers.urls")),
    path("v1/", include("webhooks.urls")),
    path("admin/", admin.site.urls),
    path("metrics", metrics_view, name="metrics"),
]

handler400 = "payflow.errors.handlers.bad_request"
handler403 = "payflow.errors.handlers.permission_denied"
handler404 = "payflow.errors.handlers.page_not_found"
handler500 = "payflow.errors.handlers.server_error"
