import json
from decimal import Decimal

from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

from payflow.errors import ApplicationError, ErrorCode


class DecimalJSONParser(JSONParser):
    """JSON numbers become ``Decimal``, never ``float``: 250.10 stays exactly 250.10.

    Bodies are bounded: at most ``API_MAX_BODY_BYTES`` (413 beyond; the
    middleware refuses a larger Content-Length before reading), nesting at most
    ``API_MAX_JSON_DEPTH`` deep and ``API_MAX_JSON_ITEMS`` keys and array items
    in all, so no body can make a worker spend its memory or recursion on it.
    """

    def parse(self, stream, media_type=None, parser_context=None):
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        limit = settings.API_MAX_BODY_BYTES
        raw = stream.read(limit + 1) if stream is not None else b""
        if len(raw) > limit:
            raise ApplicationError(
                ErrorCode.REQUEST_TOO_LARGE, f"The request body is larger than {limit} bytes."
            )
        try:
            data = json.loads(
                raw.decode(encoding),
                parse_float=Decimal,
                parse_constant=self._refuse_constant,
            )
        except RecursionError:
            raise self._too_deep() from None
        except (ValueError, UnicodeDecodeError) as exc:
            raise ParseError(f"The request body is not valid JSON: {exc}") from None
        self._check_shape(data)
        return data

    @staticmethod
    def _refuse_constant(name: str):
        raise ValueError(f"{name} is not a number JSON allows")

    @staticmethod
    def _too_deep() -> ApplicationError:
        return ApplicationError(
            ErrorCode.INVALID_REQUEST,
            f"The request body nests objects and arrays more than {settings.API_MAX_JSON_DEPTH} deep.",
        )

    @classmethod
    def _check_shape(cls, data) -> None:
        max_depth, max_items = settings.API_MAX_JSON_DEPTH, settings.API_MAX_JSON_ITEMS
        items = 0
        pending = [(data, 1)]
        while pending:
            value, depth = pending.pop()
            if isinstance(value, dict):
                children = value.values()
            elif isinstance(value, list):
                children = value
            else:
                continue
            if depth > max_depth:
                raise cls._too_deep()
            items += len(children)
            if items > max_items:
                raise ApplicationError(
                    ErrorCode.INVALID_REQUEST,
                    f"The request body has more than {max_items} fields and array items in all.",
                )
            pending.extend((child, depth + 1) for child in children)
