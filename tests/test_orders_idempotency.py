"""Orders are idempotent by key, priced by the catalog only, and one per key under concurrency."""

import uuid
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import func, select

from api.orders.models import Order
from api.payments.keys import SANDBOX_CHARGE_KEY
from api.payments.models import Payment
from yakku.extensions import db


def test_the_same_key_and_body_answer_the_same_order(shop):
    ada = shop.shopper()
    mug = shop.product(stock=5)
    first = shop.order(ada, {mug["id"]: 2}, key="basket-1")
    again = shop.order(ada, {mug["id"]: 2}, key="basket-1")
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"]
    assert shop.stock_of(mug["id"]) == 3


def test_the_key_may_come_in_the_header(shop):
    ada = shop.shopper()
    mug = shop.product(stock=5)
    body = {"items": [{"product_id": mug["id"], "quantity": 1}]}
    headers = {**ada.headers, "Idempotency-Key": "from-header"}
    first = shop.http.post(f"{shop.url}/api/orders", json=body, headers=headers)
    again = shop.http.post(f"{shop.url}/api/orders", json=body, headers=headers)
    assert (first.status_code, again.status_code) == (201, 200)
    missing = shop.http.post(f"{shop.url}/api/orders", json=body, headers=ada.headers)
    assert missing.status_code == 422 and "idempotency_key" in missing.json()["error"]["fields"]


def test_the_same_key_with_another_body_is_a_conflict(shop):
    ada = shop.shopper()
    mug = shop.product(stock=5)
    assert shop.order(ada, {mug["id"]: 1}, key="basket").status_code == 201
    other = shop.order(ada, {mug["id"]: 2}, key="basket")
    assert other.status_code == 409
    assert other.json()["error"]["code"] == "idempotency_conflict"
    assert shop.stock_of(mug["id"]) == 4


def test_two_shoppers_may_pick_the_same_key(shop):
    ada, bob = shop.shopper(), shop.shopper()
    mug = shop.product(stock=5)
    mine = shop.order(ada, {mug["id"]: 1}, key="1")
    theirs = shop.order(bob, {mug["id"]: 1}, key="1")
    assert (mine.status_code, theirs.status_code) == (201, 201)
    assert mine.json()["id"] != theirs.json()["id"]
    assert shop.stock_of(mug["id"]) == 3


def test_the_price_comes_from_the_catalog_never_from_the_caller(shop):
    ada = shop.shopper()
    mug = shop.product(price=2500, stock=5)
    body = {"items": [{"product_id": mug["id"], "quantity": 1, "unit_price": 1}], "idempotency_key": "cheap"}
    sneaky = shop.http.post(f"{shop.url}/api/orders", json=body, headers=ada.headers)
    assert sneaky.status_code == 422
    total = shop.http.post(
        f"{shop.url}/api/orders", json={**body, "total": 1, "items": body["items"][:0]}, headers=ada.headers
    )
    assert total.status_code == 422
    assert shop.order(ada, {mug["id"]: 2}).json()["total"] == 5000
    assert shop.stock_of(mug["id"]) == 3


def test_unknown_products_and_missing_stock_are_refused(shop):
    ada = shop.shopper()
    mug = shop.product(stock=1)
    unknown = shop.order(ada, {999_999: 1})
    assert unknown.status_code == 422 and unknown.json()["error"]["code"] == "product_unavailable"
    short = shop.order(ada, {mug["id"]: 2})
    assert short.status_code == 409 and short.json()["error"]["code"] == "insufficient_stock"
    assert shop.stock_of(mug["id"]) == 1


def test_ten_concurrent_identical_requests_make_one_order(shop, app):
    ada = shop.shopper()
    mug = shop.product(stock=20)
    with ThreadPoolExecutor(10) as pool:
        answers = list(pool.map(lambda _: shop.order(ada, {mug["id"]: 2}, key="same"), range(10)))
    assert all(a.status_code in (200, 201) for a in answers), [a.text for a in answers]
    assert sorted(a.status_code for a in answers).count(201) == 1
    assert len({a.json()["id"] for a in answers}) == 1
    assert shop.stock_of(mug["id"]) == 18
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Order)) == 1


def test_ten_concurrent_payments_with_one_key_capture_once(shop, app, redis_client):
    ada = shop.shopper()
    mug = shop.product(stock=5)
    order = shop.order(ada, {mug["id"]: 1}).json()
    key = uuid.uuid4().hex
    with ThreadPoolExecutor(10) as pool:
        answers = list(pool.map(lambda _: shop.pay(ada, order["id"], key=key), range(10)))
    assert [a.status_code for a in answers] == [200] * 10, [a.text for a in answers]
    assert {a.json()["state"] for a in answers} == {"paid"}
    assert shop.get(ada, f"/api/orders/{order['id']}").json()["state"] == "paid"
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Payment)) == 1
    assert len(redis_client.keys(SANDBOX_CHARGE_KEY.format(reference="*"))) == 1
    assert shop.stock_of(mug["id"]) == 4
