from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from payflow.errors import ApplicationError, ErrorCode

from .health import dependencies_check


class HealthApi(APIView):
    authentication_classes = ()
    permission_classes = ()

    @extend_schema(
        summary="Health of PayFlow and its dependencies",
        description=(
            "200 when DynamoDB, SQS and S3 answer; 503 naming the failing dependency "
            "otherwise. Answers within 2 s even when a dependency hangs. No authentication."
        ),
        responses={
            200: inline_serializer(
                "Health",
                {
                    "status": serializers.CharField(),
                    "checks": serializers.DictField(child=serializers.CharField()),
                },
            )
        },
        tags=["health"],
    )
    def get(self, request):
        checks = dependencies_check()
        failing = [name for name, state in checks.items() if state != "ok"]
        if not failing:
            return Response({"status": "ok", "checks": checks})
        error = ApplicationError(
            ErrorCode.SERVICE_UNAVAILABLE,
            "Unavailable: " + ", ".join(f"{name} ({checks[name]})" for name in failing),
        )
        body = {"status": "unavailable", "checks": checks} | error.as_body()
        return Response(body, status=error.status, headers={"Retry-After": "5"})
