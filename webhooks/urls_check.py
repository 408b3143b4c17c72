"""Where webhooks may go: never to this machine, a private network or a metadata service.

Checked at registration and again before each delivery, because DNS can
change between the two (rebinding); a delivery connects to the very address
that was checked.
"""

import ipaddress
import socket
from urllib.parse import urlsplit

from django.conf import settings

from payflow.errors import ApplicationError, ErrorCode


def _refuse(message: str) -> ApplicationError:
    return ApplicationError(ErrorCode.URL_NOT_ALLOWED, message, param="url")


def _scheme_check(url: str):
    parts = urlsplit(url)
    allowed_schemes = {"https", "http"} if settings.WEBHOOK_ALLOW_HTTP else {"https"}
    if parts.scheme not in allowed_schemes or not parts.hostname:
        raise _refuse(f"Webhook URLs must be {' or '.join(sorted(allowed_schemes))} URLs with a host.")
    return parts


def url_addresses(url: str) -> list[tuple]:
    """The socket addresses to deliver ``url`` to, all allowed by the settings (else it raises)."""
    parts = _scheme_check(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        infos = socket.getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    except socket.gaierror:
        raise _refuse(f"The host {parts.hostname} does not resolve.") from None
    if not settings.WEBHOOK_ALLOW_PRIVATE_URLS:
        for info in infos:
            address = ipaddress.ip_address(info[4][0].split("%")[0])
            if not address.is_global or address.is_multicast:
                raise _refuse(f"The host {parts.hostname} resolves to a non-public address ({address}).")
    return [(family, address) for family, _, _, _, address in infos]


def webhook_url_check(url: str) -> None:
    """At registration: where private addresses are allowed (locally), the host need not resolve yet."""
    if settings.WEBHOOK_ALLOW_PRIVATE_URLS:
        _scheme_check(url)
    else:
        url_addresses(url)
