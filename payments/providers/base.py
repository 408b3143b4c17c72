from abc import ABC, abstractmethod
from dataclasses import dataclass


@dataclass(frozen=True)
class ChargeRequest:
    payment_id: str
    amount: int  # minor units
    currency: str
    type: str
    attempt: int
    sandbox_outcome: str | None = None


@dataclass(frozen=True)
class ChargeResult:
    reference: str


class ProviderError(Exception):
    code = "provider_error"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code:
            self.code = code


class ProviderDecline(ProviderError):
    """A definite "no" (declined card, insufficient funds): the payment fails at once."""

    code = "card_declined"


class ProviderUnavailable(ProviderError):
    """The provider definitely did not process the request: another provider may."""

    code = "provider_unavailable"


class ProviderTransientError(ProviderError):
    """The outcome is unknown or temporarily impossible: retry on the same provider, same key."""

    code = "provider_error"


class ProviderTimeout(ProviderTransientError):
    code = "provider_timeout"


class Provider(ABC):
    """Every call happens once per ``idempotency_key``; a repeat returns the first result.

    Failures raise a ProviderError subclass.
    """

    name: str

    @abstractmethod
    def charge(self, request: ChargeRequest, *, idempotency_key: str) -> ChargeResult:
        """Authorize and capture at once."""

    @abstractmethod
    def authorize(self, request: ChargeRequest, *, idempotency_key: str) -> ChargeResult:
        """Hold the amount for a later capture."""

    @abstractmethod
    def capture(self, *, amount: int, currency: str, idempotency_key: str) -> ChargeResult:
        """Capture up to the authorized amount; the rest is released."""

    @abstractmethod
    def void(self, *, idempotency_key: str) -> None:
        """Release an authorization."""

    @abstractmethod
    def refund(
        self, *, amount: int, currency: str, idempotency_key: str, sandbox_outcome: str | None = None
    ) -> ChargeResult:
        """Return ``amount`` of a captured payment. ``sandbox_outcome`` is for sandbox providers."""
