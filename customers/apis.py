"""Customers and disbursements as DRF ViewSets (the owner asked for viewsets here)."""

from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from payflow.api import (
    ERROR,
    IDEMPOTENCY_HEADER,
    PAGING,
    AmountField,
    ListQuery,
    MerchantApi,
    MerchantViewSet,
    StrictSerializer,
    list_of,
    list_response,
)
from payflow.idempotency.http import idempotent_response
from payflow.money import MoneyError, normalize_currency
from payments.apis import METADATA_MAX_KEYS

from .payouts import METHODS, PAYOUT_TEST_OUTCOMES
from .representations import customer_representation, disbursement_representation
from .selectors import balance_summary, customer_get, customer_list, disbursement_get, disbursement_list
from .services import customer_create, customer_update, disbursement_create

DISBURSEMENT_STATUSES = ("pending", "processing", "completed", "failed", "returned")


def _metadata_field(**kwargs):
    return serializers.DictField(child=serializers.CharField(max_length=500, allow_blank=True), **kwargs)


def _check_metadata(metadata: dict) -> dict:
    if len(metadata) > METADATA_MAX_KEYS:
        raise serializers.ValidationError(f"At most {METADATA_MAX_KEYS} keys.")
    return metadata


class CustomerCreateInput(StrictSerializer):
    customer_id = serializers.CharField(
        max_length=255, required=False, help_text="Your own reference; unique."
    )
    email = serializers.EmailField(max_length=254)
    name = serializers.CharField(max_length=200, required=False)
    metadata = _metadata_field(required=False)
    idempotency_key = serializers.CharField(max_length=255, required=False)

    def validate_metadata(self, metadata):
        return _check_metadata(metadata)

    def validate_customer_id(self, value):
        if value.startswith("cus_"):
            raise serializers.ValidationError("Your own references cannot start with cus_.")
        return value


class CustomerUpdateInput(StrictSerializer):
    email = serializers.EmailField(max_length=254, required=False)
    name = serializers.CharField(max_length=200, required=False)
    metadata = _metadata_field(required=False)

    def validate_metadata(self, metadata):
        return _check_metadata(metadata)


class CustomerOutput(serializers.Serializer):
    id = serializers.CharField()
    object = serializers.CharField()
    customer_id = serializers.CharField(allow_null=True)
    email = serializers.EmailField()
    name = serializers.CharField(allow_null=True)
    metadata = serializers.DictField(child=serializers.CharField())
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class DisbursementCreateInput(StrictSerializer):
    customer_id = serializers.CharField(max_length=255, help_text="cus_… or your own customer_id.")
    amount = AmountField()
    currency = serializers.CharField(max_length=3)
    method = serializers.ChoiceField(choices=METHODS)
    email = serializers.EmailField(max_length=254, required=False, help_text="Default: the customer's email.")
    description = serializers.CharField(max_length=1000, required=False)
    metadata = _metadata_field(
        required=False,
        help_text=f"Sandbox: test_outcome one of {', '.join(sorted(PAYOUT_TEST_OUTCOMES))}.",
    )
    idempotency_key = serializers.CharField(max_length=255, required=False)

    def validate_metadata(self, metadata):
        outcome = metadata.get("test_outcome")
        if outcome is not None and outcome not in PAYOUT_TEST_OUTCOMES:
            raise serializers.ValidationError({"test_outcome": [f"Unknown test outcome {outcome!r}."]})
        return _check_metadata(metadata)

    def validate_currency(self, value):
        try:
            return normalize_currency(value)
        except MoneyError as exc:
            raise serializers.ValidationError(str(exc)) from None


class DisbursementOutput(serializers.Serializer):
    id = serializers.CharField()
    object = serializers.CharField()
    customer_id = serializers.CharField()
    amount = serializers.CharField()
    currency = serializers.CharField()
    method = serializers.ChoiceField(choices=METHODS)
    email = serializers.EmailField(allow_null=True)
    description = serializers.CharField(allow_null=True)
    metadata = serializers.DictField(child=serializers.CharField())
    status = serializers.ChoiceField(choices=DISBURSEMENT_STATUSES)
    provider_reference = serializers.CharField(allow_null=True)
    failure_code = serializers.CharField(allow_null=True)
    failure_message = serializers.CharField(allow_null=True)
    return_code = serializers.CharField(allow_null=True)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    completed_at = serializers.DateTimeField(allow_null=True)


class DisbursementListQuery(ListQuery):
    customer_id = serializers.CharField(required=False, max_length=255)
    status = serializers.ChoiceField(choices=DISBURSEMENT_STATUSES, required=False)


@extend_schema_view(
    create=extend_schema(
        summary="Create a customer",
        request=CustomerCreateInput,
        parameters=[IDEMPOTENCY_HEADER],
        responses={201: CustomerOutput, 200: CustomerOutput, 400: ERROR, 409: ERROR, 422: ERROR},
    ),
    retrieve=extend_schema(
        summary="Retrieve a customer (by cus_… or your customer_id)",
        responses={200: CustomerOutput, 404: ERROR},
    ),
    list=extend_schema(
        summary="List customers",
        parameters=PAGING,
        responses={200: list_of("CustomerList", CustomerOutput(many=True))},
    ),
    partial_update=extend_schema(
        summary="Update a customer",
        request=CustomerUpdateInput,
        responses={200: CustomerOutput, 400: ERROR, 404: ERROR},
    ),
    disbursements=extend_schema(
        summary="A customer's disbursements",
        parameters=PAGING,
        responses={200: list_of("CustomerDisbursementList", DisbursementOutput(many=True)), 404: ERROR},
    ),
)
class CustomerViewSet(MerchantViewSet):
    def create(self, request):
        serializer = CustomerCreateInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = {k: v for k, v in serializer.validated_data.items() if k != "idempotency_key"}

        def create(claim):
            _, body = customer_create(merchant_id=self.merchant_id, claim=claim, **data)
            return 201, body

        return idempotent_response(request, merchant_id=self.merchant_id, work=create)

    def retrieve(self, request, pk=None):
        return Response(customer_representation(customer_get(merchant_id=self.merchant_id, customer_id=pk)))

    def list(self, request):
        query = ListQuery(data=request.query_params.dict())
        query.is_valid(raise_exception=True)
        page = customer_list(merchant_id=self.merchant_id, **query.validated_data)
        return list_response(page, customer_representation, "/v1/customers")

    def partial_update(self, request, pk=None):
        serializer = CustomerUpdateInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        customer = customer_get(merchant_id=self.merchant_id, customer_id=pk)
        return Response(
            customer_representation(customer_update(customer=customer, **serializer.validated_data))
        )

    @action(detail=True, methods=["get"])
    def disbursements(self, request, pk=None):
        query = ListQuery(data=request.query_params.dict())
        query.is_valid(raise_exception=True)
        page = disbursement_list(merchant_id=self.merchant_id, customer_id=pk, **query.validated_data)
        return list_response(page, disbursement_representation, f"/v1/customers/{pk}/disbursements")


@extend_schema_view(
    create=extend_schema(
        summary="Pay money out to a customer",
        request=DisbursementCreateInput,
        parameters=[IDEMPOTENCY_HEADER],
        responses={
            201: DisbursementOutput,
            200: DisbursementOutput,
            400: ERROR,
            404: ERROR,
            409: ERROR,
            422: ERROR,
        },
        description="Reserves the amount on the available balance (or 409 insufficient_balance); queues it.",
    ),
    retrieve=extend_schema(
        summary="Retrieve a disbursement", responses={200: DisbursementOutput, 404: ERROR}
    ),
    list=extend_schema(
        summary="List disbursements",
        parameters=[
            *PAGING,
            OpenApiParameter("customer_id", str),
            OpenApiParameter("status", str, enum=DISBURSEMENT_STATUSES),
        ],
        responses={200: list_of("DisbursementList", DisbursementOutput(many=True)), 400: ERROR},
    ),
)
class DisbursementViewSet(MerchantViewSet):
    def create(self, request):
        serializer = DisbursementCreateInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = {k: v for k, v in serializer.validated_data.items() if k != "idempotency_key"}

        def create(claim):
            _, body = disbursement_create(merchant_id=self.merchant_id, claim=claim, **data)
            return 201, body

        return idempotent_response(request, merchant_id=self.merchant_id, work=create)

    def retrieve(self, request, pk=None):
        disbursement = disbursement_get(merchant_id=self.merchant_id, disbursement_id=pk)
        return Response(disbursement_representation(disbursement))

    def list(self, request):
        query = DisbursementListQuery(data=request.query_params.dict())
        query.is_valid(raise_exception=True)
        page = disbursement_list(merchant_id=self.merchant_id, **query.validated_data)
        return list_response(page, disbursement_representation, "/v1/disbursements")


class BalanceApi(MerchantApi):
    @extend_schema(
        summary="Available and pending money per currency",
        responses={200: dict},
        description="available: settled net - disbursed + top-ups; pending: captured, unsettled, less fees.",
        operation_id="balance_retrieve",
        tags=["balance"],
    )
    def get(self, request):
        return Response(balance_summary(merchant_id=self.merchant_id))
