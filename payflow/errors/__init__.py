"""One error type, one JSON shape, stable codes.

Every API error leaves PayFlow as::

    {"error": {"type": "...", "code": "...", "message": "...", "param": null}}

Services raise ``ApplicationError(ErrorCode.X, "message", param="field")``;
the DRF exception handler (``handlers.api_exception_handler``) renders it.
"""

from .codes import ErrorCode
from .exceptions import ApplicationError

__all__ = ("ApplicationError", "ErrorCode")
