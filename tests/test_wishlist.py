"""A shopper's wishlist: their own, and nobody else's."""

import pytest
from catalog_helpers import add_product

from api.wishlist.services import product_exists

WISHLIST = "/api/wishlist"

# The wishlist asks the catalog over HTTP whether a product is on sale.
pytestmark = pytest.mark.usefixtures("live_api")


def item(product_id: int) -> str:
    return f"{WISHLIST}/items/{product_id}"


def listed(client, member) -> dict:
    """The member's wishlist as {product_id: quantity}."""
    answer = client.get(WISHLIST, headers=member.headers)
    assert answer.status_code == 200
    assert answer.json["count"] == len(answer.json["items"])
    return {entry["product_id"]: entry["quantity"] for entry in answer.json["items"]}


@pytest.fixture
def ada(shoppers):
    return shoppers.verified(name="Ada")


@pytest.fixture
def bob(shoppers):
    return shoppers.verified(name="Bob")


@pytest.mark.parametrize(
    "method, path",
    [("get", ""), ("delete", ""), ("put", "/items/1"), ("patch", "/items/1"), ("delete", "/items/1")],
)
@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer not-a-token"}])
def test_the_wishlist_needs_a_signed_in_account(client, method, path, headers):
    answer = getattr(client, method)(f"{WISHLIST}{path}", json={"quantity": 1}, headers=headers)
    assert answer.status_code == 401
    assert answer.json["error"]["code"] in {"unauthorized", "invalid_token"}


def test_an_empty_wishlist(client, ada):
    assert client.get(WISHLIST, headers=ada.headers).json == {"items": [], "count": 0}


def test_put_adds_once_and_sets_the_quantity(app, client, ada):
    mug, tea = add_product(app), add_product(app, name="Green Tea")
    first = client.put(item(mug), json={"quantity": 2}, headers=ada.headers)
    assert first.status_code == 200
    assert first.json["product_id"] == mug and first.json["quantity"] == 2 and first.json["added_at"]
    again = client.put(item(mug), json={"quantity": 3}, headers=ada.headers)
    assert again.status_code == 200 and again.json["added_at"] == first.json["added_at"]
    assert client.put(item(tea), json={}, headers=ada.headers).json["quantity"] == 1
    assert listed(client, ada) == {mug: 3, tea: 1}
    assert [e["product_id"] for e in client.get(WISHLIST, headers=ada.headers).json["items"]] == [mug, tea]


@pytest.mark.parametrize("quantity", [0, -1, 100, 10**12, 1.5, "2", None, True])
@pytest.mark.parametrize("method", ["put", "patch"])
def test_quantity_must_be_one_to_ninety_nine(app, client, ada, method, quantity):
    mug = add_product(app)
    client.put(item(mug), json={"quantity": 5}, headers=ada.headers)
    answer = getattr(client, method)(item(mug), json={"quantity": quantity}, headers=ada.headers)
    assert answer.status_code == 422
    assert "quantity" in answer.json["error"]["fields"]
    assert listed(client, ada) == {mug: 5}


@pytest.mark.parametrize("quantity", [1, 99])
def test_quantity_bounds_are_inclusive(app, client, ada, quantity):
    mug = add_product(app)
    assert (
        client.put(item(mug), json={"quantity": quantity}, headers=ada.headers).json["quantity"] == quantity
    )


@pytest.mark.parametrize("which", ["unknown", "deleted", "huge"])
def test_only_products_on_sale_can_be_added(app, client, ada, operator, which):
    mug = add_product(app)
    client.delete(f"/api/catalog/products/{mug}", headers=operator.headers)
    product_id = {"unknown": mug + 1000, "deleted": mug, "huge": 2**63}[which]
    answer = client.put(item(product_id), json={"quantity": 1}, headers=ada.headers)
    assert answer.status_code == 404
    # An id no INT column can hold names no route at all; the others reach the catalog's answer.
    assert answer.json["error"]["code"] == ("not_found" if which == "huge" else "product_not_found")
    assert listed(client, ada) == {}


def test_patch_changes_only_what_is_on_the_list(app, client, ada):
    mug, tea = add_product(app), add_product(app, name="Green Tea")
    client.put(item(mug), json={"quantity": 1}, headers=ada.headers)
    changed = client.patch(item(mug), json={"quantity": 7}, headers=ada.headers)
    assert changed.status_code == 200 and changed.json["quantity"] == 7
    missing = client.patch(item(tea), json={"quantity": 2}, headers=ada.headers)
    assert missing.status_code == 404 and missing.json["error"]["code"] == "not_in_wishlist"
    assert client.patch(item(mug), json={}, headers=ada.headers).status_code == 422
    assert listed(client, ada) == {mug: 7}


def test_remove_and_clear(app, client, ada):
    mug, tea = add_product(app), add_product(app, name="Green Tea")
    client.put(item(mug), json={"quantity": 1}, headers=ada.headers)
    client.put(item(tea), json={"quantity": 1}, headers=ada.headers)
    assert client.delete(item(mug), headers=ada.headers).status_code == 204
    again = client.delete(item(mug), headers=ada.headers)
    assert again.status_code == 404 and again.json["error"]["code"] == "not_in_wishlist"
    assert listed(client, ada) == {tea: 1}
    assert client.delete(WISHLIST, headers=ada.headers).status_code == 204
    assert client.delete(WISHLIST, headers=ada.headers).status_code == 204  # clearing an empty list is fine
    assert listed(client, ada) == {}


def test_each_shopper_sees_and_changes_only_their_own_list(app, client, ada, bob):
    mug, tea = add_product(app), add_product(app, name="Green Tea")
    client.put(item(mug), json={"quantity": 2}, headers=ada.headers)
    client.put(item(tea), json={"quantity": 4}, headers=bob.headers)
    client.put(item(mug), json={"quantity": 9}, headers=bob.headers)
    assert listed(client, ada) == {mug: 2}
    assert listed(client, bob) == {tea: 4, mug: 9}
    assert client.delete(item(tea), headers=ada.headers).status_code == 404
    assert client.patch(item(tea), json={"quantity": 1}, headers=ada.headers).status_code == 404
    client.delete(WISHLIST, headers=bob.headers)
    assert listed(client, ada) == {mug: 2}
    assert listed(client, bob) == {}


def test_a_deleted_product_stays_listed_until_removed(app, client, ada, operator):
    mug = add_product(app)
    client.put(item(mug), json={"quantity": 1}, headers=ada.headers)
    client.delete(f"/api/catalog/products/{mug}", headers=operator.headers)
    assert listed(client, ada) == {mug: 1}
    assert client.delete(item(mug), headers=ada.headers).status_code == 204


def test_product_exists_asks_the_catalog_service(app, operator, client):
    on_sale, deleted = add_product(app), add_product(app)
    client.delete(f"/api/catalog/products/{deleted}", headers=operator.headers)
    with app.app_context():
        assert product_exists(on_sale) is True
        assert product_exists(deleted) is False
        assert product_exists(on_sale + 1000) is False
        assert product_exists(0) is False and product_exists(2**63) is False


def test_a_wishlist_holds_as_many_products_as_one_order_takes(app, client, ada):
    from api.wishlist.services import MAX_ITEMS

    products = [add_product(app, name=f"Cup {n}") for n in range(MAX_ITEMS + 1)]
    for product in products[:MAX_ITEMS]:
        assert client.put(item(product), json={"quantity": 1}, headers=ada.headers).status_code == 200
    full = client.put(item(products[-1]), json={"quantity": 1}, headers=ada.headers)
    assert full.status_code == 409 and full.json["error"]["code"] == "wishlist_full"
    assert client.put(item(products[0]), json={"quantity": 3}, headers=ada.headers).status_code == 200
