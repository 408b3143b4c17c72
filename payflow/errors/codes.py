from dataclasses import dataclass
from enum import StrEnum


class ErrorType(StrEnum):
    INVALID_REQUEST = "invalid_request_error"
    AUTHENTICATION = "authentication_error"
    PERMISSION = "permission_error"
    IDEMPOTENCY = "idempotency_error"
    RATE_LIMIT = "rate_limit_error"
    API = "api_error"


@dataclass(frozen=True)
class ErrorSpec:
    status: int
    type: ErrorType
    description: str


class ErrorCode(StrEnum):
    """Stable error codes. Never rename one: clients branch on them."""

    INVALID_REQUEST = "invalid_request"
    MALFORMED_JSON = "malformed_json"
    REQUEST_TOO_LARGE = "request_too_large"
    URI_TOO_LONG = "uri_too_long"
    AUTHENTICATION_REQUIRED = "authentication_required"
    INVALID_API_KEY = "invalid_api_key"
    PERMISSION_DENIED = "permission_denied"
    NOT_FOUND = "not_found"
    METHOD_NOT_ALLOWED = "method_not_allowed"
    NOT_ACCEPTABLE = "not_acceptable"
    UNSUPPORTED_MEDIA_TYPE = "unsupported_media_type"
    INVALID_STATE = "invalid_state"
    PAYMENT_NOT_CAPTURABLE = "payment_not_capturable"
    PAYMENT_NOT_CANCELABLE = "payment_not_cancelable"
    PAYMENT_NOT_REFUNDABLE = "payment_not_refundable"
    PAYMENT_NOT_RETRYABLE = "payment_not_retryable"
    REFUND_EXCEEDS_CAPTURED = "refund_exceeds_captured"
    INSUFFICIENT_BALANCE = "insufficient_balance"
    CUSTOMER_EXISTS = "customer_exists"
    URL_NOT_ALLOWED = "url_not_allowed"
    IDEMPOTENCY_KEY_IN_USE = "idempotency_key_in_use"
    IDEMPOTENCY_KEY_REUSED = "idempotency_key_reused"
    RATE_LIMITED = "rate_limited"
    SERVICE_UNAVAILABLE = "service_unavailable"
    INTERNAL_ERROR = "internal_error"

    @property
    def spec(self) -> ErrorSpec:
        return ERROR_SPECS[self]


ERROR_SPECS: dict[ErrorCode, ErrorSpec] = {
    ErrorCode.INVALID_REQUEST: ErrorSpec(
        400, ErrorType.INVALID_REQUEST, "A parameter is missing or invalid; `param` names it."
    ),
    ErrorCode.MALFORMED_JSON: ErrorSpec(
        400, ErrorType.INVALID_REQUEST, "The request body is not valid JSON."
    ),
    ErrorCode.REQUEST_TOO_LARGE: ErrorSpec(
        413,
        ErrorType.INVALID_REQUEST,
        "The request body is larger than the API accepts (64 KiB unless configured).",
    ),
    ErrorCode.URI_TOO_LONG: ErrorSpec(
        414, ErrorType.INVALID_REQUEST, "The URL (path and query string) is longer than 8 KiB."
    ),
    ErrorCode.AUTHENTICATION_REQUIRED: ErrorSpec(
        401, ErrorType.AUTHENTICATION, "No API key was sent (`Authorization: Bearer sk_...`)."
    ),
    ErrorCode.INVALID_API_KEY: ErrorSpec(
        401, ErrorType.AUTHENTICATION, "The API key is unknown, malformed or revoked."
    ),
    ErrorCode.PERMISSION_DENIED: ErrorSpec(
        403, ErrorType.PERMISSION, "The caller may not perform this action."
    ),
    ErrorCode.NOT_FOUND: ErrorSpec(
        404, ErrorType.INVALID_REQUEST, "No such object or path (objects of other merchants included)."
    ),
    ErrorCode.METHOD_NOT_ALLOWED: ErrorSpec(
        405, ErrorType.INVALID_REQUEST, "The path does not accept this HTTP method."
    ),
    ErrorCode.NOT_ACCEPTABLE: ErrorSpec(
        406, ErrorType.INVALID_REQUEST, "The API only answers `application/json`."
    ),
    ErrorCode.UNSUPPORTED_MEDIA_TYPE: ErrorSpec(
        415, ErrorType.INVALID_REQUEST, "Send request bodies as `application/json`."
    ),
    ErrorCode.INVALID_STATE: ErrorSpec(
        409, ErrorType.INVALID_REQUEST, "The object is not in a state that allows this."
    ),
    ErrorCode.PAYMENT_NOT_CAPTURABLE: ErrorSpec(
        409, ErrorType.INVALID_REQUEST, "Only an authorized payment can be captured, and only once."
    ),
    ErrorCode.PAYMENT_NOT_CANCELABLE: ErrorSpec(
        409, ErrorType.INVALID_REQUEST, "Only a pending or authorized payment can be canceled."
    ),
    ErrorCode.PAYMENT_NOT_REFUNDABLE: ErrorSpec(
        409, ErrorType.INVALID_REQUEST, "Only a completed (captured) payment can be refunded."
    ),
    ErrorCode.PAYMENT_NOT_RETRYABLE: ErrorSpec(
        409,
        ErrorType.INVALID_REQUEST,
        "Only a failed payment can be retried, not after a final decline, and a limited number of times.",
    ),
    ErrorCode.REFUND_EXCEEDS_CAPTURED: ErrorSpec(
        409, ErrorType.INVALID_REQUEST, "Refunds of a payment may not add up to more than it captured."
    ),
    ErrorCode.INSUFFICIENT_BALANCE: ErrorSpec(
        409, ErrorType.INVALID_REQUEST, "The available balance in that currency does not cover the payout."
    ),
    ErrorCode.CUSTOMER_EXISTS: ErrorSpec(
        409, ErrorType.INVALID_REQUEST, "A customer with this customer_id exists already."
    ),
    ErrorCode.URL_NOT_ALLOWED: ErrorSpec(
        400,
        ErrorType.INVALID_REQUEST,
        "Webhook URLs must be public https URLs (no private or metadata addresses).",
    ),
    ErrorCode.IDEMPOTENCY_KEY_IN_USE: ErrorSpec(
        409,
        ErrorType.IDEMPOTENCY,
        "A request with this idempotency key is still running; retry shortly (safe to retry).",
    ),
    ErrorCode.IDEMPOTENCY_KEY_REUSED: ErrorSpec(
        422, ErrorType.IDEMPOTENCY, "The idempotency key was already used with other parameters."
    ),
    ErrorCode.RATE_LIMITED: ErrorSpec(
        429, ErrorType.RATE_LIMIT, "Too many requests; retry after `Retry-After` seconds."
    ),
    ErrorCode.SERVICE_UNAVAILABLE: ErrorSpec(
        503, ErrorType.API, "A dependency (DynamoDB, SQS, S3) is unavailable; nothing was changed. Retry."
    ),
    ErrorCode.INTERNAL_ERROR: ErrorSpec(
        500, ErrorType.API, "An unexpected error on PayFlow's side; it has been logged."
    ),
}
