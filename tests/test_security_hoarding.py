"""Stock hoarding: unpaid shop orders hold their units for a bounded window, and only a few at once
(issue 12, item 3)."""

from admission.checkout.jobs import sweep


def run_the_sweep(app, hold_minutes: float = 0) -> dict:
    """The reconciler's periodic sweep, as a worker runs it, with every unpaid order's hold over."""
    app.config["UNPAID_ORDER_HOLD_MINUTES"] = hold_minutes
    with app.app_context():
        return sweep()


def test_an_unpaid_order_gives_its_units_back_once_its_hold_expires(app, shop):
    hoarder, buyer = shop.shopper(), shop.shopper()
    lamp = shop.product(stock=2)
    hoarded = shop.order(hoarder, {lamp["id"]: 2}).json()
    assert shop.stock_of(lamp["id"]) == 0
    assert shop.order(buyer, {lamp["id"]: 1}).status_code == 409  # unbuyable while it is held

    assert "unpaid_orders_expired" not in run_the_sweep(app, hold_minutes=15)  # not yet
    assert run_the_sweep(app)["unpaid_orders_expired"] == 1
    assert shop.get(hoarder, f"/api/orders/{hoarded['id']}").json()["state"] == "cancelled"
    assert shop.stock_of(lamp["id"]) == 2
    assert shop.order(buyer, {lamp["id"]: 1}).status_code == 201
    assert shop.pay(hoarder, hoarded["id"]).status_code == 409  # too late to pay the expired one


def test_a_paid_order_is_never_expired(app, shop):
    ada = shop.shopper()
    mug = shop.product(stock=3)
    order = shop.order(ada, {mug["id"]: 1}).json()
    assert shop.pay(ada, order["id"]).status_code == 200
    run_the_sweep(app)
    assert shop.get(ada, f"/api/orders/{order['id']}").json()["state"] == "paid"
    assert shop.stock_of(mug["id"]) == 2


def test_a_shopper_may_have_only_a_few_unpaid_orders_open(app, shop):
    hoarder = shop.shopper()
    products = [shop.product(stock=5) for _ in range(4)]
    placed = [shop.order(hoarder, {product["id"]: 1}) for product in products]
    assert [answer.status_code for answer in placed[:3]] == [201, 201, 201]
    refused = placed[3]
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "too_many_open_orders"
    assert refused.json()["error"]["message"].startswith("You have 3 unpaid orders.")
    assert shop.stock_of(products[3]["id"]) == 5  # the refused order held nothing

    assert shop.pay(hoarder, placed[0].json()["id"]).status_code == 200
    assert shop.order(hoarder, {products[3]["id"]: 1}).status_code == 201
