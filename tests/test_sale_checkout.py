"""A flash sale end to end over the real services: join, admission, checkout, drain, outcome."""

import time

import pytest
from catalog_helpers import add_product, stock_of
from sale_helpers import DECLINED_CARD, GOOD_CARD, Sale

from admission import admitter
from admission.checkout.reconcile import reconcile_sale
from admission.checkout.steps import ENTER_AGAIN


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


def test_a_card_token_that_expires_before_the_drain_asks_for_the_card_again(sale, shoppers, redis_client):
    buyer = shoppers.verified()
    ticket = admitted_ticket(sale, buyer)
    sale.checkout(buyer, ticket, card=GOOD_CARD)
    redis_client.delete(*redis_client.keys("payments:*:method:*"))  # its TTL ran out before a job came
    sale.drain()
    told = sale.outcome(buyer, ticket)
    assert told["state"] == "declined" and not told["final"]
    assert told["message"] == ENTER_AGAIN
    sale.checkout(buyer, ticket, card=GOOD_CARD)  # entered again: a fresh token
    sale.drain()
    paid = sale.outcome(buyer, ticket)
    assert paid["state"] == "paid" and paid["order_id"] == told["order_id"]


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


def test_shoppers_the_units_cannot_reach_wait_on_standby_and_are_told_sold_out_once_all_are_paid(
    sale, shoppers
):
    buyers = [shoppers.verified() for _ in range(5)]
    for buyer in buyers:
        sale.join(buyer)
    sale.admit()
    statuses = [sale.status(buyer) for buyer in buyers]
    assert [s["state"] for s in statuses] == ["admitted"] * 3 + ["standby"] * 2
    assert [s["standby_number"] for s in statuses[3:]] == [1, 2]
    assert all(s["poll_after_seconds"] for s in statuses[3:])  # not final: they keep their places
    for buyer, status in zip(buyers[:3], statuses, strict=False):
        sale.checkout(buyer, status["ticket"])
    sale.drain()
    outcomes = [sale.outcome(b, s["ticket"])["state"] for b, s in zip(buyers, statuses[:3], strict=False)]
    assert outcomes == ["paid"] * 3
    sale.admit()  # every unit is paid: the line is told at once
    told = [sale.status(buyer) for buyer in buyers[3:]]
    assert [(s["state"], s["poll_after_seconds"]) for s in told] == [("sold_out", None)] * 2


def test_a_buyer_asking_for_more_than_is_left_is_told_how_many_are_left_not_sold_out(sale, shoppers):
    first, second = shoppers.verified(), shoppers.verified()
    first_ticket, second_ticket = admitted_ticket(sale, first), admitted_ticket(sale, second)
    sale.checkout(first, first_ticket, quantity=2)
    sale.checkout(second, second_ticket, quantity=2)
    sale.drain()
    assert sale.outcome(first, first_ticket)["state"] == "paid"
    told = sale.outcome(second, second_ticket)
    assert (told["state"], told["final"], told["units_left"]) == ("fewer_left", False, 1)


def held_by_a_declined_card(sale, shoppers, quantity: int = 2):
    """Another shopper whose card was declined: their units are held for their next card, not sold.
    Returns the shopper and their ticket."""
    holder = shoppers.verified()
    ticket = admitted_ticket(sale, holder)
    sale.checkout(holder, ticket, quantity=quantity, card=DECLINED_CARD)
    sale.drain()
    assert sale.outcome(holder, ticket)["state"] == "declined"
    return holder, ticket


def test_a_buyer_told_fewer_are_left_while_units_are_held_asks_again_for_fewer_and_pays(sale, shoppers):
    held_by_a_declined_card(sale, shoppers)  # 3 units: 2 held, 1 left
    buyer = shoppers.verified()
    ticket = admitted_ticket(sale, buyer)
    sale.checkout(buyer, ticket, quantity=2)
    sale.drain()
    told = sale.outcome(buyer, ticket)
    assert (told["state"], told["final"], told["units_left"]) == ("fewer_left", False, 1)
    assert told["message"] == "Only 1 left — lower the quantity and try again."
    assert sale.status(buyer)["state"] == "admitted"  # the ticket is not used up
    again = sale.checkout(buyer, ticket, quantity=1)
    assert again.status_code == 202 and again.json["state"] == "queued"
    sale.drain()
    paid = sale.outcome(buyer, ticket)
    # the first try charged nothing, so it is not counted among the card's attempts
    assert (paid["state"], paid["quantity"], paid["attempt"]) == ("paid", 1, 1)
    audit = sale.audit()
    assert audit["ok"], audit["checks"]
    figures = audit["figures"]
    assert (figures["sold"], figures["held"], figures["left"]) == (1, 2, 0)


def test_a_buyer_told_fewer_are_left_who_does_not_ask_again_ends_expired(sale, shoppers, app):
    held_by_a_declined_card(sale, shoppers)
    buyer = shoppers.verified()
    ticket = admitted_ticket(sale, buyer)
    sale.checkout(buyer, ticket, quantity=2)
    sale.drain()
    assert sale.outcome(buyer, ticket)["state"] == "fewer_left"
    later = time.time() + 121  # the sale's checkout window is 120 s
    with app.app_context():
        admitter.tick(later)  # the ticket expires unused, as any other
        reconcile_sale(sale.id, now=later)
    told = sale.outcome(buyer, ticket)
    assert (told["state"], told["final"]) == ("expired", True)
    again = sale.checkout(buyer, ticket, quantity=1)
    assert again.status_code == 409 and again.json["error"]["code"] == "ticket_expired"
    sale.act("close")
    audit = sale.audit()
    assert audit["ok"], audit["checks"]
    assert "every ticket ended in a final state" in [check["name"] for check in audit["checks"]]
    assert audit["figures"]["tickets"]["expired"] == 1 and audit["figures"]["tickets"]["released"] == 1


def test_a_buyer_told_fewer_are_left_keeps_the_unit_left_until_every_unit_is_paid(sale, shoppers, app):
    holder, holder_ticket = held_by_a_declined_card(sale, shoppers)
    buyer, last = shoppers.verified(), shoppers.verified()
    ticket = admitted_ticket(sale, buyer)
    sale.join(last)
    sale.admit()
    assert sale.status(last)["state"] == "standby"  # the one unit left is the buyer's turn
    sale.checkout(buyer, ticket, quantity=2)
    sale.drain()
    assert sale.outcome(buyer, ticket)["units_left"] == 1
    sale.checkout(holder, holder_ticket, card=GOOD_CARD)  # the held units are sold after all
    sale.drain()
    with app.app_context():
        assert reconcile_sale(sale.id) == {}  # a unit is still left for the buyer: nothing ends
    assert sale.outcome(buyer, ticket)["state"] == "fewer_left"
    assert sale.checkout(buyer, ticket, quantity=1).status_code == 202
    sale.drain()
    assert sale.outcome(buyer, ticket)["state"] == "paid"
    sale.admit()  # every unit is paid now
    assert sale.status(last)["state"] == "sold_out"


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
    counts = next(
        c for c in audit["checks"] if c["name"] == "the allotment counts the units being paid or sold"
    )
    assert counts["ok"] and counts["detail"] == "allotment's count 2, orders' 2"


def test_the_audit_says_so_when_the_allotment_miscounts_its_units(sale, shoppers, app):
    from sqlalchemy import update

    from api.orders.models import SaleAllotment
    from yakku.extensions import db

    buyer = shoppers.verified()
    sale.checkout(buyer, admitted_ticket(sale, buyer))
    sale.drain()
    with app.app_context():
        db.session.execute(update(SaleAllotment).where(SaleAllotment.sale_id == sale.id).values(committed=0))
        db.session.commit()
    audit = sale.audit()
    assert not audit["ok"]
    [broken] = [c for c in audit["checks"] if not c["ok"]]
    assert broken == {
        "name": "the allotment counts the units being paid or sold",
        "ok": False,
        "detail": "allotment's count 0, orders' 1",
    }


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
