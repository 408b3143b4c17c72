import hashlib

from django.conf import settings
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from payflow.api import (
    ERROR,
    IDEMPOTENCY_HEADER,
    AmountField,
    JsonBooleanField,
    ListQuery,
    MerchantApi,
    StrictSerializer,
    list_body,
    list_of,
    list_response,
)
from payflow.idempotency.http import idempotent_response
from payflow.money import MoneyError, amount_to_minor, normalize_currency, to_minor_units

from .cards import CardError, card_intake
from .providers.sandbox import TEST_OUTCOMES
from .representations import iso, payment_representation, refund_representation, settlement_representation
from .selectors import (
    payment_get,
    payment_history,
    payment_list,
    refund_get,
    refund_list,
    settlement_get,
    settlement_list,
    settlement_report,
)
from .services import payment_cancel, payment_capture, payment_create, refund_create

PAYMENT_TYPES = ("card", "eft", "ach", "wire", "upi", "wallet")
STATUSES = (
    "pending",
    "processing",
    "authorized",
    "completed",
    "failed",
    "canceled",
    "partially_refunded",
    "refunded",
)
METADATA_MAX_KEYS = 20


class CardInput(StrictSerializer):
    number = serializers.CharField(max_length=32, trim_whitespace=True)
    exp_month = serializers.IntegerField()
    exp_year = serializers.IntegerField()
    cvc = serializers.CharField(max_length=4)


class PaymentCreateInput(StrictSerializer):
    amount = AmountField(
        help_text='In major units: "250.00" (or a JSON number). Never more decimals than the currency has.'
    )
    currency = serializers.CharField(max_length=3, help_text="ISO 4217, e.g. CAD.")
    type = serializers.ChoiceField(choices=PAYMENT_TYPES)
    description = serializers.CharField(max_length=1000, required=False, allow_null=True, allow_blank=True)
    merchant = serializers.CharField(
        max_length=200, required=False, allow_null=True, help_text="The payee/descriptor."
    )
    customer_id = serializers.CharField(max_length=255, required=False, allow_null=True)
    metadata = serializers.DictField(
        child=serializers.CharField(max_length=500, allow_blank=True),
        required=False,
        help_text='Up to 20 string values. Sandbox: "test_outcome" asks for an outcome '
        f"({', '.join(sorted(TEST_OUTCOMES))}).",
    )
    card = CardInput(required=False, help_text="Required for type card; refused otherwise. Never stored.")
    capture = JsonBooleanField(
        default=True, help_text="false: only authorize now; capture later with /capture (or cancel)."
    )
    idempotency_key = serializers.CharField(
        max_length=255, required=False, help_text="Same as the Idempotency-Key header."
    )

    def validate_metadata(self, metadata):
        if len(metadata) > METADATA_MAX_KEYS:
            raise serializers.ValidationError(f"At most {METADATA_MAX_KEYS} keys.")
        if any(len(key) > 40 for key in metadata):
            raise serializers.ValidationError("Keys are at most 40 characters.")
        outcome = metadata.get("test_outcome")
        if outcome is not None and outcome not in TEST_OUTCOMES:
            raise serializers.ValidationError({"test_outcome": [f"Unknown test outcome {outcome!r}."]})
        return metadata

    def validate(self, data):
        try:
            data["currency"] = normalize_currency(data["currency"])
        except MoneyError as exc:
            raise serializers.ValidationError({"currency": [str(exc)]}) from None
        try:
            data["amount"] = to_minor_units(
                data["amount"], data["currency"], max_minor=settings.PAYMENTS_MAX_AMOUNT_MINOR
            )
        except MoneyError as exc:
            field = "currency" if str(exc).startswith("Unknown currency") else "amount"
            raise serializers.ValidationError({field: [str(exc)]}) from None

        card = data.pop("card", None)
        if data["type"] == "card" and card is None:
            raise serializers.ValidationError({"card": ["Required for card payments."]})
        if data["type"] != "card" and card is not None:
            raise serializers.ValidationError({"card": [f"Not allowed for {data['type']} payments."]})
        outcome = data.get("metadata", {}).get("test_outcome")
        data["card_details"] = None
        if card is not None:
            try:
                details, card_outcome = card_intake(fingerprint_key=_fingerprint_key(), **card)
            except CardError as exc:
                field = exc.param.removeprefix("card[").removesuffix("]")
                raise serializers.ValidationError({"card": {field: [exc.message]}}) from None
            data["card_details"] = details
            outcome = card_outcome or outcome
        data["sandbox_outcome"] = outcome
        return data


class CardOutput(serializers.Serializer):
    brand = serializers.CharField()
    last4 = serializers.CharField()
    exp_month = serializers.IntegerField()
    exp_year = serializers.IntegerField()
    fingerprint = serializers.CharField()


class RoutingOutput(serializers.Serializer):
    provider = serializers.CharField()
    rule = serializers.CharField()
    reason = serializers.CharField()
    fallbacks = serializers.ListField(child=serializers.CharField())


class PaymentOutput(serializers.Serializer):
    """Documents ``payment_representation``."""

    id = serializers.CharField()
    object = serializers.CharField()
    amount = serializers.CharField(help_text='Major units as a decimal string, e.g. "250.00".')
    amount_capturable = serializers.CharField()
    amount_captured = serializers.CharField()
    amount_refunded = serializers.CharField()
    currency = serializers.CharField()
    status = serializers.ChoiceField(choices=STATUSES)
    type = serializers.ChoiceField(choices=PAYMENT_TYPES)
    description = serializers.CharField(allow_null=True)
    merchant = serializers.CharField(allow_null=True)
    customer_id = serializers.CharField(allow_null=True)
    metadata = serializers.DictField(child=serializers.CharField())
    card = CardOutput(allow_null=True)
    capture = serializers.BooleanField()
    provider = serializers.CharField()
    provider_reference = serializers.CharField(allow_null=True)
    routing = RoutingOutput()
    attempts = serializers.IntegerField()
    failure_code = serializers.CharField(allow_null=True)
    failure_message = serializers.CharField(allow_null=True)
    authorized_at = serializers.DateTimeField(allow_null=True)
    captured_at = serializers.DateTimeField(allow_null=True)
    canceled_at = serializers.DateTimeField(allow_null=True)
    cancellation_reason = serializers.CharField(allow_null=True)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class TransitionOutput(serializers.Serializer):
    object = serializers.CharField()
    # "from" is a Python keyword: declared below.
    to = serializers.CharField()
    at = serializers.DateTimeField()
    actor = serializers.ChoiceField(choices=("api", "worker", "operator", "sweeper"))
    reason = serializers.CharField(allow_null=True)

    def get_fields(self):
        return {"from": serializers.CharField(allow_null=True)} | super().get_fields()


def _fingerprint_key() -> bytes:
    return hashlib.sha256(b"payflow-card-fingerprint:" + settings.SECRET_KEY.encode()).digest()


class PaymentListQuery(ListQuery):
    status = serializers.ChoiceField(choices=STATUSES, required=False)
    customer_id = serializers.CharField(required=False, max_length=255)

    def get_fields(self):
        # Stripe-style created[gte]/created[lt] in the query string.
        return super().get_fields() | {
            "created[gte]": serializers.DateTimeField(required=False, source="created_gte"),
            "created[lt]": serializers.DateTimeField(required=False, source="created_lt"),
        }


PAYMENT_LIST_PARAMETERS = [
    OpenApiParameter("status", str, enum=STATUSES),
    OpenApiParameter("customer_id", str),
    OpenApiParameter("created[gte]", str, description="ISO 8601; payments created at or after."),
    OpenApiParameter("created[lt]", str, description="ISO 8601; payments created before."),
    OpenApiParameter("limit", int, description="1 to 100, default 10."),
    OpenApiParameter("starting_after", str, description="The `next_cursor` of the previous page."),
]


class PaymentsApi(MerchantApi):
    @extend_schema(
        summary="Create a payment",
        request=PaymentCreateInput,
        parameters=[IDEMPOTENCY_HEADER],
        responses={201: PaymentOutput, 200: PaymentOutput, 400: ERROR, 409: ERROR, 422: ERROR},
        operation_id="payments_create",
        description=(
            "Creates a `pending` payment and queues it for processing. With an idempotency key, a retry "
            "with the same parameters returns the first response (`200`, `Idempotent-Replayed: true`); "
            "other parameters give `422 idempotency_key_reused`; while the first still runs, "
            "`409 idempotency_key_in_use`."
        ),
        tags=["payments"],
    )
    def post(self, request):
        serializer = PaymentCreateInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data

        def create(claim):
            _, body = payment_create(
                merchant_id=self.merchant_id,
                amount=data["amount"],
                currency=data["currency"],
                payment_type=data["type"],
                description=data.get("description"),
                payee=data.get("merchant"),
                customer_id=data.get("customer_id"),
                metadata=data.get("metadata"),
                card=data["card_details"],
                sandbox_outcome=data["sandbox_outcome"],
                capture=data["capture"],
                idempotency_key=claim and claim.record_key.split("#", 1)[1],
                claim=claim,
            )
            return 201, body

        return idempotent_response(request, merchant_id=self.merchant_id, work=create)

    @extend_schema(
        summary="List payments",
        parameters=PAYMENT_LIST_PARAMETERS,
        responses={200: list_of("PaymentList", PaymentOutput(many=True)), 400: ERROR},
        operation_id="payments_list",
        tags=["payments"],
    )
    def get(self, request):
        query = PaymentListQuery(data=request.query_params.dict())
        query.is_valid(raise_exception=True)
        page = payment_list(merchant_id=self.merchant_id, **query.validated_data)
        return list_response(page, payment_representation, "/v1/payments")


class PaymentDetailApi(MerchantApi):
    @extend_schema(
        summary="Retrieve a payment",
        responses={200: PaymentOutput, 404: ERROR},
        operation_id="payments_retrieve",
        tags=["payments"],
    )
    def get(self, request, payment_id):
        return Response(
            payment_representation(payment_get(merchant_id=self.merchant_id, payment_id=payment_id))
        )


class PaymentHistoryApi(MerchantApi):
    @extend_schema(
        summary="A payment's status history (audit trail)",
        responses={200: list_of("PaymentHistory", TransitionOutput(many=True)), 404: ERROR},
        operation_id="payments_history",
        tags=["payments"],
    )
    def get(self, request, payment_id):
        records = payment_history(merchant_id=self.merchant_id, payment_id=payment_id)
        data = [
            {
                "object": "payment_transition",
                "from": record.from_status,
                "to": record.to_status,
                "at": iso(record.at),
                "actor": record.actor,
                "reason": record.reason,
            }
            for record in records
        ]
        return Response(
            list_body(data=data, has_more=False, next_cursor=None, url=f"/v1/payments/{payment_id}/history")
        )


class CaptureInput(StrictSerializer):
    amount = AmountField(required=False, help_text="At most amount_capturable; default: all of it.")


class CancelInput(StrictSerializer):
    reason = serializers.ChoiceField(
        choices=("requested_by_customer", "duplicate", "fraudulent", "abandoned"),
        default="requested_by_customer",
    )


class PaymentCaptureApi(MerchantApi):
    @extend_schema(
        summary="Capture an authorized payment",
        request=CaptureInput,
        parameters=[IDEMPOTENCY_HEADER],
        responses={200: PaymentOutput, 400: ERROR, 404: ERROR, 409: ERROR},
        operation_id="payments_capture",
        tags=["payments"],
    )
    def post(self, request, payment_id):
        serializer = CaptureInput(data=request.data)
        serializer.is_valid(raise_exception=True)

        def capture(claim):
            payment = payment_get(merchant_id=self.merchant_id, payment_id=payment_id)
            amount = serializer.validated_data.get("amount")
            if amount is not None:
                amount = amount_to_minor(amount, payment.currency)
            return 200, payment_representation(payment_capture(payment=payment, amount=amount))

        return idempotent_response(request, merchant_id=self.merchant_id, work=capture)


class PaymentCancelApi(MerchantApi):
    @extend_schema(
        summary="Cancel a pending or authorized payment",
        request=CancelInput,
        parameters=[IDEMPOTENCY_HEADER],
        responses={200: PaymentOutput, 404: ERROR, 409: ERROR},
        operation_id="payments_cancel",
        tags=["payments"],
    )
    def post(self, request, payment_id):
        serializer = CancelInput(data=request.data)
        serializer.is_valid(raise_exception=True)

        def cancel(claim):
            payment = payment_get(merchant_id=self.merchant_id, payment_id=payment_id)
            canceled = payment_cancel(payment=payment, reason=serializer.validated_data["reason"])
            return 200, payment_representation(canceled)

        return idempotent_response(request, merchant_id=self.merchant_id, work=cancel)


class RefundCreateInput(StrictSerializer):
    payment_id = serializers.CharField(max_length=64)
    amount = AmountField(required=False, help_text="Major units; default: all that is left to refund.")
    reason = serializers.ChoiceField(
        choices=("duplicate", "fraudulent", "requested_by_customer"), required=False, allow_null=True
    )
    metadata = serializers.DictField(
        child=serializers.CharField(max_length=500, allow_blank=True),
        required=False,
        help_text='Up to 20 string values. Sandbox: "test_outcome": "refund_declined" makes the refund fail.',
    )
    idempotency_key = serializers.CharField(max_length=255, required=False)

    def validate_metadata(self, metadata):
        if len(metadata) > METADATA_MAX_KEYS:
            raise serializers.ValidationError(f"At most {METADATA_MAX_KEYS} keys.")
        return metadata


class RefundOutput(serializers.Serializer):
    """Documents ``refund_representation``."""

    id = serializers.CharField()
    object = serializers.CharField()
    payment_id = serializers.CharField()
    amount = serializers.CharField()
    currency = serializers.CharField()
    status = serializers.ChoiceField(choices=("pending", "completed", "failed"))
    reason = serializers.CharField(allow_null=True)
    metadata = serializers.DictField(child=serializers.CharField())
    provider_reference = serializers.CharField(allow_null=True)
    failure_code = serializers.CharField(allow_null=True)
    failure_message = serializers.CharField(allow_null=True)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    completed_at = serializers.DateTimeField(allow_null=True)


class RefundListQuery(ListQuery):
    payment_id = serializers.CharField(required=False, max_length=64)


class RefundsApi(MerchantApi):
    @extend_schema(
        summary="Refund a payment, in full or in part",
        request=RefundCreateInput,
        parameters=[IDEMPOTENCY_HEADER],
        responses={201: RefundOutput, 200: RefundOutput, 400: ERROR, 404: ERROR, 409: ERROR, 422: ERROR},
        description=(
            "Several partial refunds are allowed; together they never exceed the captured amount "
            "(`409 refund_exceeds_captured`). The amount is reserved at once, given back if the refund fails."
        ),
        operation_id="refunds_create",
        tags=["refunds"],
    )
    def post(self, request):
        serializer = RefundCreateInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data

        def create(claim):
            _, body = refund_create(
                merchant_id=self.merchant_id,
                payment_id=data["payment_id"],
                amount=data.get("amount"),
                reason=data.get("reason"),
                metadata=data.get("metadata"),
                claim=claim,
            )
            return 201, body

        return idempotent_response(request, merchant_id=self.merchant_id, work=create)

    @extend_schema(
        summary="List refunds",
        parameters=[
            OpenApiParameter("payment_id", str),
            OpenApiParameter("limit", int),
            OpenApiParameter("starting_after", str),
        ],
        responses={200: list_of("RefundList", RefundOutput(many=True)), 400: ERROR},
        operation_id="refunds_list",
        tags=["refunds"],
    )
    def get(self, request):
        query = RefundListQuery(data=request.query_params.dict())
        query.is_valid(raise_exception=True)
        page = refund_list(merchant_id=self.merchant_id, **query.validated_data)
        return list_response(page, refund_representation, "/v1/refunds")


class RefundDetailApi(MerchantApi):
    @extend_schema(
        summary="Retrieve a refund",
        responses={200: RefundOutput, 404: ERROR},
        operation_id="refunds_retrieve",
        tags=["refunds"],
    )
    def get(self, request, refund_id):
        return Response(refund_representation(refund_get(merchant_id=self.merchant_id, refund_id=refund_id)))


class SettlementOutput(serializers.Serializer):
    """Documents ``settlement_representation``."""

    id = serializers.CharField()
    object = serializers.CharField()
    currency = serializers.CharField()
    day = serializers.DateField()
    cutoff = serializers.DateTimeField()
    status = serializers.ChoiceField(choices=("in_progress", "completed"))
    payment_count = serializers.IntegerField()
    refund_count = serializers.IntegerField()
    gross = serializers.CharField()
    refunds = serializers.CharField()
    fees = serializers.CharField()
    net = serializers.CharField()
    created_at = serializers.DateTimeField()
    completed_at = serializers.DateTimeField(allow_null=True)
    updated_at = serializers.DateTimeField()


class SettlementsApi(MerchantApi):
    @extend_schema(
        summary="List settlements",
        parameters=[OpenApiParameter("limit", int), OpenApiParameter("starting_after", str)],
        responses={200: list_of("SettlementList", SettlementOutput(many=True)), 400: ERROR},
        operation_id="settlements_list",
        tags=["settlements"],
    )
    def get(self, request):
        query = ListQuery(data=request.query_params.dict())
        query.is_valid(raise_exception=True)
        page = settlement_list(merchant_id=self.merchant_id, **query.validated_data)
        return list_response(page, settlement_representation, "/v1/settlements")


class SettlementDetailApi(MerchantApi):
    @extend_schema(
        summary="Retrieve a settlement",
        responses={200: SettlementOutput, 404: ERROR},
        operation_id="settlements_retrieve",
        tags=["settlements"],
    )
    def get(self, request, settlement_id):
        settlement = settlement_get(merchant_id=self.merchant_id, settlement_id=settlement_id)
        return Response(settlement_representation(settlement))


class SettlementReportApi(MerchantApi):
    @extend_schema(
        summary="Download a settlement's CSV report",
        responses={(200, "text/csv"): OpenApiTypes.STR, 404: ERROR},
        operation_id="settlements_report",
        tags=["settlements"],
    )
    def get(self, request, settlement_id):
        report = settlement_report(merchant_id=self.merchant_id, settlement_id=settlement_id)
        response = HttpResponse(report, content_type="text/csv")
        response["Content-Disposition"] = f'attachment; filename="{settlement_id}.csv"'
        return response
