"""The sandbox provider: a payment network in the manner of Stripe's test mode, kept in Redis.

Documented in docs/payments.md. Test cards decide the outcome (success, decline, insufficient
funds, timeout, a slow answer); any other Luhn-valid number succeeds, unless SANDBOX_DECLINE_RATE declines a
share of charges, chosen by a hash of the idempotency key so a retry gets the same answer.
Charges are remembered in Redis under their key, as a real provider's idempotency does.

A card is tokenised before it is charged: the sandbox keeps, under a random token and for a TTL, only
what deciding a charge needs (the test card's outcome class, brand, last 4, expiry, the shopper it was
made for). The number and the CVC are never written anywhere.
"""

import hashlib
import json
import secrets
import time
from enum import StrEnum
from pathlib import Path

import redis

from api.payments.cards import brand_of
from api.payments.keys import SANDBOX_CHARGE_KEY, SANDBOX_CHARGE_TTL, SANDBOX_METHOD_KEY
from api.payments.providers.base import (
    Card,
    ChargeRequest,
    PaymentMethod,
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
SLOW = "4000000000000044"


class Outcome(StrEnum):
    """A test card's outcome class: all a token keeps of which card it was."""

    SUCCEEDS = "succeeds"
    DECLINED = "declined"
    INSUFFICIENT_FUNDS = "insufficient_funds"
    TIMES_OUT = "times_out"
    # Captured at once, but the answer takes SANDBOX_SLOW_S: a provider that is slow, not down.
    SLOW = "slow"


TEST_CARDS = {
    DECLINED: Outcome.DECLINED,
    INSUFFICIENT_FUNDS: Outcome.INSUFFICIENT_FUNDS,
    TIMES_OUT: Outcome.TIMES_OUT,
    SLOW: Outcome.SLOW,
}
# The decline each outcome class answers with.
DECLINE_CODES = {
    Outcome.DECLINED: DeclineCode.CARD_DECLINED,
    Outcome.INSUFFICIENT_FUNDS: DeclineCode.INSUFFICIENT_FUNDS,
}
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

    def __init__(
        self, connection: redis.Redis, timeout: float = 0.2, decline_rate: float = 0.0, slow: float = 6.0
    ):
        self.redis = connection
        self.timeout = timeout
        self.decline_rate = decline_rate
        self.slow = slow
        self._refund = connection.register_script(_REFUND_SCRIPT)

    def tokenise(self, card: Card, account_id: int, ttl: int) -> PaymentMethod:
        """A new token for `card`, kept `ttl` seconds: its outcome class, brand, last 4 and expiry."""
        token = "sbx_pm_" + secrets.token_urlsafe(24)
        record = {
            "outcome": TEST_CARDS.get(card.number, Outcome.SUCCEEDS).value,
            "brand": brand_of(card.number),
            "last4": card.last4,
            "exp_month": card.exp_month,
            "exp_year": card.exp_year,
            "account_id": account_id,
        }
        self.redis.set(SANDBOX_METHOD_KEY.format(token=token), json.dumps(record), ex=ttl)
        return _method(token, record)

    def payment_methods(self, tokens: list[str]) -> list[PaymentMethod | None]:
        """The methods behind these tokens (None: unknown or expired), in one round trip."""
        raws = self._get_all([SANDBOX_METHOD_KEY.format(token=token) for token in tokens])
        return [
            _method(token, json.loads(raw)) if raw else None for token, raw in zip(tokens, raws, strict=True)
        ]

    def charge(
        self,
        amount: int,
        currency: str,
        payment_method: str,
        idempotency_key: str,
        timeout: float | None = None,
    ) -> ProviderResult:
        """Capture or decline by the token's card; the same key answers the charge already made."""
        request = ChargeRequest(amount, currency, payment_method, idempotency_key)
        answer = self.charge_many([request], timeout)[0]
        if isinstance(answer, ProviderTimeout):
            raise answer
        return answer

    def charge_many(
        self, requests: list[ChargeRequest], timeout: float | None = None
    ) -> list[ProviderResult | ProviderTimeout]:
        """charge() for each, in at most three round trips whatever their number: read the keys'
        charges and the tokens' cards, record the new charges (SET NX), read back those a concurrent
        call recorded first. A slow card's charge is recorded at once, but each answer about it takes
        SANDBOX_SLOW_S; past `timeout` it is answered ProviderTimeout (retrieve, for settling, is quick).

        A drain's batch pays hundreds of orders in one call; two round trips per charge were a fifth
        of the orders service's time in it (docs/performance.md).
        """
        deadline = float("inf") if timeout is None else timeout
        references = [reference_for(r.idempotency_key) for r in requests]
        keys = [SANDBOX_CHARGE_KEY.format(reference=reference) for reference in references]
        methods = [SANDBOX_METHOD_KEY.format(token=r.payment_method) for r in requests]
        found = self._get_all(keys + methods)  # every key shares the hash tag: one MGET
        answers: list = [_result(json.loads(raw)) if raw else None for raw in found[: len(keys)]]
        cards = [json.loads(raw) if raw else None for raw in found[len(keys) :]]
        delays = {Outcome.TIMES_OUT: self.timeout, Outcome.SLOW: self.slow}
        waits = {i: delays.get(card["outcome"], 0.0) if card else 0.0 for i, card in enumerate(cards)}
        silent = {i for i, card in enumerate(cards) if card and card["outcome"] == Outcome.TIMES_OUT}
        fresh = {
            i: self._decide(request, references[i], cards[i])
            for i, request in enumerate(requests)
            if answers[i] is None and i not in silent
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
        # The charges are answered side by side: the call lasts as long as its slowest answer (a slow
        # card's is slow every time it is asked, a replay too), and no longer than the deadline. One not
        # answered by then is a timeout, whatever was recorded.
        waited = min(deadline, max(waits.values(), default=0.0))
        if waited:
            time.sleep(waited)
        for i, wait in waits.items():
            if wait > deadline:
                answers[i] = None
        return [
            a if a is not None else ProviderTimeout(f"sandbox: no answer within {waited}s") for a in answers
        ]

    def _decide(self, request: ChargeRequest, reference: str, card: dict | None) -> dict:
        """A new charge's record: captured, or declined by its test card, the decline rate, or a token
        that is gone (expired since the payments service looked it up)."""
        record = {
            "reference": reference,
            "amount": request.amount,
            "currency": request.currency,
            "last4": card["last4"] if card else "",
            "status": ProviderStatus.CAPTURED.value,
            "decline_code": None,
        }
        if card is None:
            decline = DeclineCode.PAYMENT_METHOD_EXPIRED
        else:
            decline = DECLINE_CODES.get(Outcome(card["outcome"]))
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


def _method(token: str, record: dict) -> PaymentMethod:
    return PaymentMethod(
        token, record["brand"], record["last4"], record["exp_month"], record["exp_year"], record["account_id"]
    )


def _result(record: dict) -> ProviderResult:
    return ProviderResult(ProviderStatus(record["status"]), record["reference"], record.get("decline_code"))
