"""Where a shop order goes: given while it is unpaid, checked, and offered again for the next order."""

import pytest

ADDRESS = {
    "recipient": "Ada Lovelace",
    "phone": "+82 10-1234-5678",
    "postal_code": "04524",
    "address": "110 Sejong-daero, Jung-gu, Seoul",
    "address_detail": "Apt 1203",
}


def test_a_delivery_is_kept_on_the_order_and_offered_next_time(shop):
    ada, mug = shop.shopper(), shop.product()
    assert shop.get(ada, "/api/orders/delivery/latest").status_code == 404
    order = shop.order(ada, {mug["id"]: 1}).json()
    answer = shop.http.put(f"{shop.url}/api/orders/{order['id']}/delivery", json=ADDRESS, headers=ada.headers)
    assert answer.status_code == 200 and answer.json() == ADDRESS
    assert shop.get(ada, f"/api/orders/{order['id']}").json()["delivery"] == ADDRESS
    assert shop.get(ada, "/api/orders/delivery/latest").json() == ADDRESS
    bob = shop.shopper()
    assert shop.get(bob, "/api/orders/delivery/latest").status_code == 404


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("phone", "12345"),
        ("phone", "call me maybe"),
        ("phone", "+82 10 1234 5678 9999 1"),
        ("postal_code", "4524"),
        ("postal_code", "ABCDE"),
        ("recipient", "   "),
        ("address", ""),
    ],
)
def test_a_delivery_that_cannot_be_delivered_is_refused_by_field(shop, field, value):
    ada, mug = shop.shopper(), shop.product()
    order = shop.order(ada, {mug["id"]: 1}).json()
    body = {**ADDRESS, field: value}
    answer = shop.http.put(f"{shop.url}/api/orders/{order['id']}/delivery", json=body, headers=ada.headers)
    assert answer.status_code == 422 and field in answer.json()["error"]["fields"]


def test_a_paid_orders_delivery_no_longer_changes(shop):
    ada, mug = shop.shopper(), shop.product()
    order = shop.order(ada, {mug["id"]: 1}).json()
    url = f"{shop.url}/api/orders/{order['id']}/delivery"
    shop.http.put(url, json=ADDRESS, headers=ada.headers)
    assert shop.pay(ada, order["id"]).status_code == 200
    answer = shop.http.put(url, json={**ADDRESS, "address": "Elsewhere 1"}, headers=ada.headers)
    assert answer.status_code == 409


def test_only_the_orders_shopper_says_where_it_goes(shop):
    ada, bob, mug = shop.shopper(), shop.shopper(), shop.product()
    order = shop.order(ada, {mug["id"]: 1}).json()
    answer = shop.http.put(f"{shop.url}/api/orders/{order['id']}/delivery", json=ADDRESS, headers=bob.headers)
    assert answer.status_code == 404
