"""Orders at their edges: a repeated retry never frees a paid order's units, long keys, an order too large."""

import pytest
from catalog_helpers import add_product, stock_of

from api.orders import remote

GOOD = {"card_number": "4242424242424242", "exp_month": 12, "exp_year": 2040, "cvc": "123"}
DECLINED = {**GOOD, "card_number": "4000000000000002"}

pytestmark = pytest.mark.usefixtures("live_api")


def order_of(client, buyer, product_id: int, key: str = "order-1") -> int:
    body = {"items": [{"product_id": product_id, "quantity": 1}], "idempotency_key": key}
    answer = client.post("/api/orders", json=body, headers=buyer.headers)
    assert answer.status_code == 201, answer.json
    return answer.json["id"]


def test_the_same_retry_twice_at_once_keeps_the_last_unit_sold_once(app, client, shoppers, monkeypatch):
    product = add_product(app, name="Last Teapot", price=1000, stock=1)
    buyer, latecomer = shoppers.verified(), shoppers.verified()
    order = order_of(client, buyer, product)
    assert (
        client.post(
            f"/api/orders/{order}/pay", json={**DECLINED, "idempotency_key": "k1"}, headers=buyer.headers
        ).status_code
        == 402
    )
    hold = remote.reserve
    twin = {}

    def reserve_then_let_the_twin_in(key, items):
        # The first request has just held the units again; its twin (same attempt key) runs now.
        answer = hold(key, items)
        if "started" not in twin:
            twin["started"] = True
            body = {**GOOD, "idempotency_key": "k2"}
            twin["answer"] = app.test_client().post(
                f"/api/orders/{order}/pay", json=body, headers=buyer.headers
            )
        return answer

    monkeypatch.setattr(remote, "reserve", reserve_then_let_the_twin_in)
    first = client.post(
        f"/api/orders/{order}/pay", json={**GOOD, "idempotency_key": "k2"}, headers=buyer.headers
    )
    assert {first.json["state"], twin["answer"].json["state"]} == {"paid"}
    assert stock_of(app, product) == 0
    second_buyer = client.post(
        "/api/orders",
        headers=latecomer.headers,
        json={"items": [{"product_id": product, "quantity": 1}], "idempotency_key": "x"},
    )
    assert second_buyer.status_code == 409 and second_buyer.json["error"]["code"] == "insufficient_stock"


def test_a_retry_with_the_longest_keys_still_pays(app, client, shoppers):
    product = add_product(app, name="Tea Caddy", price=1000, stock=5)
    buyer = shoppers.verified()
    order = order_of(client, buyer, product, key="a" * 100)
    assert (
        client.post(
            f"/api/orders/{order}/pay", json={**DECLINED, "idempotency_key": "b" * 100}, headers=buyer.headers
        ).status_code
        == 402
    )
    paid = client.post(
        f"/api/orders/{order}/pay", json={**GOOD, "idempotency_key": "c" * 100}, headers=buyer.headers
    )
    assert paid.status_code == 200 and paid.json["state"] == "paid"
    assert stock_of(app, product) == 4


def test_an_order_too_large_for_one_payment_is_refused_before_any_stock_is_held(app, client, shoppers):
    product = add_product(app, name="Gold Moon Jar", price=3_000_000, stock=1000)
    buyer = shoppers.verified()
    body = {"items": [{"product_id": product, "quantity": 1000}], "idempotency_key": "too-large"}
    answer = client.post("/api/orders", json=body, headers=buyer.headers)
    assert answer.status_code == 422 and answer.json["error"]["code"] == "order_too_large"
    assert stock_of(app, product) == 1000
