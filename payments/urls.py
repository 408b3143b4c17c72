from django.urls import path

from .apis import PaymentCancelApi, PaymentCaptureApi, PaymentDetailApi, PaymentHistoryApi, PaymentsApi

urlpatterns = [
    path("payments", PaymentsApi.as_view(), name="payments"),
    path("payments/<str:payment_id>", PaymentDetailApi.as_view(), name="payment"),
    path("payments/<str:payment_id>/history", PaymentHistoryApi.as_view(), name="payment-history"),
    path("payments/<str:payment_id>/capture", PaymentCaptureApi.as_view(), name="payment-capture"),
    path("payments/<str:payment_id>/cancel", PaymentCancelApi.as_view(), name="payment-cancel"),
]
