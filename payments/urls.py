from django.urls import path

from .apis import PaymentDetailApi, PaymentHistoryApi, PaymentsApi

urlpatterns = [
    path("payments", PaymentsApi.as_view(), name="payments"),
    path("payments/<str:payment_id>", PaymentDetailApi.as_view(), name="payment"),
    path("payments/<str:payment_id>/history", PaymentHistoryApi.as_view(), name="payment-history"),
]
