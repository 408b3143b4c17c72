"""Payment providers behind one interface.

A provider call carries an idempotency key; calling again with the same key
returns the first call's result and never charges twice. That is what makes
retrying after a timeout (an unknown outcome) safe on the same provider —
while only a *definite* failure (``ProviderUnavailable``) may move a payment
to another provider.
"""

from .base import (
    ChargeRequest,
    ChargeResult,
    Provider,
    ProviderDecline,
    ProviderError,
    ProviderTimeout,
    ProviderTransientError,
    ProviderUnavailable,
)
from .sandbox import PROVIDERS, provider_get

__all__ = (
    "PROVIDERS",
    "ChargeRequest",
    "ChargeResult",
    "Provider",
    "ProviderDecline",
    "ProviderError",
    "ProviderTimeout",
    "ProviderTransientError",
    "ProviderUnavailable",
    "provider_get",
)
