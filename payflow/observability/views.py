from django.http import HttpResponse, JsonResponse

from payflow.errors import ApplicationError, ErrorCode

from .access import operator_allowed
from .prometheus import metrics_render


def _error(code: ErrorCode, message: str, **headers: str) -> JsonResponse:
    error = ApplicationError(code, message)
    response = JsonResponse(error.as_body(), status=error.status)
    for name, value in headers.items():
        response[name.replace("_", "-")] = value
    return response


def metrics_view(request):
    """Prometheus metrics of every process on this host: for operators and scrapers only."""
    if request.method not in ("GET", "HEAD"):
        return _error(
            ErrorCode.METHOD_NOT_ALLOWED, f"Method {request.method} is not allowed.", Allow="GET, HEAD"
        )
    if not operator_allowed(request):
        return _error(
            ErrorCode.AUTHENTICATION_REQUIRED,
            "Metrics are for operators: log in to the admin, or send "
            "`Authorization: Bearer <OPERATIONS_TOKEN>`.",
            WWW_Authenticate='Bearer realm="payflow-operations"',
        )
    body, content_type = metrics_render()
    response = HttpResponse(body, content_type=content_type)
    response["Cache-Control"] = "no-store"
    return response
