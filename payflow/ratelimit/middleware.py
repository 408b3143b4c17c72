import math


class RateLimitHeadersMiddleware:
    """``RateLimit-Limit``, ``-Remaining`` and ``-Reset`` on every rate-limited response, 429s included."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        decision = getattr(request, "payflow_rate_limit", None)
        if decision is not None:
            response["RateLimit-Limit"] = str(decision.limit)
            response["RateLimit-Remaining"] = str(decision.remaining)
            response["RateLimit-Reset"] = str(math.ceil(decision.reset_seconds))
        return response
