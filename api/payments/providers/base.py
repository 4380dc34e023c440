"""The interface every payment provider adapter offers, and the values it answers."""

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol


class ProviderStatus(StrEnum):
    CAPTURED = "captured"
    DECLINED = "declined"
    REFUNDED = "refunded"


@dataclass(frozen=True)
class Card:
    """A card for one call; its repr shows only the last four digits, so it cannot leak into logs."""

    number: str = field(repr=False)
    exp_month: int
    exp_year: int
    cvc: str = field(repr=False)

    @property
    def last4(self) -> str:
        """The digits a receipt may show."""
        return self.number[-4:]

    def __repr__(self) -> str:
        return f"Card(****{self.last4}, {self.exp_month:02d}/{self.exp_year})"


@dataclass(frozen=True)
class PaymentMethod:
    """A card as the provider keeps it behind a short-lived token: never its number, never its CVC."""

    token: str
    brand: str
    last4: str
    exp_month: int
    exp_year: int
    account_id: int  # the shopper it was made for: no other shopper's order may pay with it


@dataclass(frozen=True)
class ProviderResult:
    """What the provider did: captured (with its reference), declined (with a code) or refunded."""

    status: ProviderStatus
    reference: str
    decline_code: str | None = None


@dataclass(frozen=True)
class ChargeRequest:
    """One charge of a batch: what charge() takes, as one value."""

    amount: int
    currency: str
    payment_method: str  # a token from tokenise()
    idempotency_key: str


class ProviderError(Exception):
    """The provider refused the call itself (an unknown charge, a refund above the charge)."""


class ProviderTimeout(Exception):
    """The provider did not answer in time: the charge may or may not have happened."""


class ProviderUnavailable(Exception):
    """The provider's breaker is open: the charge was not sent (nothing was charged)."""


class PaymentProvider(Protocol):
    """A payment provider adapter. Every call is idempotent by the key or reference it names."""

    name: str

    def tokenise(self, card: Card, account_id: int, ttl: int) -> PaymentMethod:
        """Keep what a charge needs of `card` for `ttl` seconds behind a new token (number and CVC never)."""
        ...

    def payment_methods(self, tokens: list[str]) -> list[PaymentMethod | None]:
        """The methods behind these tokens, in the order given; None for one unknown or expired."""
        ...

    def charge(
        self,
        amount: int,
        currency: str,
        payment_method: str,
        idempotency_key: str,
        timeout: float | None = None,
    ) -> ProviderResult:
        """Capture `amount` (minor units) with a tokenised card; the same key answers the same result,
        never a second charge. A token gone by then is declined (DeclineCode.PAYMENT_METHOD_EXPIRED).
        Raises ProviderTimeout once `timeout` seconds pass without an answer (None: the adapter's own)."""
        ...

    def charge_many(
        self, requests: list[ChargeRequest], timeout: float | None = None
    ) -> list[ProviderResult | ProviderTimeout]:
        """charge() for each request, as one call where the provider allows it; per request, in the order
        given, its result or the timeout it met. Each charge has its own deadline of `timeout` seconds: a
        charge not answered by then is answered ProviderTimeout, and the others are not held for it. An
        adapter for a provider without a batch call makes the charges concurrently, each with that
        timeout: a batch waits for its slowest charge (at most `timeout`), not for the sum of them."""
        ...

    def refund(self, reference: str, amount: int) -> ProviderResult:
        """Refund a captured charge; refunding it again answers the same refund."""
        ...

    def retrieve(self, idempotency_key: str) -> ProviderResult | None:
        """What became of the charge made under this key; None if the provider never made it."""
        ...
