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
    ChargeRequest,
    ProviderError,
    ProviderResult,
    ProviderStatus,
    ProviderTimeout,
)
from api.payments.states import DeclineCode

SUCCEEDS = "4242424242424242"
DECLINED = "4000000000000002"
INSUFFICIENT_FUNDS = "4000000000009995"
TIMES_OUT = "4000000000000119"

# The decline each test card answers with.
DECLINE_CODES = {DECLINED: DeclineCode.CARD_DECLINED, INSUFFICIENT_FUNDS: DeclineCode.INSUFFICIENT_FUNDS}
RATE_DECLINE_CODE = DeclineCode.CARD_DECLINED

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
        answer = self.charge_many([ChargeRequest(amount, currency, card, idempotency_key)])[0]
        if isinstance(answer, ProviderTimeout):
            raise answer
        return answer

    def charge_many(self, requests: list[ChargeRequest]) -> list[ProviderResult | ProviderTimeout]:
        """charge() for each, in at most three round trips whatever their number: read the keys'
        charges, record the new ones (SET NX), read back those a concurrent call recorded first.

        A drain's batch pays hundreds of orders in one call; two round trips per charge were a fifth
        of the orders service's time in it (docs/performance.md).
        """
        references = [reference_for(r.idempotency_key) for r in requests]
        keys = [SANDBOX_CHARGE_KEY.format(reference=reference) for reference in references]
        answers: list = [_result(json.loads(raw)) if raw else None for raw in self._get_all(keys)]
        if any(a is None and r.card.number == TIMES_OUT for a, r in zip(answers, requests, strict=True)):
            time.sleep(self.timeout)  # like a network that never answers: nothing is recorded
        fresh = {
            i: self._decide(request, references[i])
            for i, request in enumerate(requests)
            if answers[i] is None and request.card.number != TIMES_OUT
        }
        pipe = self.redis.pipeline(transaction=False)
        for i, record in fresh.items():
            pipe.set(keys[i], json.dumps(record), nx=True, ex=SANDBOX_CHARGE_TTL)
        stored = dict(zip(fresh, pipe.execute(), strict=True)) if fresh else {}
        raced = [i for i, was_set in stored.items() if not was_set]  # a concurrent call with the key won
        for i, raw in zip(raced, self._get_all([keys[i] for i in raced]), strict=True):
            fresh[i] = json.loads(raw)
        for i, record in fresh.items():
            answers[i] = _result(record)
        return [
            a if a is not None else ProviderTimeout(f"sandbox: no answer within {self.timeout}s")
            for a in answers
        ]

    def _decide(self, request: ChargeRequest, reference: str) -> dict:
        """A new charge's record: captured, or declined by its test card or the decline rate."""
        record = {
            "reference": reference,
            "amount": request.amount,
            "currency": request.currency,
            "last4": request.card.last4,
            "status": ProviderStatus.CAPTURED.value,
            "decline_code": None,
        }
        decline = DECLINE_CODES.get(request.card.number)
        if decline is None and declined_by_rate(request.idempotency_key, self.decline_rate):
            decline = RATE_DECLINE_CODE
        if decline:
            record.update(status=ProviderStatus.DECLINED.value, decline_code=decline)
        return record

    def _get_all(self, keys: list[str]) -> list[str | None]:
        return self.redis.mget(keys) if keys else []  # the keys share a hash tag: one shard, one MGET

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
