"""The idempotency layer as thin views use it.

A view validates its input first (a request that fails validation stores
nothing), then hands its work to ``idempotent_response``.
"""

from rest_framework.response import Response

from payflow.errors import ApplicationError, ErrorCode

from .services import Work, idempotent_run, request_fingerprint

BODY_FIELD = "idempotency_key"
MAX_KEY_LENGTH = 255
REPLAY_HEADER = "Idempotent-Replayed"


def idempotency_key_of(request) -> str | None:
    """The key from ``Idempotency-Key``, ``X-Idempotency-Key`` or the body's ``idempotency_key``."""
    header = request.headers.get("Idempotency-Key")
    if header is None:
        header = request.headers.get("X-Idempotency-Key")
    in_body = request.data.get(BODY_FIELD) if isinstance(request.data, dict) else None
    if header is not None and in_body is not None and header != in_body:
        raise ApplicationError(
            ErrorCode.INVALID_REQUEST,
            "The Idempotency-Key header and the idempotency_key field differ.",
            param=BODY_FIELD,
        )
    key = header if header is not None else in_body
    if key is None:
        return None
    if not isinstance(key, str) or not 1 <= len(key) <= MAX_KEY_LENGTH or not key.isprintable():
        raise ApplicationError(
            ErrorCode.INVALID_REQUEST,
            f"An idempotency key is 1 to {MAX_KEY_LENGTH} printable characters.",
            param=BODY_FIELD,
        )
    return key


def idempotent_response(request, *, merchant_id: str, work: Work) -> Response:
    key = idempotency_key_of(request)
    if key is None:
        status, body = work(None)
        return Response(body, status=status)
    data = (
        {k: v for k, v in request.data.items() if k != BODY_FIELD} if isinstance(request.data, dict) else {}
    )
    fingerprint = request_fingerprint(method=request.method, path=request.path, data=data)
    status, body, replayed = idempotent_run(
        merchant_id=merchant_id, key=key, fingerprint=fingerprint, work=work
    )
    return Response(body, status=status, headers={REPLAY_HEADER: "true"} if replayed else None)
