"""Who may read the operational endpoints (``/v1/health?deep=1``, ``/metrics``).

An operator logged in to the admin (a staff session), or a caller with
``Authorization: Bearer <OPERATIONS_TOKEN>`` — for scrapers and probes that
cannot log in. Without a token configured, only sessions are let in.
"""

import hmac

from django.conf import settings
from django.contrib.auth import get_user


def operator_allowed(request) -> bool:
    """``request`` is Django's (``request._request`` of a DRF request)."""
    # From the session itself: DRF sets request.user to its own (anonymous) user on API views.
    user = get_user(request)
    if user.is_active and user.is_staff:
        return True
    token = settings.OPERATIONS_TOKEN
    header = request.headers.get("Authorization", "")
    scheme, _, given = header.partition(" ")
    if not token or scheme.lower() != "bearer" or not given:
        return False
    return hmac.compare_digest(given.strip().encode(), token.encode())
