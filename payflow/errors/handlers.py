"""Turn every failure into the one JSON error shape.

``api_exception_handler`` is DRF's EXCEPTION_HANDLER; the ``handler4xx/500``
functions are Django's, for paths DRF never sees (unknown URLs, crashes
outside a view). The admin keeps Django's HTML pages.
"""

import logging

from botocore.exceptions import ClientError, HTTPClientError
from botocore.exceptions import ConnectionError as AwsConnectionError
from django.http import Http404, JsonResponse
from django.views import defaults
from kombu.exceptions import OperationalError
from pynamodb.exceptions import PynamoDBException
from rest_framework import exceptions as drf
from rest_framework.response import Response

from .codes import ErrorCode
from .exceptions import ApplicationError

logger = logging.getLogger(__name__)

# AWS answers that mean "try again later", not "your request is wrong".
TRANSIENT_AWS_CODES = frozenset(
    {
        "InternalServerError",
        "InternalFailure",
        "ServiceUnavailable",
        "ThrottlingException",
        "Throttling",
        "ProvisionedThroughputExceededException",
        "RequestLimitExceeded",
        "SlowDown",
    }
)

DRF_CODES: dict[type[drf.APIException], ErrorCode] = {
    drf.ParseError: ErrorCode.MALFORMED_JSON,
    drf.NotAuthenticated: ErrorCode.AUTHENTICATION_REQUIRED,
    drf.AuthenticationFailed: ErrorCode.INVALID_API_KEY,
    drf.PermissionDenied: ErrorCode.PERMISSION_DENIED,
    drf.NotFound: ErrorCode.NOT_FOUND,
    drf.MethodNotAllowed: ErrorCode.METHOD_NOT_ALLOWED,
    drf.NotAcceptable: ErrorCode.NOT_ACCEPTABLE,
    drf.UnsupportedMediaType: ErrorCode.UNSUPPORTED_MEDIA_TYPE,
    drf.Throttled: ErrorCode.RATE_LIMITED,
}


def is_transient_aws_error(exc: BaseException) -> bool:
    # PynamoDB wraps botocore's errors; a transaction's error is no PynamoDBConnectionError.
    if isinstance(exc, PynamoDBException) and exc.cause is not None:
        return is_transient_aws_error(exc.cause)
    if isinstance(exc, (AwsConnectionError, HTTPClientError, OperationalError)):
        return True
    if isinstance(exc, ClientError):
        return exc.response.get("Error", {}).get("Code") in TRANSIENT_AWS_CODES
    return False


def _first_validation_error(detail, path: str = "") -> tuple[str | None, str]:
    """The first (param, message) of a DRF ValidationError's nested detail."""
    if isinstance(detail, dict):
        for key, value in detail.items():
            param = path if key == "non_field_errors" else (f"{path}[{key}]" if path else str(key))
            return _first_validation_error(value, param)
    if isinstance(detail, list) and detail:
        first = detail[0]
        if isinstance(first, (dict, list)):
            return _first_validation_error(first, f"{path}[0]" if path else path)
        return (path or None), str(first)
    return (path or None), str(detail)


def to_application_error(exc: Exception) -> ApplicationError:
    if isinstance(exc, ApplicationError):
        return exc
    if isinstance(exc, drf.ValidationError):
        param, message = _first_validation_error(exc.detail)
        text = f"{param}: {message}" if param else message
        return ApplicationError(ErrorCode.INVALID_REQUEST, text, param=param)
    if isinstance(exc, Http404):
        return ApplicationError(ErrorCode.NOT_FOUND, "No such object.")
    if isinstance(exc, drf.APIException):
        code = next(
            (code for cls, code in DRF_CODES.items() if isinstance(exc, cls)),
            ErrorCode.INVALID_REQUEST,
        )
        headers = {}
        if getattr(exc, "auth_header", None):
            headers["WWW-Authenticate"] = exc.auth_header
        if isinstance(exc, drf.Throttled) and exc.wait is not None:
            headers["Retry-After"] = str(max(1, round(exc.wait)))
        return ApplicationError(code, str(exc.detail), headers=headers)
    if is_transient_aws_error(exc):
        logger.warning("dependency unavailable: %s", exc.__class__.__name__, exc_info=exc)
        return ApplicationError(ErrorCode.SERVICE_UNAVAILABLE, headers={"Retry-After": "1"})
    logger.error("unhandled exception", exc_info=exc)
    return ApplicationError(ErrorCode.INTERNAL_ERROR)


def error_response(error: ApplicationError) -> Response:
    return Response(error.as_body(), status=error.status, headers=error.headers)


def api_exception_handler(exc: Exception, context: dict) -> Response:
    return error_response(to_application_error(exc))


def _json_error(code: ErrorCode, message: str | None = None) -> JsonResponse:
    error = ApplicationError(code, message)
    return JsonResponse(error.as_body(), status=error.status)


def _is_admin(request) -> bool:
    return request.path.startswith("/admin/")


def bad_request(request, exception=None):
    if _is_admin(request):
        return defaults.bad_request(request, exception)
    return _json_error(ErrorCode.INVALID_REQUEST, "The request could not be understood.")


def permission_denied(request, exception=None):
    if _is_admin(request):
        return defaults.permission_denied(request, exception)
    return _json_error(ErrorCode.PERMISSION_DENIED)


def page_not_found(request, exception=None):
    if _is_admin(request):
        return defaults.page_not_found(request, exception)
    return _json_error(ErrorCode.NOT_FOUND, f"No such path: {request.method} {request.path}")


def server_error(request):
    if _is_admin(request):
        return defaults.server_error(request)
    return _json_error(ErrorCode.INTERNAL_ERROR)
