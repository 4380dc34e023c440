"""A flash sale end to end over the real services: join, admission, checkout, drain, outcome."""

import pytest
from catalog_helpers import add_product, stock_of
from sale_helpers import DECLINED_CARD, GOOD_CARD, Sale


@pytest.fixture
def sale(live_api, app, client, operator):
    product_id = add_product(app, name="Moon Jar", price=50_000, stock=8)
    sale = Sale(app, client, operator, product_id, units=3)
    sale.product_id = product_id
    sale.act("arm")
    sale.act("open")
    return sale


def admitted_ticket(sale, shopper) -> str:
    sale.join(shopper)
    sale.admit()
    status = sale.status(shopper)
    assert status["state"] == "admitted", status
    return status["ticket"]


def test_arming_takes_the_units_from_catalog_stock(sale, app):
    assert stock_of(app, sale.product_id) == 5


def test_an_admitted_shopper_buys_and_is_told_the_order_is_paid(sale, shoppers, client):
    buyer = shoppers.verified()
    ticket = admitted_ticket(sale, buyer)
    answer = sale.checkout(buyer, ticket, quantity=2)
    assert answer.status_code == 202 and answer.json["state"] == "queued"
    sale.drain()
    outcome = sale.outcome(buyer, ticket)
    assert outcome["state"] == "paid" and outcome["final"]
    order = client.get(f"/api/orders/{outcome['order_id']}", headers=buyer.headers).json
    assert order["state"] == "paid" and order["total"] == 100_000


def test_a_ticket_pays_once(sale, shoppers):
    buyer = shoppers.verified()
    ticket = admitted_ticket(sale, buyer)
    sale.checkout(buyer, ticket)
    sale.drain()
    again = sale.checkout(buyer, ticket)
    assert again.status_code == 409 and again.json["error"]["code"] == "ticket_used"


def test_a_declined_card_may_be_replaced_while_the_ticket_lasts(sale, shoppers):
    buyer = shoppers.verified()
    ticket = admitted_ticket(sale, buyer)
    sale.checkout(buyer, ticket, card=DECLINED_CARD)
    sale.drain()
    declined = sale.outcome(buyer, ticket)
    assert declined["state"] == "declined" and not declined["final"]
    sale.checkout(buyer, ticket, card=GOOD_CARD)
    sale.drain()
    paid = sale.outcome(buyer, ticket)
    assert paid["state"] == "paid" and paid["order_id"] == declined["order_id"]  # one order per ticket


def test_someone_elses_ticket_is_refused(sale, shoppers):
    owner, thief = shoppers.verified(), shoppers.verified()
    ticket = admitted_ticket(sale, owner)
    sale.join(thief)
    answer = sale.checkout(thief, ticket)
    assert answer.status_code == 403 and answer.json["error"]["code"] == "not_your_ticket"


def test_a_forged_ticket_is_refused(sale, shoppers):
    buyer = shoppers.verified()
    admitted_ticket(sale, buyer)
    answer = sale.checkout(buyer, "eyJmb3JnZWQiOnRydWV9.forged")
    assert answer.status_code == 400 and answer.json["error"]["code"] == "ticket_invalid"


def test_shoppers_the_units_cannot_reach_are_told_sold_out_at_once_and_the_rest_buy(sale, shoppers):
    buyers = [shoppers.verified() for _ in range(5)]
    for buyer in buyers:
        sale.join(buyer)
    sale.admit()
    statuses = [sale.status(buyer) for buyer in buyers]
    assert [s["state"] for s in statuses] == ["admitted"] * 3 + ["sold_out"] * 2
    assert all(s["poll_after_seconds"] is None for s in statuses[3:])  # final: stop polling
    for buyer, status in zip(buyers[:3], statuses, strict=False):
        sale.checkout(buyer, status["ticket"])
    sale.drain()
    outcomes = [sale.outcome(b, s["ticket"])["state"] for b, s in zip(buyers, statuses[:3], strict=False)]
    assert outcomes == ["paid"] * 3


def test_a_buyer_asking_for_more_than_is_left_is_told_so(sale, shoppers):
    first, second = shoppers.verified(), shoppers.verified()
    first_ticket, second_ticket = admitted_ticket(sale, first), admitted_ticket(sale, second)
    sale.checkout(first, first_ticket, quantity=2)
    sale.checkout(second, second_ticket, quantity=2)
    sale.drain()
    assert sale.outcome(first, first_ticket)["state"] == "paid"
    assert sale.outcome(second, second_ticket)["state"] == "sold_out"


def test_the_audit_is_green_after_a_sale_with_buyers_declines_and_sell_out(sale, shoppers):
    buyers = [shoppers.verified() for _ in range(4)]
    tickets = [admitted_ticket(sale, buyer) for buyer in buyers[:3]]
    sale.checkout(buyers[0], tickets[0], quantity=2)
    sale.checkout(buyers[1], tickets[1], card=DECLINED_CARD)
    sale.checkout(buyers[2], tickets[2])
    sale.drain()
    audit = sale.audit()
    assert audit["ok"], audit["checks"]
    # 2 units paid, 1 held for the declined shopper's next card, the third buyer found none left
    assert (audit["figures"]["sold"], audit["figures"]["held"], audit["figures"]["left"]) == (2, 1, 0)
    assert audit["figures"]["orders_paid"] == 1 and audit["figures"]["payments_captured"] == 1


@pytest.mark.parametrize("action", ["cancel", "pay"])
def test_a_shopper_cannot_move_a_sale_order_around_the_sale(sale, shoppers, client, action):
    buyer = shoppers.verified()
    ticket = admitted_ticket(sale, buyer)
    sale.checkout(buyer, ticket, card=DECLINED_CARD if action == "pay" else GOOD_CARD)
    sale.drain()
    order_id = sale.outcome(buyer, ticket)["order_id"]
    body = {**GOOD_CARD, "idempotency_key": "around-the-sale"} if action == "pay" else None
    answer = client.post(f"/api/orders/{order_id}/{action}", json=body, headers=buyer.headers)
    assert answer.status_code == 409 and answer.json["error"]["code"] == "sale_order_managed"
    assert sale.audit()["ok"]
