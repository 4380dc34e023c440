"""The sandbox provider: a payment network in the manner of Stripe's test mode, kept in Redis.

Documented in docs/payments.md. Test cards decide the outcome (success, decline, insufficient
funds, timeout); any other Luhn-valid number succeeds, unless SANDBOX_DECLINE_RATE declines a
share of charges, chosen by a hash of the idempotency key so a retry gets the same answer.
Charges are remembered in Redis under their key, as a real provider's idempotency does.
"""

import hashlib
import json
import time
from pathlib import Path

import redis

from api.payments.keys import SANDBOX_CHARGE_KEY, SANDBOX_CHARGE_TTL
from api.payments.providers.base import (
    Card,
    ProviderError,
    ProviderResult,
    ProviderStatus,
    ProviderTimeout,
)

SUCCEEDS = "4242424242424242"
DECLINED = "4000000000000002"
INSUFFICIENT_FUNDS = "4000000000009995"
TIMES_OUT = "4000000000000119"

# The decline each test card answers with.
DECLINE_CODES = {DECLINED: "card_declined", INSUFFICIENT_FUNDS: "insufficient_funds"}
RATE_DECLINE_CODE = "card_declined"

_REFUND_SCRIPT = (Path(__file__).parent / "refund.lua").read_text()


def reference_for(idempotency_key: str) -> str:
    """The charge reference a key gets: derived from it, so a retry finds the charge it already made."""
    return "sbx_ch_" + hashlib.sha256(idempotency_key.encode()).hexdigest()[:24]


def declined_by_rate(idempotency_key: str, rate: float) -> bool:
    """Whether the configured decline rate declines this key (the same answer for every retry)."""
    if rate <= 0:
        return False
    share = int(hashlib.sha256(f"rate:{idempotency_key}".encode()).hexdigest()[:8], 16) / 0xFFFFFFFF
    return share < rate


class SandboxProvider:
    """Stripe-test-mode-like provider; charges live in Redis so every process sees the same ones."""

    name = "sandbox"

    def __init__(self, connection: redis.Redis, timeout: float = 0.2, decline_rate: float = 0.0):
        self.redis = connection
        self.timeout = timeout
        self.decline_rate = decline_rate
        self._refund = connection.register_script(_REFUND_SCRIPT)

    def charge(self, amount: int, currency: str, card: Card, idempotency_key: str) -> ProviderResult:
        """Capture or decline by the card; the same key answers the charge already made."""
        reference = reference_for(idempotency_key)
        key = SANDBOX_CHARGE_KEY.format(reference=reference)
        known = self.redis.get(key)
        if known is not None:
            return _result(json.loads(known))
        if card.number == TIMES_OUT:
            # Like a network that never answers: nothing is recorded, so a later look-up finds no charge.
            time.sleep(self.timeout)
            raise ProviderTimeout(f"sandbox: no answer within {self.timeout}s")
        record = {
            "reference": reference,
            "amount": amount,
            "currency": currency,
            "last4": card.last4,
            "status": ProviderStatus.CAPTURED.value,
            "decline_code": None,
        }
        decline = DECLINE_CODES.get(card.number)
        if decline is None and declined_by_rate(idempotency_key, self.decline_rate):
            decline = RATE_DECLINE_CODE
        if decline:
            record.update(status=ProviderStatus.DECLINED.value, decline_code=decline)
        if not self.redis.set(key, json.dumps(record), nx=True, ex=SANDBOX_CHARGE_TTL):
            record = json.loads(self.redis.get(key))  # a concurrent call with this key made it first
        return _result(record)

    def refund(self, reference: str, amount: int) -> ProviderResult:
        """Refund a captured charge once; a second refund answers the first."""
        try:
            raw = self._refund(keys=[SANDBOX_CHARGE_KEY.format(reference=reference)], args=[amount])
        except redis.ResponseError as error:
            raise ProviderError(str(error)) from None
        return _result(json.loads(raw))

    def retrieve(self, idempotency_key: str) -> ProviderResult | None:
        """The charge made under this key, or None (a timed-out charge never happened)."""
        raw = self.redis.get(SANDBOX_CHARGE_KEY.format(reference=reference_for(idempotency_key)))
        return _result(json.loads(raw)) if raw is not None else None


def _result(record: dict) -> ProviderResult:
    return ProviderResult(ProviderStatus(record["status"]), record["reference"], record.get("decline_code"))
