"""The sandbox provider behaves like a real provider's test mode: test cards, idempotency, refunds."""

import time

import pytest

from api.payments.cards import expired, luhn_valid
from api.payments.providers import (
    Card,
    ChargeRequest,
    ProviderError,
    ProviderStatus,
    ProviderTimeout,
    ProviderUnavailable,
)
from api.payments.providers.guard import GuardedProvider
from api.payments.providers.sandbox import SLOW, SandboxProvider, declined_by_rate


def card(number: str) -> Card:
    return Card(number=number, exp_month=12, exp_year=2099, cvc="123")


def token(sandbox: SandboxProvider, number: str) -> str:
    """A fresh payment-method token for a test card, as payments makes one at submit."""
    return sandbox.tokenise(card(number), account_id=1, ttl=60).token


@pytest.fixture
def sandbox(redis_client):
    return SandboxProvider(redis_client, timeout=0.05)


@pytest.mark.parametrize(
    "number, status, code",
    [
        ("4242424242424242", ProviderStatus.CAPTURED, None),
        ("5555555555554444", ProviderStatus.CAPTURED, None),  # any other Luhn-valid number succeeds
        ("4000000000000002", ProviderStatus.DECLINED, "card_declined"),
        ("4000000000009995", ProviderStatus.DECLINED, "insufficient_funds"),
    ],
)
def test_test_cards_decide_the_outcome(sandbox, number, status, code):
    result = sandbox.charge(1000, "KRW", token(sandbox, number), "key-1")
    assert (result.status, result.decline_code) == (status, code)


def test_the_timeout_card_times_out_and_leaves_no_charge(sandbox):
    with pytest.raises(ProviderTimeout):
        sandbox.charge(1000, "KRW", token(sandbox, "4000000000000119"), "slow")
    assert sandbox.retrieve("slow") is None


def test_the_same_key_answers_the_same_charge(sandbox):
    first = sandbox.charge(1000, "KRW", token(sandbox, "4242424242424242"), "again")
    second = sandbox.charge(1000, "KRW", token(sandbox, "4000000000000002"), "again")
    assert first == second and sandbox.retrieve("again") == first


def test_a_batch_answers_each_charge_as_a_charge_alone_would(sandbox):
    sandbox.charge(500, "KRW", token(sandbox, "4000000000000002"), "made-before")
    numbers = {
        "fresh": "4242424242424242",
        "declined": "4000000000000002",
        "slow": "4000000000000119",
        "made-before": "4242424242424242",  # its key was declined before: the same answer again
    }
    results = sandbox.charge_many(
        [ChargeRequest(1000, "KRW", token(sandbox, n), key) for key, n in numbers.items()]
    )
    fresh, declined, slow, made_before = results
    assert fresh.status == ProviderStatus.CAPTURED and sandbox.retrieve("fresh") == fresh
    assert (declined.status, declined.decline_code) == (ProviderStatus.DECLINED, "card_declined")
    assert isinstance(slow, ProviderTimeout) and sandbox.retrieve("slow") is None
    assert made_before == sandbox.retrieve("made-before") and made_before.status == ProviderStatus.DECLINED
    again = sandbox.charge_many([ChargeRequest(1000, "KRW", token(sandbox, "4000000000000002"), "fresh")])
    assert again == [fresh]  # a retried key answers its first charge, whatever card it carries now


def test_a_batch_racing_a_charge_of_the_same_key_answers_the_one_stored(sandbox, monkeypatch):
    reads = sandbox._get_all

    def read_then_lose_the_race(keys):
        found = reads(keys)
        if found[0] is None:  # another call charges "race" between this batch's read and its write
            sandbox.redis.set(
                keys[0], '{"reference": "sbx_ch_other", "status": "declined", "decline_code": "x"}'
            )
        return found

    monkeypatch.setattr(sandbox, "_get_all", read_then_lose_the_race)
    [result] = sandbox.charge_many([ChargeRequest(1000, "KRW", token(sandbox, "4242424242424242"), "race")])
    assert (result.status, result.reference) == (ProviderStatus.DECLINED, "sbx_ch_other")


def test_a_refund_checks_the_charge_and_happens_once(sandbox):
    captured = sandbox.charge(1000, "KRW", token(sandbox, "4242424242424242"), "paid")
    with pytest.raises(ProviderError):
        sandbox.refund(captured.reference, 1001)
    assert sandbox.refund(captured.reference, 1000).status == ProviderStatus.REFUNDED
    assert sandbox.refund(captured.reference, 1000).status == ProviderStatus.REFUNDED
    declined = sandbox.charge(1000, "KRW", token(sandbox, "4000000000000002"), "declined")
    with pytest.raises(ProviderError):
        sandbox.refund(declined.reference, 1000)
    with pytest.raises(ProviderError):
        sandbox.refund("sbx_ch_unknown", 1)


def test_the_decline_rate_is_the_same_for_every_retry_of_a_key(redis_client):
    sandbox = SandboxProvider(redis_client, decline_rate=0.3)
    keys = [f"load-{n}" for n in range(1000)]
    declined = [k for k in keys if declined_by_rate(k, 0.3)]
    assert 250 < len(declined) < 350
    for key in keys[:50]:
        expected = ProviderStatus.DECLINED if key in declined else ProviderStatus.CAPTURED
        assert sandbox.charge(100, "KRW", token(sandbox, "4242424242424242"), key).status == expected
        redis_client.flushdb()  # forget the charge: the answer must come from the key alone
        assert sandbox.charge(100, "KRW", token(sandbox, "4242424242424242"), key).status == expected
    assert not any(declined_by_rate(k, 0) for k in keys)


def test_luhn_and_expiry_checks():
    assert luhn_valid("4242424242424242") and not luhn_valid("4242424242424241")
    assert not luhn_valid("4242x")
    assert expired(1, 2020) and not expired(12, 2099)


def test_a_card_never_shows_its_number(sandbox):
    shown = repr(card("4242424242424242"))
    assert "4242424242424242" not in shown and "4242" in shown


def test_a_token_keeps_the_outcome_brand_and_last_four_for_its_ttl_never_the_number_or_cvc(
    sandbox, redis_client
):
    method = sandbox.tokenise(Card("4000000000009995", 7, 2099, "987"), account_id=5, ttl=60)
    assert (method.brand, method.last4, method.exp_month, method.account_id) == ("visa", "9995", 7, 5)
    [key] = redis_client.keys("payments:*:method:*")
    assert 55 <= redis_client.ttl(key) <= 60
    stored = redis_client.get(key)
    assert "4000000000009995" not in stored and "987" not in stored
    assert sandbox.payment_methods([method.token, "sbx_pm_unknown"]) == [method, None]
    result = sandbox.charge(1000, "KRW", method.token, "by-token")
    assert (result.status, result.decline_code) == (ProviderStatus.DECLINED, "insufficient_funds")


def test_a_token_gone_before_its_charge_is_declined_as_expired_and_charges_nothing(sandbox):
    result = sandbox.charge(1000, "KRW", "sbx_pm_gone", "late")
    assert (result.status, result.decline_code) == (ProviderStatus.DECLINED, "payment_method_expired")
    assert sandbox.retrieve("late") == result  # the same key answers the same, never a capture later


def test_the_slow_card_is_captured_at_once_but_answered_late(redis_client):
    sandbox = SandboxProvider(redis_client, slow=0.3)
    started = time.monotonic()
    result = sandbox.charge(1000, "KRW", token(sandbox, SLOW), "slow-card")
    assert result.status == ProviderStatus.CAPTURED and time.monotonic() - started >= 0.3
    again = time.monotonic()
    assert sandbox.charge(1000, "KRW", token(sandbox, SLOW), "slow-card") == result  # a replay: as slow
    assert time.monotonic() - again >= 0.3
    assert sandbox.retrieve("slow-card") == result  # settling asks quickly


def test_a_slow_charge_past_its_deadline_times_out_alone_and_settles_captured(redis_client):
    sandbox = SandboxProvider(redis_client, slow=6.0)
    requests = [
        ChargeRequest(1000, "KRW", token(sandbox, n), key)
        for key, n in {"good": "4242424242424242", "slow": SLOW, "declined": "4000000000000002"}.items()
    ]
    started = time.monotonic()
    good, slow, declined = sandbox.charge_many(requests, timeout=0.2)
    assert time.monotonic() - started < 1.0  # the deadline, not the slow card's 6 s
    assert good.status == ProviderStatus.CAPTURED and declined.status == ProviderStatus.DECLINED
    assert isinstance(slow, ProviderTimeout)
    assert sandbox.retrieve("slow").status == ProviderStatus.CAPTURED  # the money moved: settling says so


def test_the_guard_opens_its_breaker_under_a_slow_provider_and_sends_nothing_while_open(redis_client):
    sandbox = SandboxProvider(redis_client, slow=6.0)
    guarded = GuardedProvider(sandbox, charge_timeout=0.05, fail_max=3, reset_s=0.5)
    for attempt in range(3):
        assert not guarded.refusing
        with pytest.raises(ProviderTimeout):
            guarded.charge(1000, "KRW", token(sandbox, SLOW), f"slow-{attempt}")
    assert guarded.refusing
    with pytest.raises(ProviderUnavailable):
        guarded.charge(1000, "KRW", token(sandbox, "4242424242424242"), "while-open")
    assert sandbox.retrieve("while-open") is None  # never sent
    time.sleep(0.6)  # the trial call is due: a good answer closes the breaker again
    assert not guarded.refusing
    assert guarded.charge(1000, "KRW", token(sandbox, "4242424242424242"), "trial").status == "captured"
    assert guarded.breaker.current_state == "closed"


def test_a_good_answer_between_slow_ones_keeps_the_breaker_closed(redis_client):
    sandbox = SandboxProvider(redis_client, slow=6.0)
    guarded = GuardedProvider(sandbox, charge_timeout=0.05, fail_max=2, reset_s=10)
    for attempt in range(3):
        with pytest.raises(ProviderTimeout):
            guarded.charge(1000, "KRW", token(sandbox, SLOW), f"slow-{attempt}")
        guarded.charge(1000, "KRW", token(sandbox, "4242424242424242"), f"good-{attempt}")
    assert not guarded.refusing
