"""Payments over the live services: amounts checked against the order, timeouts, refunds, cards."""

import logging
import time

import jwt
import pytest
import requests
from orders_helpers import TIMES_OUT

from api.orders import lifecycle
from api.payments.models import Payment
from yakku.extensions import db

CARD = {"number": "4242424242424242", "exp_month": 12, "exp_year": 2099, "cvc": "123"}


def pending_order(shop, member, price=1000):
    """An order moved to payment_pending, as orders does before it charges."""
    order = shop.order(member, {shop.product(price=price)["id"]: 1}).json()
    moved = shop.internal("POST", f"/api/orders/internal/{order['id']}/transition", {"to": "payment_pending"})
    assert moved.status_code == 200, moved.text
    return moved.json()


def charge(shop, order, **changes):
    """POST /api/payments/charges with CARD, or with what `changes` says (card=None: no card)."""
    body = {
        "order_id": order["id"],
        "amount": order["total"],
        "currency": order["currency"],
        "idempotency_key": f"order:{order['id']}:test",
        "card": CARD,
        **changes,
    }
    return shop.internal("POST", "/api/payments/charges", {k: v for k, v in body.items() if v is not None})


def tokenise(shop, account_id: int, card: dict = CARD) -> dict:
    """POST /api/payments/methods, as the storefront and the sale's checkout call it."""
    answer = shop.internal("POST", "/api/payments/methods", {"card": card, "account_id": account_id})
    assert answer.status_code == 201, answer.text
    return answer.json()


def test_a_charge_captures_once_per_key(shop):
    order = pending_order(shop, shop.shopper(), price=4500)
    first, again = charge(shop, order), charge(shop, order)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"] and first.json()["state"] == "captured"
    assert first.json()["provider_reference"].startswith("sbx_ch_")


def test_the_amount_must_match_the_order(shop):
    order = pending_order(shop, shop.shopper(), price=4500)
    for changes in ({"amount": 1}, {"currency": "USD"}):
        answer = charge(shop, order, **changes)
        assert answer.status_code == 422 and answer.json()["error"]["code"] == "amount_mismatch"
    assert shop.payments_of(order["id"]) == []


def test_only_an_order_waiting_for_payment_is_charged(shop):
    ada = shop.shopper()
    order = shop.order(ada, {shop.product()["id"]: 1}).json()
    answer = charge(shop, order)
    assert answer.status_code == 409 and answer.json()["error"]["code"] == "order_not_payable"
    missing = charge(shop, {**order, "id": 999_999})
    assert missing.status_code == 404


def test_the_same_key_for_another_charge_is_a_conflict(shop):
    ada = shop.shopper()
    first, second = pending_order(shop, ada), pending_order(shop, ada)
    assert charge(shop, first, idempotency_key="shared").status_code == 201
    clash = charge(shop, second, idempotency_key="shared")
    assert clash.status_code == 409 and clash.json()["error"]["code"] == "idempotency_conflict"


@pytest.mark.parametrize(
    "card, field",
    [
        ({**CARD, "number": "4242424242424241"}, "number"),  # fails the Luhn check
        ({**CARD, "number": "4242"}, "number"),
        ({**CARD, "exp_year": 2020}, "exp_year"),  # expired
        ({**CARD, "exp_month": 13}, "exp_month"),
        ({**CARD, "cvc": "12"}, "cvc"),
    ],
)
def test_invalid_cards_are_refused_before_the_provider(shop, card, field):
    order = pending_order(shop, shop.shopper())
    answer = charge(shop, order, card=card)
    assert answer.status_code == 422 and answer.json()["error"]["code"] == "validation_error"
    assert field in answer.json()["error"]["fields"]["card"]
    assert shop.payments_of(order["id"]) == []


def test_a_timed_out_card_leaves_the_order_pending_until_settled(shop, app, live_api):
    ada = shop.shopper()
    mug = shop.product(stock=3)
    order = shop.order(ada, {mug["id"]: 1}).json()
    answer = shop.pay(ada, order["id"], TIMES_OUT)
    assert answer.status_code == 202 and answer.json()["state"] == "payment_pending"
    assert [p["state"] for p in shop.payments_of(order["id"])] == ["pending"]
    assert shop.stock_of(mug["id"]) == 2  # still held: the money may yet have moved

    with live_api.app_context():
        assert lifecycle.settle_pending(order["id"]).state == "payment_pending"  # too young to settle
        settled = lifecycle.settle_pending(order["id"], min_age=lifecycle.timedelta(0))
        assert settled.state == "payment_failed"
    assert [p["state"] for p in shop.payments_of(order["id"])] == ["failed"]
    assert shop.stock_of(mug["id"]) == 3


def test_a_direct_timed_out_charge_answers_504_and_stays_pending(shop):
    order = pending_order(shop, shop.shopper())
    answer = charge(shop, order, card={**CARD, "number": TIMES_OUT.replace(" ", "")})
    assert answer.status_code == 504 and answer.json()["error"]["code"] == "payment_timeout"
    [payment] = shop.payments_of(order["id"])
    assert payment["state"] == "pending"
    settled = shop.internal("POST", f"/api/payments/{payment['id']}/settle")
    assert settled.json()["state"] == "failed"


def test_a_refund_happens_once_and_only_for_captured_payments(shop):
    order = pending_order(shop, shop.shopper())
    payment = charge(shop, order).json()
    first = shop.internal("POST", f"/api/payments/{payment['id']}/refund")
    again = shop.internal("POST", f"/api/payments/{payment['id']}/refund")
    assert (first.json()["state"], again.json()["state"]) == ("refunded", "refunded")
    assert [t["to_state"] for t in again.json()["transitions"]] == ["pending", "captured", "refunded"]

    declined = pending_order(shop, shop.shopper())
    refused = charge(shop, declined, card={**CARD, "number": "4000000000000002"})
    assert refused.status_code == 402
    payment_id = refused.json()["error"]["fields"]["payment_id"]
    answer = shop.internal("POST", f"/api/payments/{payment_id}/refund")
    assert answer.status_code == 409 and answer.json()["error"]["code"] == "illegal_transition"


def test_card_numbers_are_never_stored_nor_logged(shop, app, caplog):
    caplog.set_level(logging.DEBUG)
    ada = shop.shopper()
    order = shop.order(ada, {shop.product()["id"]: 1}).json()
    assert shop.pay(ada, order["id"], "4000 0000 0000 0119").status_code == 202
    assert shop.pay(ada, shop.order(ada, {shop.product()["id"]: 1}).json()["id"]).status_code == 200
    with app.app_context():
        for payment in db.session.query(Payment):
            stored = " ".join(str(getattr(payment, c.key)) for c in Payment.__table__.columns)
            assert "4242424242424242" not in stored and "4000000000000119" not in stored
    for text in ("4242424242424242", "4242 4242 4242 4242", "4000000000000119"):
        assert text not in caplog.text


def test_a_sale_order_is_recorded_and_paid_for_its_shopper(shop):
    # A single checkout is a batch of one: the sale makes and pays its orders only through the batches.
    ada = shop.shopper()
    mug = shop.product(price=3000, stock=5)
    wanted = {"account_id": ada.id, "items": [{"product_id": mug["id"], "quantity": 1}]}
    body = {"sale_id": 7, "units": 5, "orders": [{**wanted, "idempotency_key": "ticket-abc"}]}
    first = shop.internal("POST", "/api/orders/internal/batch", body)
    again = shop.internal("POST", "/api/orders/internal/batch", body)
    assert (first.status_code, again.status_code) == (200, 200)
    (order,) = first.json()["items"]
    assert again.json()["items"][0]["id"] == order["id"]  # the ticket's key answers the same order
    recorded = shop.internal("GET", f"/api/orders/internal/{order['id']}").json()
    assert recorded["source"] == "sale" and recorded["sale_id"] == 7 and recorded["total"] == 3000
    assert shop.stock_of(mug["id"]) == 5  # the sale's own counter holds sale units, not the catalog
    clash = {
        "sale_id": 7,
        "units": 5,
        "orders": [{**wanted, "account_id": ada.id + 1, "idempotency_key": "ticket-abc"}],
    }
    assert shop.internal("POST", "/api/orders/internal/batch", clash).status_code == 409

    token = tokenise(shop, ada.id)["token"]
    payment = {"payment_method": token, "order_id": order["id"], "idempotency_key": "t"}
    paid = shop.internal("POST", "/api/orders/internal/batch/pay", {"payments": [payment]})
    assert paid.status_code == 200 and paid.json()["items"][0]["order"]["state"] == "paid"
    assert shop.get(ada, f"/api/orders/{order['id']}").json()["state"] == "paid"


def test_a_card_becomes_a_short_lived_token_that_pays_its_shoppers_orders_only(shop, app, redis_client):
    ada, bea = shop.shopper(), shop.shopper()
    method = tokenise(shop, ada.id, {**CARD, "number": "5555 5555 5555 4444"})
    assert (method["brand"], method["last4"], method["expires_in"]) == ("mastercard", "4444", 15 * 60)
    assert method["token"].startswith("sbx_pm_") and "number" not in method and "cvc" not in method
    [key] = redis_client.keys(f"payments:*:method:{method['token']}")
    assert 15 * 60 - 5 <= redis_client.ttl(key) <= 15 * 60
    theirs = pending_order(shop, bea)
    refused = charge(shop, theirs, card=None, payment_method=method["token"])  # not bea's card
    assert refused.status_code == 422 and refused.json()["error"]["code"] == "payment_method_expired"
    assert refused.json()["error"]["fields"] == {"payment_method": [refused.json()["error"]["message"]]}
    assert shop.payments_of(theirs["id"]) == []  # refused before any payment was made
    mine = pending_order(shop, ada)
    paid = charge(shop, mine, card=None, payment_method=method["token"])
    assert paid.status_code == 201 and paid.json()["state"] == "captured"
    assert paid.json()["card_last4"] == "4444"


def test_an_expired_token_is_refused_and_the_order_can_be_paid_with_the_card_again(shop, redis_client):
    ada = shop.shopper()
    method = tokenise(shop, ada.id)
    redis_client.delete(*redis_client.keys(f"payments:*:method:{method['token']}"))  # its TTL ran out
    order = shop.order(ada, {shop.product()["id"]: 1}).json()
    late = shop.post(
        ada, f"/api/orders/{order['id']}/pay", {"payment_method": method["token"], "idempotency_key": "a1"}
    )
    assert late.status_code == 422 and late.json()["error"]["code"] == "payment_method_expired"
    again = tokenise(shop, ada.id)["token"]
    paid = shop.post(
        ada, f"/api/orders/{order['id']}/pay", {"payment_method": again, "idempotency_key": "a2"}
    )
    assert paid.status_code == 200 and paid.json()["state"] == "paid"


@pytest.mark.parametrize(
    "body, field",
    [
        ({"card": {**CARD, "number": "4242424242424241"}, "account_id": 1}, "card"),
        ({"card": {**CARD, "cvc": "12"}, "account_id": 1}, "card"),
        ({"card": CARD}, "account_id"),
        ({"card": CARD, "account_id": 0}, "account_id"),
    ],
)
def test_tokenising_refuses_a_bad_card_in_the_error_shape(shop, body, field):
    answer = shop.internal("POST", "/api/payments/methods", body)
    assert answer.status_code == 422
    error = answer.json()["error"]
    assert error["code"] == "validation_error" and field in error["fields"]


def test_a_charge_takes_a_token_or_a_card_not_both_nor_neither(shop):
    order = pending_order(shop, shop.shopper())
    token = tokenise(shop, order["account_id"])["token"]
    both, neither = charge(shop, order, payment_method=token), charge(shop, order, card=None)
    for answer in (both, neither):
        assert answer.status_code == 422 and "payment_method" in answer.json()["error"]["fields"]


INTERNAL = [
    ("POST", "/api/orders/internal/batch"),
    ("GET", "/api/orders/internal/1"),
    ("POST", "/api/orders/internal/1/transition"),
    ("POST", "/api/orders/internal/batch/pay"),
    ("POST", "/api/orders/internal/1/cancel"),
    ("POST", "/api/orders/internal/1/settle"),
    ("POST", "/api/payments/methods"),
    ("POST", "/api/payments/charges"),
    ("GET", "/api/payments/1"),
    ("POST", "/api/payments/1/refund"),
    ("POST", "/api/payments/1/settle"),
    ("GET", "/api/payments/internal/by-order/1"),
]


@pytest.mark.parametrize("verb, path", INTERNAL)
@pytest.mark.parametrize("credential", ["none", "shopper", "forged", "expired"])
def test_internal_endpoints_need_a_service_token(live_api, config, shoppers, verb, path, credential):
    ada = shoppers.verified() if credential == "shopper" else None
    now, secret = int(time.time()), config["SERVICE_SECRET"]
    claims = {"iss": "orders", "aud": "yakku-internal", "iat": now, "exp": now + 60}
    headers = {
        "none": {},
        "shopper": ada.headers if ada else {},
        "forged": {"X-Service-Token": jwt.encode(claims, "not-the-service-secret" * 2, algorithm="HS256")},
        "expired": {"X-Service-Token": jwt.encode({**claims, "exp": now - 5}, secret, algorithm="HS256")},
    }[credential]
    if credential == "shopper":  # a shopper's token, even in the service header, is not a service token
        headers = {**headers, "X-Service-Token": ada.access_token}
    answer = requests.request(verb, f"{config['API_URL']}{path}", json={}, headers=headers, timeout=10)
    assert answer.status_code == 401
    assert answer.json()["error"]["code"] == "service_token_required"
