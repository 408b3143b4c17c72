from django.conf import settings
from django.http import JsonResponse

from payflow.errors import ApplicationError, ErrorCode


class RequestSizeLimitMiddleware:
    """Refuses an API request whose URL is over ``API_MAX_URL_BYTES`` (414), or whose Content-Length
    is over ``API_MAX_BODY_BYTES`` before reading it (413).

    gunicorn runs with ``--limit-request-line=0`` (its own ceiling, 1 MB), so
    an over-long URL gets this JSON answer rather than gunicorn's plain page.

    A body without a Content-Length is bounded by the JSON parser instead.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path_info.startswith("/v1/"):
            url_bytes = len(request.META.get("QUERY_STRING", "")) + len(request.path_info.encode())
            if url_bytes > settings.API_MAX_URL_BYTES:
                error = ApplicationError(
                    ErrorCode.URI_TOO_LONG, f"The URL is longer than {settings.API_MAX_URL_BYTES} bytes."
                )
                return JsonResponse(error.as_body(), status=error.status)
            try:
                length = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                length = 0  # gunicorn refuses a malformed Content-Length before Django sees it
            limit = settings.API_MAX_BODY_BYTES
            if length > limit:
                error = ApplicationError(
                    ErrorCode.REQUEST_TOO_LARGE, f"The request body is larger than {limit} bytes."
                )
                # gunicorn discards the unread body before the connection's next request.
                return JsonResponse(error.as_body(), status=error.status)
        return self.get_response(request)
