import codecs
import json
from decimal import Decimal

from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser


class DecimalJSONParser(JSONParser):
    """JSON numbers become ``Decimal``, never ``float``: 250.10 stays exactly 250.10."""

    def parse(self, stream, media_type=None, parser_context=None):
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        try:
            return json.load(
                codecs.getreader(encoding)(stream),
                parse_float=Decimal,
                parse_constant=self._refuse_constant,
            )
        except ValueError as exc:
            raise ParseError(f"The request body is not valid JSON: {exc}") from None

    @staticmethod
    def _refuse_constant(name: str):
        raise ValueError(f"{name} is not a number JSON allows")
