"""A shopper's cart: their own, kept across logins, never holding more than the shop has."""

import pytest
from catalog_helpers import add_product

from api.catalog import services as catalog

CART = "/api/cart"

# The cart asks the catalog over HTTP what a product's stock is.
pytestmark = pytest.mark.usefixtures("live_api")


def item(product_id: int) -> str:
    return f"{CART}/items/{product_id}"


def in_cart(client, member) -> dict:
    """The member's cart as {product_id: quantity}, checking the units it reports."""
    answer = client.get(CART, headers=member.headers)
    assert answer.status_code == 200
    lines = {entry["product_id"]: entry["quantity"] for entry in answer.json["items"]}
    assert answer.json["units"] == sum(lines.values())
    return lines


@pytest.fixture
def ada(shoppers):
    return shoppers.verified(name="Ada")


@pytest.mark.parametrize(
    "method, path",
    [("get", ""), ("delete", ""), ("post", "/items/1"), ("put", "/items/1"), ("delete", "/items/1")],
)
def test_the_cart_needs_a_signed_in_account(client, method, path):
    answer = getattr(client, method)(f"{CART}{path}", json={"quantity": 1})
    assert answer.status_code == 401


def test_adding_twice_adds_up_and_setting_replaces(client, app, ada):
    mug = add_product(app, stock=10)
    assert client.post(item(mug), json={"quantity": 2}, headers=ada.headers).status_code == 200
    assert client.post(item(mug), json={"quantity": 3}, headers=ada.headers).json["quantity"] == 5
    assert client.put(item(mug), json={"quantity": 1}, headers=ada.headers).json["quantity"] == 1
    assert in_cart(client, ada) == {mug: 1}


def test_the_cart_outlives_a_login(client, app, shoppers, ada):
    mug = add_product(app)
    client.post(item(mug), json={"quantity": 2}, headers=ada.headers)
    again = shoppers.log_in(ada)
    assert in_cart(client, again) == {mug: 2}


def test_nobody_sees_or_changes_another_shoppers_cart(client, app, shoppers, ada):
    mug = add_product(app)
    client.post(item(mug), json={"quantity": 2}, headers=ada.headers)
    bob = shoppers.verified(name="Bob")
    assert in_cart(client, bob) == {}
    assert client.delete(item(mug), headers=bob.headers).status_code == 404
    assert client.put(item(mug), json={"quantity": 9}, headers=bob.headers).status_code == 404
    assert in_cart(client, ada) == {mug: 2}


def test_more_than_the_stock_is_refused_with_what_is_left(client, app, ada):
    lamp = add_product(app, name="Desk Lamp", stock=3)
    answer = client.post(item(lamp), json={"quantity": 4}, headers=ada.headers)
    assert answer.status_code == 409 and answer.json["error"]["code"] == "not_enough_stock"
    assert answer.json["error"]["fields"]["quantity"] == ["Only 3 left."]
    client.post(item(lamp), json={"quantity": 3}, headers=ada.headers)
    assert client.post(item(lamp), json={"quantity": 1}, headers=ada.headers).status_code == 409
    assert client.put(item(lamp), json={"quantity": 4}, headers=ada.headers).status_code == 409
    assert in_cart(client, ada) == {lamp: 3}


def test_a_sold_out_product_cannot_be_added_but_a_quantity_can_always_be_lowered(client, app, ada):
    gone = add_product(app, name="Limited Hoodie", stock=0)
    answer = client.post(item(gone), json={"quantity": 1}, headers=ada.headers)
    assert answer.status_code == 409 and answer.json["error"]["fields"]["quantity"] == ["Sold out."]
    tea = add_product(app, name="Yuzu Tea", stock=5)
    client.post(item(tea), json={"quantity": 5}, headers=ada.headers)
    with app.app_context():
        catalog.update_product(tea, {"stock": 1})  # others bought the rest meanwhile
    assert client.put(item(tea), json={"quantity": 2}, headers=ada.headers).status_code == 200


@pytest.mark.parametrize("quantity", [0, 100, "2", None])
def test_a_bad_quantity_is_a_validation_error(client, app, ada, quantity):
    mug = add_product(app)
    answer = client.post(item(mug), json={"quantity": quantity}, headers=ada.headers)
    assert answer.status_code == 422 and "quantity" in answer.json["error"]["fields"]


def test_an_unknown_product_is_not_found(client, ada):
    assert client.post(item(999_999), json={"quantity": 1}, headers=ada.headers).status_code == 404
    assert client.post(item(2**40), json={"quantity": 1}, headers=ada.headers).status_code in (404, 405)


def test_removing_and_clearing(client, app, ada):
    mug, tea = add_product(app), add_product(app, name="Yuzu Tea")
    for product in (mug, tea):
        client.post(item(product), json={"quantity": 1}, headers=ada.headers)
    assert client.delete(item(mug), headers=ada.headers).status_code == 204
    assert client.delete(item(mug), headers=ada.headers).status_code == 404
    assert in_cart(client, ada) == {tea: 1}
    assert client.delete(CART, headers=ada.headers).status_code == 204
    assert in_cart(client, ada) == {}
