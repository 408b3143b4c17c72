"""API key authentication: ``Authorization: Bearer sk_test_…``.

Keys are looked up by their SHA-256 through the cache (Redis in production),
so the hot path makes no database round trip; revoking a key evicts it.
"""

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header

from payflow.merchants.selectors import api_key_identity
from payflow.observability.logs import log_context_bind


@dataclass(frozen=True)
class MerchantPrincipal:
    """``request.user`` of an API request: the merchant behind the key."""

    merchant_id: str
    api_key_id: int

    is_authenticated = True
    is_anonymous = False


class ApiKeyAuthentication(BaseAuthentication):
    keyword = b"bearer"

    def authenticate(self, request):
        header = get_authorization_header(request).split()
        if not header:
            return None
        if header[0].lower() != self.keyword or len(header) != 2:
            raise exceptions.AuthenticationFailed(_("Send the API key as `Authorization: Bearer sk_...`."))
        try:
            secret = header[1].decode("ascii")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed(_("Invalid API key.")) from None
        identity = api_key_identity(secret=secret)
        if identity is None:
            raise exceptions.AuthenticationFailed(_("Invalid API key, or the key was revoked."))
        log_context_bind(merchant_id=identity["merchant_id"])
        return MerchantPrincipal(**identity), secret

    def authenticate_header(self, request):
        return 'Bearer realm="payflow"'
