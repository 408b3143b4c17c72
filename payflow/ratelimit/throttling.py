from rest_framework.throttling import BaseThrottle

from .limiter import rate_limit_take


class ApiKeyThrottle(BaseThrottle):
    """Each API key's token bucket; the decision is kept for ``RateLimitHeadersMiddleware``."""

    def allow_request(self, request, view):
        principal = request.user
        api_key_id = getattr(principal, "api_key_id", None)
        if api_key_id is None:  # unauthenticated: refused by authentication, not counted
            return True
        decision = rate_limit_take(api_key_id=api_key_id, merchant_id=principal.merchant_id)
        request._request.payflow_rate_limit = decision
        self.decision = decision
        return decision is None or decision.allowed

    def wait(self):
        return self.decision.retry_after_seconds if self.decision else None
