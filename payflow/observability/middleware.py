import logging
import time

from .logs import REQUEST_ID_HEADER, log_context_bind, log_context_clear, request_id_from
from .metrics import http_request_record
from .prometheus import UNMATCHED_ROUTE, http_observe

access_logger = logging.getLogger("payflow.requests")
# Load balancers ask for health and scrapers for metrics every few seconds; static files say nothing.
UNLOGGED_PATHS = ("/v1/health", "/metrics", "/static/")
# Any other method is counted as "other": a client must not be able to make new series.
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


class RequestMiddleware:
    """Each request's id, access log line and metrics, timed once.

    The id is the caller's ``X-Request-ID`` if sane, else a new one: it is in
    every log line of the request, follows the work into Celery tasks (a
    message header) and comes back in the response's ``X-Request-ID``. API
    requests are counted for the dashboard (in memory, flushed in the
    background); every request but static files for Prometheus, by route
    pattern so that ids do not make new series.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        log_context_clear()  # a thread serves many requests: nothing of the last one stays
        request_id = request_id_from(request.headers.get(REQUEST_ID_HEADER))
        request.request_id = request_id
        log_context_bind(request_id=request_id)
        started = time.perf_counter()
        try:
            response = self.get_response(request)
            seconds = time.perf_counter() - started
            response[REQUEST_ID_HEADER] = request_id
            self._observe(request, response, seconds)
        finally:
            log_context_clear()
        return response

    def _observe(self, request, response, seconds: float) -> None:
        path = request.path_info
        if path.startswith("/v1/") and not path.startswith("/v1/health"):
            http_request_record(status_code=response.status_code, seconds=seconds)
        if not path.startswith("/static/"):
            match = getattr(request, "resolver_match", None)
            http_observe(
                route=match.route if match is not None else UNMATCHED_ROUTE,
                method=request.method if request.method in KNOWN_METHODS else "other",
                status=response.status_code,
                seconds=seconds,
            )
        if not path.startswith(UNLOGGED_PATHS):
            milliseconds = round(seconds * 1000, 1)
            access_logger.info(
                "%s %s %s %.1f ms",
                request.method,
                path,
                response.status_code,
                milliseconds,
                extra={
                    "method": request.method,
                    "path": path,
                    "status": response.status_code,
                    "duration_ms": milliseconds,
                },
            )
