"""The fair sale from the issue, on the real platform: eight shoppers in a browser's place for five units,
one who never checks out and one whose card is declined and who leaves. Every unit sells, in line order,
and nobody is told "sold out" while a unit is unsold; a latecomer waits behind everyone who came first.

Real processes (gunicorn's web and api, the admitter, a worker) on a Redis of the test's own; each
shopper polls the waiting room's page as htmx does and checks out when their turn comes.
"""

import threading
import time

import pytest
from catalog_helpers import add_product
from sale_helpers import DECLINED_CARD, Sale
from web_platform_helpers import TIMEOUT_S, WebShopper, first_shown, own_redis, platform, sale_ticket

pytestmark = pytest.mark.slow
__all__ = ["own_redis", "platform"]  # the platform's fixtures, used here

UNITS, WINDOW_S, GRACE_S = 5, 10, 5
SETTINGS = {
    "ADMITTER_INTERVAL_S": "0.1",
    "RECONCILE_EVERY_S": "1",  # the walk-away's unit comes back within the grace and one sweep
    "PASSWORD_HASH_PROFILE": "load-test",
    "WEB_AUTH_RATE_LIMIT": "1000 per minute",
    "AUTH_RATE_LIMIT": "1000 per minute",
}


@pytest.fixture
def platform_settings():
    return SETTINGS


def test_eight_shoppers_five_units_a_no_show_and_a_walk_away_every_unit_sells_in_line_order(
    platform, shoppers, operator, app, client
):
    members = [shoppers.verified(email=f"buyer{n}@example.com") for n in range(1, 10)]
    platform.start("web", "api", "admitter", "worker")
    platform.wait_until_serving()
    product = add_product(app, name="Omija Syrup", price=12_000, stock=UNITS)
    sale = Sale(
        app,
        client,
        operator,
        product,
        units=UNITS,
        per_shopper_limit=1,
        admission_rate=50,
        checkout_window_s=WINDOW_S,
        decline_grace_s=GRACE_S,
    )
    sale.act("arm")
    sale.act("open")
    line = [WebShopper(n, m.email, m.password, platform.web) for n, m in enumerate(members, start=1)]
    no_show, walk_away, latecomer = line[0], line[1], line[8]
    no_show.shows_up = False
    walk_away.card, walk_away.walks_away_after_decline = DECLINED_CARD, True
    go, until = threading.Event(), time.monotonic() + 2 * TIMEOUT_S
    go.set()
    pollers = []
    for shopper in line[:8]:  # one after another: the line's order is the join order
        shopper.log_in()
        shopper.join(sale.id)
        pollers.append(threading.Thread(target=shopper.shop, args=(sale.id, go, until), daemon=True))
        pollers[-1].start()
    platform.wait_for("three paid", lambda: sum(s.panel == "paid" for s in line) >= 3)
    latecomer.log_in()  # joins while the no-show's and the walk-away's units are still held
    latecomer.join(sale.id)
    pollers.append(threading.Thread(target=latecomer.shop, args=(sale.id, go, until), daemon=True))
    pollers[-1].start()
    for poller in pollers:
        poller.join(max(until - time.monotonic(), 0))

    ends = {s.number: s.panel for s in line}
    expected = {1: "expired", 2: "declined", 3: "paid", 4: "paid", 5: "paid", 6: "paid", 7: "paid"}
    assert ends == {**expected, 8: "sold_out", 9: "sold_out"}, {s.number: s.panels for s in line}
    # The units that came back went to the earliest still in line: 6, then 7; never to the latecomer.
    tickets = [sale_ticket(app, sale.id, member.id) for member in members]
    assert tickets == [f"{sale.id}-{n}" for n in range(1, 8)] + [None, None]
    last_paid = max(first_shown(s, "paid") for s in line if s.panel == "paid")
    for told in (line[7], latecomer):  # told "sold out" at once (the audit checks it was true then)
        assert abs(first_shown(told, "sold_out") - last_paid) <= 2.5  # the payer's own page asks each ~1 s
        assert "expired" not in told.panels
    audit = sale.audit()
    assert audit["ok"], audit["checks"]
    figures = audit["figures"]
    assert (figures["sold"], figures["unsold"], figures["turned_away_while_unsold"]) == (UNITS, 0, 0)
    assert figures["admitted_out_of_order"] == 0
