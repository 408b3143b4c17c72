from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from payflow.errors import ApplicationError, ErrorCode

from .access import operator_allowed
from .health import dependencies_check

BOOLEANS = {"true": True, "1": True, "false": False, "0": False}


class HealthApi(APIView):
    authentication_classes = ()
    permission_classes = ()

    @extend_schema(
        summary="Health of PayFlow and its dependencies",
        description=(
            "200 when DynamoDB, SQS and S3 answer; 503 naming the failing dependency "
            "otherwise. Answers within 2 s even when a dependency hangs. No authentication.\n\n"
            "`?deep=1` (operators: a staff session or `Authorization: Bearer <OPERATIONS_TOKEN>`) "
            "also checks the database, the cache and the rate limiter's store, and gives each "
            "dependency's latency in milliseconds."
        ),
        parameters=[
            OpenApiParameter(
                "deep", OpenApiTypes.BOOL, description="Every dependency, with latencies (operators only)."
            )
        ],
        responses={
            200: inline_serializer(
                "Health",
                {
                    "status": serializers.CharField(),
                    "checks": serializers.DictField(child=serializers.CharField()),
                    "latency_ms": serializers.DictField(
                        child=serializers.FloatField(allow_null=True), required=False
                    ),
                },
            ),
            401: OpenApiResponse(description="`deep=1` without an operator's session or token."),
        },
        tags=["health"],
    )
    def get(self, request):
        deep = request.query_params.get("deep", "false").lower()
        if deep not in BOOLEANS:
            raise ApplicationError(ErrorCode.INVALID_REQUEST, "deep: true or false (1 or 0).", param="deep")
        deep = BOOLEANS[deep]
        if deep and not operator_allowed(request._request):
            raise ApplicationError(
                ErrorCode.AUTHENTICATION_REQUIRED,
                "The deep health check is for operators: log in to the admin, or send "
                "`Authorization: Bearer <OPERATIONS_TOKEN>`.",
            )
        checks, latencies = dependencies_check(deep=deep)
        extra = {"latency_ms": latencies} if deep else {}
        failing = [name for name, state in checks.items() if state != "ok"]
        if not failing:
            return Response({"status": "ok", "checks": checks} | extra)
        error = ApplicationError(
            ErrorCode.SERVICE_UNAVAILABLE,
            "Unavailable: " + ", ".join(f"{name} ({checks[name]})" for name in failing),
        )
        body = {"status": "unavailable", "checks": checks} | extra | error.as_body()
        return Response(body, status=error.status, headers={"Retry-After": "5"})
