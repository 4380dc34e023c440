"""The guard every provider adapter is called through: each charge's own deadline, and a circuit breaker
that slowness opens.

A charge gets PAYMENT_CHARGE_TIMEOUT_S to answer; one that does not is answered ProviderTimeout (its
payment stays pending, for settling), and the others of its batch are not held for it. A call in which a
charge timed out counts as a failure for the provider's breaker (pybreaker), a call answered in full as
a success: PAYMENT_BREAKER_FAIL_MAX slow calls in a row open it, and while it is open no charge is sent
(the payments service refuses them before storing anything, so nothing is charged and the same key may
be tried again). After PAYMENT_BREAKER_RESET_S one call is let through as a trial.

The breaker lives in the process, like the service client's: each api process learns the provider's
slowness from its own calls.
"""

import time

import pybreaker

from api.payments.providers.base import (
    Card,
    ChargeRequest,
    PaymentMethod,
    PaymentProvider,
    ProviderResult,
    ProviderTimeout,
    ProviderUnavailable,
)
from yakku import metrics


class SlowAnswers(Exception):
    """A call in which a charge timed out: a failure for the breaker, carrying the answers it had."""

    def __init__(self, answers: list):
        super().__init__("a charge got no answer in time")
        self.answers = answers


class _OpenedAt(pybreaker.CircuitBreakerListener):
    """Remembers when the breaker last opened, so whether it still refuses is known without a call."""

    def __init__(self):
        self.at = 0.0

    def state_change(self, breaker, old, new) -> None:
        if new.name == pybreaker.STATE_OPEN:
            self.at = time.monotonic()


class GuardedProvider:
    """A provider adapter with a deadline per charge and a breaker on its charges; other calls pass."""

    def __init__(self, inner: PaymentProvider, charge_timeout: float, fail_max: int, reset_s: float):
        self.inner, self.charge_timeout = inner, charge_timeout
        self.name = inner.name
        self._opened = _OpenedAt()
        self.breaker = pybreaker.CircuitBreaker(
            fail_max=fail_max,
            reset_timeout=reset_s,
            throw_new_error_on_trip=False,
            listeners=[self._opened],
            name="payment-provider",
        )
        metrics.watch_breaker(self.breaker)

    @property
    def refusing(self) -> bool:
        """Whether the breaker is open and still refuses charges (its trial is not due yet)."""
        due = self._opened.at + self.breaker.reset_timeout
        return self.breaker.current_state == pybreaker.STATE_OPEN and time.monotonic() < due

    def charge_many(self, requests: list[ChargeRequest]) -> list[ProviderResult | ProviderTimeout]:
        """The adapter's charge_many, each charge with its deadline, through the breaker; raises
        ProviderUnavailable (nothing sent) while the breaker is open."""
        try:
            return self.breaker.call(self._answered_in_full, requests)
        except SlowAnswers as slow:
            return slow.answers
        except pybreaker.CircuitBreakerError:
            raise ProviderUnavailable("the payment provider's breaker is open") from None

    def charge(self, amount: int, currency: str, payment_method: str, idempotency_key: str) -> ProviderResult:
        """One charge, as a batch of one: raises ProviderTimeout or ProviderUnavailable."""
        [answer] = self.charge_many([ChargeRequest(amount, currency, payment_method, idempotency_key)])
        if isinstance(answer, ProviderTimeout):
            raise answer
        return answer

    def _answered_in_full(self, requests: list[ChargeRequest]) -> list:
        answers = self.inner.charge_many(requests, timeout=self.charge_timeout)
        if any(isinstance(answer, ProviderTimeout) for answer in answers):
            raise SlowAnswers(answers)
        return answers

    def tokenise(self, card: Card, account_id: int, ttl: int) -> PaymentMethod:
        return self.inner.tokenise(card, account_id, ttl)

    def payment_methods(self, tokens: list[str]) -> list[PaymentMethod | None]:
        return self.inner.payment_methods(tokens)

    def refund(self, reference: str, amount: int) -> ProviderResult:
        return self.inner.refund(reference, amount)

    def retrieve(self, idempotency_key: str) -> ProviderResult | None:
        return self.inner.retrieve(idempotency_key)
