"""A shopper's purchase through the live services: order, pay, decline, retry, cancel, refund."""

import pytest
from orders_helpers import DECLINED, INSUFFICIENT_FUNDS, SUCCEEDS


def states(order: dict) -> list[str]:
    return [t["to_state"] for t in order["transitions"]]


def test_a_verified_shopper_buys_and_pays(shop):
    ada = shop.shopper()
    mug = shop.product(price=1500, stock=5)
    answer = shop.order(ada, {mug["id"]: 2}, key="basket-7")
    assert answer.status_code == 201, answer.text
    order = answer.json()
    assert order["state"] == "created" and order["total"] == 3000 and order["currency"] == mug["currency"]
    assert order["lines"] == [
        {
            "product_id": mug["id"],
            "product_name": mug["name"],
            "unit_price": 1500,
            "quantity": 2,
            "subtotal": 3000,
        }
    ]
    assert shop.stock_of(mug["id"]) == 3  # held while the order waits for its payment

    paid = shop.pay(ada, order["id"], SUCCEEDS)
    assert paid.status_code == 200, paid.text
    assert states(paid.json()) == ["created", "payment_pending", "paid"]
    assert shop.stock_of(mug["id"]) == 3
    [payment] = shop.payments_of(order["id"])
    assert payment["state"] == "captured" and payment["amount"] == 3000 and payment["card_last4"] == "4242"
    reservation = shop.internal("GET", f"/api/catalog/stock/reservations/order:shop:{ada.id}:basket-7")
    assert reservation.json()["state"] == "committed"
    assert shop.get(ada, f"/api/orders/{order['id']}").json()["state"] == "paid"


@pytest.mark.parametrize(
    "card, code", [(DECLINED, "card_declined"), (INSUFFICIENT_FUNDS, "insufficient_funds")]
)
def test_a_declined_card_leaves_the_order_unpaid_and_stock_untouched(shop, card, code):
    ada = shop.shopper()
    mug = shop.product(stock=4)
    order = shop.order(ada, {mug["id"]: 3}).json()

    declined = shop.pay(ada, order["id"], card)
    assert declined.status_code == 402
    assert declined.json()["error"]["code"] == "payment_declined"
    assert declined.json()["error"]["fields"]["decline_code"] == code
    assert shop.get(ada, f"/api/orders/{order['id']}").json()["state"] == "payment_failed"
    assert shop.stock_of(mug["id"]) == 4
    assert [p["state"] for p in shop.payments_of(order["id"])] == ["declined"]

    retried = shop.pay(ada, order["id"], SUCCEEDS)  # another card, a new attempt key
    assert retried.status_code == 200, retried.text
    assert states(retried.json()) == [
        "created",
        "payment_pending",
        "payment_failed",
        "payment_pending",
        "paid",
    ]
    assert shop.stock_of(mug["id"]) == 1
    assert [p["state"] for p in shop.payments_of(order["id"])] == ["captured", "declined"]


def test_replaying_a_declined_attempt_does_not_charge_again(shop):
    ada = shop.shopper()
    order = shop.order(ada, {shop.product()["id"]: 1}).json()
    assert shop.pay(ada, order["id"], DECLINED, key="attempt-1").status_code == 402
    assert shop.pay(ada, order["id"], DECLINED, key="attempt-1").status_code == 402
    assert len(shop.payments_of(order["id"])) == 1


def test_a_retry_after_a_decline_cancels_the_order_when_the_stock_is_gone(shop):
    ada, bob = shop.shopper(), shop.shopper()
    last = shop.product(stock=1)
    first = shop.order(ada, {last["id"]: 1}).json()
    assert shop.pay(ada, first["id"], DECLINED).status_code == 402
    second = shop.order(bob, {last["id"]: 1}).json()
    assert shop.pay(bob, second["id"]).status_code == 200

    retry = shop.pay(ada, first["id"], SUCCEEDS)
    assert retry.status_code == 409
    assert retry.json()["error"]["code"] == "insufficient_stock"
    assert shop.get(ada, f"/api/orders/{first['id']}").json()["state"] == "cancelled"
    assert shop.stock_of(last["id"]) == 0


def test_paying_a_paid_order_again_with_a_new_key_is_refused(shop):
    ada = shop.shopper()
    order = shop.order(ada, {shop.product()["id"]: 1}).json()
    assert shop.pay(ada, order["id"], key="k1").status_code == 200
    assert shop.pay(ada, order["id"], key="k1").json()["state"] == "paid"  # a replay answers the order
    again = shop.pay(ada, order["id"], key="k2")
    assert again.status_code == 409 and again.json()["error"]["code"] == "illegal_transition"
    assert len(shop.payments_of(order["id"])) == 1


def test_cancelling_an_unpaid_order_returns_its_stock(shop):
    ada = shop.shopper()
    mug = shop.product(stock=3)
    order = shop.order(ada, {mug["id"]: 2}).json()
    assert shop.stock_of(mug["id"]) == 1
    cancelled = shop.post(ada, f"/api/orders/{order['id']}/cancel")
    assert cancelled.status_code == 200 and cancelled.json()["state"] == "cancelled"
    assert shop.stock_of(mug["id"]) == 3
    assert shop.post(ada, f"/api/orders/{order['id']}/cancel").json()["state"] == "cancelled"  # once
    assert shop.stock_of(mug["id"]) == 3
    assert shop.pay(ada, order["id"]).status_code == 409


def test_cancelling_a_paid_order_refunds_it_and_returns_stock(shop):
    ada = shop.shopper()
    mug = shop.product(stock=3)
    order = shop.order(ada, {mug["id"]: 2}).json()
    assert shop.pay(ada, order["id"]).status_code == 200
    assert shop.stock_of(mug["id"]) == 1

    refunded = shop.post(ada, f"/api/orders/{order['id']}/cancel")
    assert refunded.status_code == 200, refunded.text
    assert states(refunded.json())[-1] == "refunded"
    assert shop.stock_of(mug["id"]) == 3
    assert [p["state"] for p in shop.payments_of(order["id"])] == ["refunded"]
    assert shop.post(ada, f"/api/orders/{order['id']}/cancel").json()["state"] == "refunded"
    assert shop.stock_of(mug["id"]) == 3


def test_someone_elses_order_is_not_found(shop):
    ada, eve = shop.shopper(), shop.shopper()
    order = shop.order(ada, {shop.product()["id"]: 1}).json()
    assert shop.get(eve, f"/api/orders/{order['id']}").status_code == 404
    assert shop.pay(eve, order["id"]).status_code == 404
    assert shop.post(eve, f"/api/orders/{order['id']}/cancel").status_code == 404
    assert shop.get(ada, f"/api/orders/{order['id']}").status_code == 200


def test_my_orders_are_listed_newest_first_and_paged(shop):
    ada, bob = shop.shopper(), shop.shopper()
    product = shop.product(stock=10)
    ids = [shop.order(ada, {product["id"]: 1}).json()["id"] for _ in range(3)]
    shop.order(bob, {product["id"]: 1})
    page = shop.get(ada, "/api/orders?per_page=2").json()
    assert [o["id"] for o in page["items"]] == ids[::-1][:2]
    assert page["total"] == 3 and page["pages"] == 2
    assert [o["id"] for o in shop.get(ada, "/api/orders?page=2&per_page=2").json()["items"]] == ids[:1]


def test_orders_need_a_signed_in_shopper(shop):
    answer = shop.http.post(f"{shop.url}/api/orders", json={"items": [], "idempotency_key": "k"})
    assert answer.status_code == 401
