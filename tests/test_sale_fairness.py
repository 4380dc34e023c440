"""The sale's promises to shoppers: what they are told is true, the line keeps its order when units come
back, every unit is sold, and a bad submit burns no ticket."""

import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from catalog_helpers import add_product
from sale_helpers import DECLINED_CARD, GOOD_CARD, Sale

from admission import admitter, waiting_room
from admission.checkout.reconcile import reconcile_sale
from workers.worker import make_worker
from yakku.queues import QueueName

WINDOW, GRACE = 60, 5


@pytest.fixture
def sale(live_api, app, client, operator):
    product_id = add_product(app, name="Celadon Cup", price=30_000, stock=10)
    sale = Sale(
        app, client, operator, product_id, units=5, per_shopper_limit=1, checkout_window_s=WINDOW,
        decline_grace_s=GRACE,
    )  # fmt: skip
    sale.act("arm")
    sale.act("open")
    return sale


def tick(sale, at: float) -> None:
    with sale.app.app_context():
        admitter.tick(at)


def states(sale, buyers) -> list[str]:
    return [sale.status(buyer)["state"] for buyer in buyers]


def declined(sale, buyer) -> tuple[str, float]:
    """The buyer admitted, their card declined and the checkout drained: their ticket, and a moment
    before the decline was recorded."""
    tick(sale, time.time())
    ticket = sale.status(buyer)["ticket"]
    before = time.time()
    sale.checkout(buyer, ticket, card=DECLINED_CARD)
    sale.drain()
    return ticket, before


def assert_units_came_back(sale, buyer, ticket) -> None:
    assert sale.outcome(buyer, ticket)["state"] == "failed"
    audit = sale.audit()
    assert audit["ok"], audit["checks"]
    assert audit["figures"]["left"] == 5


def test_a_declined_card_s_units_come_back_once_the_grace_passes_not_the_worker_s_lease(sale, shoppers):
    first, second = shoppers.verified(), shoppers.verified()
    for buyer in (first, second):
        sale.join(buyer)
    ticket, before = declined(sale, first)
    with sale.app.app_context():  # within the grace the units wait for another card
        assert reconcile_sale(sale.id, now=before + GRACE - 1) == {}
    with sale.app.app_context():  # past it they go back, though the reservation is younger than a lease
        assert reconcile_sale(sale.id, now=time.time() + GRACE + 1) == {"decline_lapsed": 1}
    assert_units_came_back(sale, first, ticket)


def test_the_admitter_asks_for_a_declined_card_s_units_back_when_its_grace_lapses(sale, shoppers):
    # Not at the next sweep (every RECONCILE_EVERY_S): a walk-away's units wait the grace, no longer.
    buyer = shoppers.verified()
    sale.join(buyer)
    ticket, before = declined(sale, buyer)
    reconciles = sale.app.extensions["yakku.rq"][QueueName.MAINTENANCE]
    tick(sale, before + GRACE - 1)  # within the grace: the units wait for another card
    assert reconciles.count == 0
    tick(sale, time.time() + GRACE + 2)
    assert reconciles.count == 1  # the grace has lapsed: that sale's reconcile, queued at once
    tick(sale, time.time() + GRACE + 3)
    assert reconciles.count == 1  # once
    make_worker(sale.app, only=[QueueName.MAINTENANCE]).work(burst=True)
    assert_units_came_back(sale, buyer, ticket)


def test_eight_shoppers_five_units_a_no_show_and_a_walk_away_sell_every_unit_in_line_order(sale, shoppers):
    buyers = [shoppers.verified() for _ in range(8)]
    for buyer in buyers:
        sale.join(buyer)
    start = time.time()  # the window opens at admission: signing 8 shoppers up on a loaded box is slow
    tick(sale, start)
    assert states(sale, buyers) == ["admitted"] * 5 + ["standby"] * 3
    assert [sale.status(b)["standby_number"] for b in buyers[5:]] == [1, 2, 3]
    tickets = [sale.status(buyer)["ticket"] for buyer in buyers[:5]]
    # Shopper 1 never checks out; shopper 2's card is declined and they walk away; 3 to 5 pay.
    assert sale.checkout(buyers[1], tickets[1], card=DECLINED_CARD).status_code == 202
    for buyer, ticket in zip(buyers[2:5], tickets[2:5], strict=True):
        assert sale.checkout(buyer, ticket).status_code == 202
    sale.drain()
    assert sale.outcome(buyers[1], tickets[1])["state"] == "declined"
    assert states(sale, buyers[5:]) == ["standby"] * 3  # 2 units are unpaid: nobody is told sold out

    with sale.app.app_context():  # the decline's grace passes with no other card: its unit comes back
        assert reconcile_sale(sale.id, now=time.time() + GRACE + 1, lease=0) == {"decline_lapsed": 1}
    # Admitted at least 2 s after the no-show, so their ticket outlives the no-show's by as much,
    # however fast the box ran the steps before.
    tick(sale, max(time.time(), start + 2))
    assert states(sale, buyers[5:]) == ["admitted", "standby", "standby"]  # to the first on standby

    with sale.app.app_context():  # the others keep polling, so they keep their places meanwhile
        for buyer in buyers[5:]:
            waiting_room.status(sale.id, buyer.id, now=start + WINDOW - 10)
    tick(sale, start + WINDOW + 1)  # the no-show's ticket ends: its unit comes back too
    assert states(sale, buyers[5:]) == ["admitted", "admitted", "standby"]
    latecomer = shoppers.verified()
    sale.join(latecomer)
    assert sale.status(latecomer)["state"] == "standby"  # behind everyone who joined before them

    for buyer in buyers[5:7]:
        assert sale.checkout(buyer, sale.status(buyer)["ticket"]).status_code == 202
    sale.drain()
    # The two still in line keep polling while the last units are paid, as their pages do: a drain
    # slowed past their 30 s grace by a loaded box must not make them lose their places instead.
    assert states(sale, [buyers[7], latecomer]) == ["standby", "standby"]
    tick(sale, time.time())  # every unit is paid: the rest of the line is told at once
    assert states(sale, [buyers[7], latecomer]) == ["sold_out", "sold_out"]
    audit = sale.audit()
    assert audit["ok"], audit["checks"]
    figures = audit["figures"]
    assert (figures["sold"], figures["unsold"], figures["turned_away"]) == (5, 0, 2)
    assert figures["turned_away_while_unsold"] == 0 and figures["admitted_out_of_order"] == 0


def test_a_quantity_over_the_limit_is_refused_at_submit_and_the_ticket_lives_on(sale, shoppers):
    buyer = shoppers.verified()
    sale.join(buyer)
    sale.admit()
    ticket = sale.status(buyer)["ticket"]
    refused = sale.checkout(buyer, ticket, quantity=2)
    assert refused.status_code == 422
    error = refused.json["error"]
    assert (
        error["code"] == "quantity_over_limit" and "1" in error["message"] and error["fields"]["limit"] == 1
    )
    assert sale.status(buyer)["state"] == "admitted"
    assert sale.checkout(buyer, ticket, quantity=1).status_code == 202
    sale.drain()
    assert sale.outcome(buyer, ticket)["state"] == "paid"


def test_of_twenty_simultaneous_submits_of_one_ticket_exactly_one_goes_in(sale, shoppers, config):
    buyer = shoppers.verified()
    sale.join(buyer)
    sale.admit()
    body = {"ticket": sale.status(buyer)["ticket"], "quantity": 1, "card": GOOD_CARD}
    url = f"{config['API_URL']}/api/sales/{sale.id}/checkout"

    def submit(_):
        return requests.post(url, json=body, headers=buyer.headers, timeout=30).status_code

    with ThreadPoolExecutor(20) as pool:
        answers = sorted(pool.map(submit, range(20)))
    assert answers == [202] + [409] * 19
    sale.drain()
    assert sale.outcome(buyer, body["ticket"])["state"] == "paid"
    assert sale.audit()["figures"]["orders_paid"] == 1
