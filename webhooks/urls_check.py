"""Where webhooks may go: never to this machine, a private network or a metadata service.

Checked at registration and (by the delivery code) again before each
delivery, because DNS can change between the two (rebinding).
"""

import ipaddress
import socket
from urllib.parse import urlsplit

from django.conf import settings

from payflow.errors import ApplicationError, ErrorCode


def _refuse(message: str) -> ApplicationError:
    return ApplicationError(ErrorCode.URL_NOT_ALLOWED, message, param="url")


def webhook_url_check(url: str) -> None:
    parts = urlsplit(url)
    allowed_schemes = {"https", "http"} if settings.WEBHOOK_ALLOW_HTTP else {"https"}
    if parts.scheme not in allowed_schemes or not parts.hostname:
        raise _refuse(f"Webhook URLs must be {' or '.join(sorted(allowed_schemes))} URLs with a host.")
    if settings.WEBHOOK_ALLOW_PRIVATE_URLS:
        return
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or 443, proto=socket.IPPROTO_TCP)
    except socket.gaierror:
        raise _refuse(f"The host {parts.hostname} does not resolve.") from None
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        if not address.is_global or address.is_multicast:
            raise _refuse(f"The host {parts.hostname} resolves to a non-public address ({address}).")
