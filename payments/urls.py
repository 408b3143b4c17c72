from django.urls import path

from .apis import (
    PaymentCancelApi,
    PaymentCaptureApi,
    PaymentDetailApi,
    PaymentHistoryApi,
    PaymentsApi,
    RefundDetailApi,
    RefundsApi,
    SettlementDetailApi,
    SettlementReportApi,
    SettlementsApi,
)

urlpatterns = [
    path("payments", PaymentsApi.as_view(), name="payments"),
    path("payments/<str:payment_id>", PaymentDetailApi.as_view(), name="payment"),
    path("payments/<str:payment_id>/history", PaymentHistoryApi.as_view(), name="payment-history"),
    path("payments/<str:payment_id>/capture", PaymentCaptureApi.as_view(), name="payment-capture"),
    path("payments/<str:payment_id>/cancel", PaymentCancelApi.as_view(), name="payment-cancel"),
    path("refunds", RefundsApi.as_view(), name="refunds"),
    path("refunds/<str:refund_id>", RefundDetailApi.as_view(), name="refund"),
    path("settlements", SettlementsApi.as_view(), name="settlements"),
    path("settlements/<str:settlement_id>", SettlementDetailApi.as_view(), name="settlement"),
    path("settlements/<str:settlement_id>/report", SettlementReportApi.as_view(), name="settlement-report"),
]
