"""Structured JSON logs for web, worker and beat, with a request id that follows the work.

Every log line is one JSON object: ``timestamp`` (UTC, ISO 8601), ``level``,
``logger``, ``event`` (the message) and whatever the context holds —
``request_id``, ``merchant_id``, ``payment_id``, ``task``, ``task_id`` … The
code logs through the standard library as before; structlog renders the
records, merging the context from ``contextvars`` (bound per request by
``RequestMiddleware`` and per task by the Celery signals in ``apps.py``).

Secrets never reach the output: every string of every line, the traceback
included, passes through ``scrub`` last — card numbers (13 to 19 digits that
pass the Luhn check), CVCs, API keys, webhook signing secrets, bearer tokens
and anything under a key that names a secret.
"""

import logging
import re
import uuid
from typing import Any

import structlog
from structlog.contextvars import bind_contextvars, clear_contextvars, get_contextvars

from payflow.pan import luhn_valid

REQUEST_ID_HEADER = "X-Request-ID"
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")

SCRUBBED = "[scrubbed]"
# Keys whose values are secrets wherever they appear (lower case, compared without - and _).
SECRET_KEYS = frozenset(
    name.replace("_", "")
    for name in (
        "number",
        "card_number",
        "pan",
        "cvc",
        "cvv",
        "cvv2",
        "password",
        "secret",
        "api_key",
        "apikey",
        "authorization",
        "token",
        "access_token",
        "refresh_token",
        "client_secret",
        "signing_secret",
        "webhook_secret",
        "private_key",
        "secret_key",
        "secret_access_key",
        "aws_secret_access_key",
        "credentials",
        "key_secret",
    )
)
_SECRET_NAMES = "|".join(
    ("card_?number", "cvc", "cvv2?", "password", "passwd", "(?:client_|signing_|webhook_)?secret",
     "api_?key", "(?:access_|refresh_)?token", "private_key", "secret_access_key", "key_secret")
)  # fmt: skip
_PATTERNS = [
    # name=value, name: value, "name": "value" (JSON, reprs, query strings) for a secret's name.
    (
        re.compile(rf"""(?i)(["']?\b(?:{_SECRET_NAMES})\b["']?\s*[:=]\s*["']?)([^"'\s,;&}}\])]+)"""),
        rf"\g<1>{SCRUBBED}",
    ),
    (re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{8,}"), rf"\g<1> {SCRUBBED}"),
    (re.compile(r"\b(sk|rk|pk)_(test|live)_[A-Za-z0-9]{6,}"), rf"\g<1>_\g<2>_{SCRUBBED}"),
    (re.compile(r"\bwhsec_[A-Za-z0-9+/=]{6,}"), f"whsec_{SCRUBBED}"),
    (re.compile(r"\bAKIA[0-9A-Z]{16}\b"), f"AKIA{SCRUBBED}"),
]
# A card number as people write it: 13 to 19 digits, maybe in groups split by spaces or dashes.
# Not inside a word (``pay_4242…`` is an id) or a decimal number.
_PAN = re.compile(r"(?<!\w)(?<!\d\.)[2-6](?:[ -]?\d){12,18}(?!\d|\.\d)")


def _pan_mask(match: re.Match) -> str:
    digits = re.sub(r"\D", "", match.group())
    return f"[card …{digits[-4:]}]" if luhn_valid(digits) else match.group()


def scrub_text(text: str) -> str:
    """``text`` with every secret in it replaced."""
    text = _PAN.sub(_pan_mask, text)
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def scrub(value: Any, key: str | None = None) -> Any:
    """``value`` (a string, number or nested dicts and lists) with every secret in it replaced."""
    if key is not None and key.lower().replace("_", "").replace("-", "") in SECRET_KEYS and value:
        return SCRUBBED
    if isinstance(value, str):
        return scrub_text(value)
    if isinstance(value, dict):
        return {k: scrub(v, str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [scrub(v) for v in value]
    if isinstance(value, int) and not isinstance(value, bool):
        text = str(value)  # a card number passed as a number
        scrubbed = scrub_text(text)
        return value if scrubbed == text else scrubbed
    if isinstance(value, float | bool) or value is None:
        return value
    return scrub_text(str(value))


def _scrub_event(logger, method_name: str, event_dict: dict) -> dict:
    return {
        key: scrub(value, None if key in ("event", "exception") else key) for key, value in event_dict.items()
    }


def _extra(logger, method_name: str, event_dict: dict) -> dict:
    """Fields given with ``logger.info(..., extra={...})`` join the line."""
    record = event_dict.get("_record")
    if record is not None:
        for key, value in record.__dict__.items():
            if key not in _RECORD_ATTRIBUTES and not key.startswith("_") and key not in event_dict:
                event_dict[key] = value
    return event_dict


_RECORD_ATTRIBUTES = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}


class JsonFormatter(structlog.stdlib.ProcessorFormatter):
    """The JSON renderer for ``LOGGING`` (``"()": "payflow.observability.logs.JsonFormatter"``)."""

    def __init__(self, *args, **kwargs):
        super().__init__(
            *args,
            foreign_pre_chain=[
                structlog.contextvars.merge_contextvars,
                structlog.stdlib.add_log_level,
                structlog.stdlib.add_logger_name,
                structlog.processors.TimeStamper(fmt="iso", utc=True, key="timestamp"),
                _extra,
            ],
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.format_exc_info,
                _scrub_event,
                structlog.processors.JSONRenderer(default=str, ensure_ascii=False),
            ],
            **kwargs,
        )


class ScrubbingFormatter(logging.Formatter):
    """The plain one-line format (``LOG_FORMAT=plain``), scrubbed the same way, with the request id."""

    def format(self, record: logging.LogRecord) -> str:
        context = get_contextvars()
        line = super().format(record)
        if request_id := context.get("request_id"):
            line = f"{line} request_id={request_id}"
        return scrub_text(line)


# --- The context ----------------------------------------------------------------------


def request_id_from(value: str | None) -> str:
    """The caller's ``X-Request-ID`` when it is a sane token, else a new one."""
    if value and _REQUEST_ID.match(value):
        return value
    return f"req_{uuid.uuid4().hex}"


def log_context_bind(**values: Any) -> None:
    """Add to what every log line of this request or task carries (None values are left out)."""
    bind_contextvars(**{key: value for key, value in values.items() if value is not None})


def log_context(**values: Any):
    """A ``with`` block whose log lines (and the tasks it publishes) carry ``values``; restored after."""
    return structlog.contextvars.bound_contextvars(**values)


def log_context_get(name: str) -> Any:
    return get_contextvars().get(name)


def log_context_clear() -> None:
    clear_contextvars()


# --- Celery: the request id travels with each task --------------------------------------

# Prefixes of the ids tasks take as their first argument, and the context key each binds.
_OBJECT_KEYS = {"pay_": "payment_id", "re_": "refund_id", "whd_": "delivery_id", "dsb_": "disbursement_id"}


def task_headers_add(headers: dict | None = None, **_) -> None:
    """``before_task_publish``: the publisher's request id goes into the message's headers."""
    request_id = log_context_get("request_id")
    if headers is not None and request_id and "request_id" not in headers:
        headers["request_id"] = request_id


def task_context_bind(task=None, task_id=None, args=None, **_) -> None:
    """``task_prerun``: a task's log lines carry its name, id, request id and the object it works on."""
    clear_contextvars()
    request = getattr(task, "request", None)
    request_id = None
    if request is not None:
        request_id = getattr(request, "request_id", None) or (getattr(request, "headers", None) or {}).get(
            "request_id"
        )
    log_context_bind(task=getattr(task, "name", None), task_id=task_id, request_id=request_id)
    if args and isinstance(args[0], str):
        for prefix, key in _OBJECT_KEYS.items():
            if args[0].startswith(prefix):
                log_context_bind(**{key: args[0]})


def task_context_clear(**_) -> None:
    """``task_postrun``: nothing of one task stays for the next in the same process or thread."""
    clear_contextvars()
