"""A flash sale in real browsers: the operator creates and runs it from the dashboard and watches the
figures move; four shoppers join, see their places move (the fourth on standby, as three units cannot
reach them), one buys (after a declined card), the rest are told "sold out" once every unit is paid.
The admitter runs in a background thread; the checkout queue is drained by the test, so the processing
state stays on screen long enough to be seen. And a shopper who asks for more units than are left while
others' are held is told how many are left, and buys fewer."""

import re
import threading
import time
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from admission import admitter, lookup, sales, stock, waiting_room
from admission.checkout.reconcile import reconcile_sale
from api.catalog.models import Product
from workers.worker import make_worker
from yakku.extensions import db
from yakku.queues import QueueName

pytestmark = pytest.mark.browser

PRODUCT = "Jeju Green Tea, 50 g"
GOOD_CARD = "4242 4242 4242 4242"
DECLINED_CARD = "4000 0000 0000 0002"
PASSWORD = "correct horse battery"
# At 0.2 shoppers a second, from an empty bucket, the first admission comes about five seconds on.
ADMISSION_WAIT_MS = 15_000
# A drained checkout's outcome is shown at the processing panel's next poll (every second): on a loaded
# box that poll and its answer can take seconds, past expect's default 5 s.
DRAINED_WAIT_MS = 15_000


@contextmanager
def admitter_running(api_app):
    """The admitter process, as a thread: ticks every 0.2 s until the test ends."""
    stop = threading.Event()

    def run():
        with api_app.app_context():
            admitter.run(interval=0.2, stop=stop)

    thread = threading.Thread(target=run, name="test-admitter", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(5)


def drain(api_app) -> None:
    """Run the queued checkouts in this process, as a worker would."""
    make_worker(api_app, only=[QueueName.CHECKOUT]).work(burst=True)


def log_in(live_shop, page, email: str, next_path: str = "/") -> None:
    page.goto(live_shop.url(f"/account/login?next={next_path}"))
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("link", name="Account", exact=True)).to_be_attached()  # shown only when signed in


def fill_card(page, number: str) -> None:
    page.get_by_label("Card number").fill(number)
    page.get_by_label("Month").select_option("12")
    page.get_by_label("Year").select_option(str(date.today().year + 2))
    page.get_by_label("CVC").fill("123")


def both(live_shop, pages, name: str) -> None:
    """Screenshots of the same state on the desktop and on the phone."""
    for page in pages:
        live_shop.screenshot(page, name)


def test_an_operator_runs_a_sale_that_four_shoppers_queue_for(live_shop, pages, operator, shoppers):
    page = pages
    with live_shop.api_app.app_context():
        product_id = db.session.scalars(select(Product.id).where(Product.name == PRODUCT)).one()
    ada, ben, cho, dan = (shoppers.verified(name=n) for n in ("Ada", "Ben", "Cho", "Dan"))
    with admitter_running(live_shop.api_app):
        ops, ops_phone = page("desktop"), page("phone")
        log_in(live_shop, ops, operator.email, "/ops")
        ops.get_by_role("link", name="New sale").first.click()
        ops.get_by_label("Name").fill("Tea drop")
        ops.get_by_label("Product", exact=True).select_option(str(product_id))
        ops.get_by_label("Units").fill("3")
        ops.get_by_label("Admission rate").fill("0.2")
        ops.get_by_label("Cap").fill("1")
        ops.get_by_label("Per-shopper limit").fill("3")
        ops.get_by_role("button", name="Create sale").click()
        expect(ops.locator("[data-state]")).to_have_text("Draft")
        for action, state in (("Arm", "Armed"), ("Open", "Open"), ("Pause", "Paused")):
            ops.get_by_role("button", name=action, exact=True).click()
            expect(ops.locator("[data-state]")).to_have_text(state)
        sale_path = re.search(r"/ops/sales/\d+", ops.url).group(0)

        # Four shoppers join while admission is paused: three places for three units, the fourth is
        # on standby (nothing is sold yet, so nobody is told sold out).
        buyer, buyer_phone = page("desktop"), page("phone")
        second, third, fourth = page("desktop"), page("desktop"), page("phone")
        product_path = f"/products/{product_id}"
        for tab, member, place in (
            (buyer, ada, "You are number 1 in line"),
            (second, ben, "You are number 2 in line"),
            (third, cho, "You are number 3 in line"),
            (fourth, dan, "You are number 1 on standby"),
        ):
            log_in(live_shop, tab, member.email, product_path)
            expect(tab.locator(".sale-box")).to_contain_text("The sale is paused")
            tab.get_by_role("button", name="Join the queue").click()
            # In the waiting room before the next shopper joins: places follow the order joins arrive in.
            expect(tab.locator("#sale-status h1")).to_have_text(place)
        fourth_desktop = page("desktop")
        log_in(live_shop, fourth_desktop, dan.email, f"/sales/{_sale_id(sale_path)}/wait")
        expect(fourth_desktop.locator(".standby-chance")).to_contain_text("Not measured yet")
        both(live_shop, [fourth_desktop, fourth], "sale-standby")
        log_in(live_shop, buyer_phone, ada.email, f"/sales/{_sale_id(sale_path)}/wait")
        expect(buyer_phone.locator(".sale-position")).to_have_text("1")  # a second device: same place
        ops.reload()
        expect(ops.locator('[data-figure="waiting"]')).to_have_text("4")
        expect(ops.locator('[data-figure="standby"]')).to_have_text("1")

        # Resumed at one shopper every five seconds: the first is admitted and the others move up.
        ops.get_by_role("button", name="Resume").click()
        expect(ops.locator("[data-state]")).to_have_text("Open")  # resumed before the shoppers look
        for tab in (buyer, second, third):  # a refresh asks now rather than at the next poll
            tab.reload()
        # (No look at the places before the first admission: on a busy box the reloads take longer
        # than the admitter's five seconds.)
        turn = buyer.locator("#sale-status h1")
        expect(turn).to_have_text("It's your turn — check out now", timeout=ADMISSION_WAIT_MS)
        # The others learn they moved up at their own next poll after the admission, seconds apart.
        expect(second.locator(".sale-position")).to_have_text("1", timeout=ADMISSION_WAIT_MS)
        expect(third.locator(".sale-position")).to_have_text("2", timeout=ADMISSION_WAIT_MS)
        expect(second.locator(".eta")).to_contain_text("You are next", timeout=ADMISSION_WAIT_MS)
        expect(third.locator(".eta")).to_contain_text("at the measured", timeout=ADMISSION_WAIT_MS)
        both(live_shop, [third, phone_twin(live_shop, page, cho, sale_path, "2")], "sale-waiting")
        buyer_phone.reload()
        expect(buyer_phone.locator("#sale-status h1")).to_have_text("It's your turn — check out now")
        both(live_shop, [buyer, buyer_phone], "sale-checkout")
        expect(ops.locator('[data-figure="admitted"]')).to_have_text("1")

        buyer.get_by_label("Quantity").fill("3")
        fill_card(buyer, DECLINED_CARD)
        buyer.get_by_role("button", name="Pay now").click()
        expect(buyer.locator("#sale-status h1")).to_have_text("Processing your order…")
        buyer_phone.reload()
        expect(buyer_phone.locator("#sale-status h1")).to_have_text("Processing your order…")
        both(live_shop, [buyer, buyer_phone], "sale-processing")
        drain(live_shop.api_app)
        declined = "Payment declined — try another card."
        expect(buyer.locator("#sale-status .alert")).to_have_text(declined, timeout=DRAINED_WAIT_MS)
        buyer_phone.reload()
        expect(buyer_phone.locator("#sale-status .alert")).to_have_text(declined)
        both(live_shop, [buyer, buyer_phone], "sale-declined")

        fill_card(buyer, GOOD_CARD)
        buyer.get_by_role("button", name="Pay now").click()
        expect(buyer.locator("#sale-status h1")).to_have_text("Processing your order…")
        drain(live_shop.api_app)
        expect(buyer.locator("#sale-status h1")).to_have_text("Your order is paid", timeout=DRAINED_WAIT_MS)
        buyer_phone.reload()
        expect(buyer_phone.locator("#sale-status h1")).to_have_text("Your order is paid")
        both(live_shop, [buyer, buyer_phone], "sale-paid")

        # The three units are sold: everyone still waiting is told, and their pages stop asking.
        for tab in (second, third, fourth):  # each learns it at its next poll, after the admitter's next tick
            # Its next poll may be a standby hint away, after the admitter's tick: on a busy box, longer.
            expect(tab.locator("#sale-status h1")).to_have_text("Sold out", timeout=2 * ADMISSION_WAIT_MS)
            expect(tab.locator("#sale-status")).not_to_have_attribute("hx-trigger", re.compile("."))
        both(live_shop, [second, fourth], "sale-sold-out")

        expect(ops.locator('[data-figure="sold"]')).to_have_text("3")
        expect(ops.locator('[data-figure="left"]')).to_have_text("0")
        expect(ops.locator('[data-figure="paid"]')).to_have_text("1")
        expect(ops.locator('[data-figure="declined"]')).to_have_text("1")
        expect(ops.locator(".chart .line-sold")).to_be_attached()
        log_in(live_shop, ops_phone, operator.email, sale_path)
        both(live_shop, [ops, ops_phone], "dashboard-sale")

        buyer.get_by_role("link", name=re.compile("See order")).click()
        expect(buyer.locator(".section-head .state")).to_have_text("Paid")

        ops.get_by_role("link", name="Audit").click()
        expect(ops.locator(".audit-check.check-ok")).not_to_have_count(0)
        expect(ops.locator(".check-broken")).to_have_count(0)
        live_shop.screenshot(ops, "dashboard-audit")


def open_sale_of_tea(api_app, opened: bool = True, **settings):
    """(product id, sale): an open (or only armed) sale of three units of the tea, made without the UI."""
    with api_app.app_context():
        product_id = db.session.scalars(select(Product.id).where(Product.name == PRODUCT)).one()
        data = {
            "product_id": product_id,
            "units": 3,
            "opens_at": datetime.now(UTC) + timedelta(hours=1),
            "admission_rate": 1000,
            "admitted_cap": 1000,
            **settings,
        }
        sale = sales.create_sale(data, operator_id=1)
        sales.arm_sale(sale.id)
        if opened:
            sales.open_sale(sale.id, time.time())
    return product_id, sale


def test_a_shopper_asking_for_more_than_is_left_while_units_are_held_buys_fewer(live_shop, pages, shoppers):
    api_app = live_shop.api_app
    product_id, sale = open_sale_of_tea(api_app, checkout_window_s=300, per_shopper_limit=3)
    holder, ada = shoppers.verified(name="Holder"), shoppers.verified(name="Ada")
    buyer, buyer_phone = pages("desktop"), pages("phone")
    log_in(live_shop, buyer, ada.email, f"/products/{product_id}")
    buyer.get_by_role("button", name="Join the queue").click()
    expect(buyer.locator(".sale-position")).to_have_text("1")  # in the waiting room: the join is done
    with api_app.app_context():
        waiting_room.join(sale.id, holder.id)
        admitter.tick(time.time())
        # The other shopper reserves two of the three units and is still paying: held, not sold.
        stock.reserve(sale.id, lookup.shopper_ticket_id(sale.id, holder.id), 2)
    buyer.reload()
    expect(buyer.locator("#sale-status h1")).to_have_text("It's your turn — check out now")
    buyer.get_by_label("Quantity").fill("3")
    fill_card(buyer, GOOD_CARD)
    buyer.get_by_role("button", name="Pay now").click()
    expect(buyer.locator("#sale-status h1")).to_have_text("Processing your order…")
    drain(api_app)

    alert = buyer.locator("#sale-status .alert")
    fewer = "Only 1 left — you asked for 3. Lower the quantity and try again."
    expect(alert).to_contain_text(fewer, timeout=DRAINED_WAIT_MS)
    # No polling while the shopper decides: one request, when the ticket ends (some 300 s on).
    at_the_end = re.compile(r"^every (2\d\d|300)s$")
    expect(buyer.locator("#sale-status")).to_have_attribute("hx-trigger", at_the_end)
    expect(buyer.get_by_label("Quantity")).to_have_value("1")
    expect(buyer.get_by_label("Quantity")).to_have_attribute("max", "1")
    log_in(live_shop, buyer_phone, ada.email, f"/sales/{sale.id}/wait")
    buyer_phone.reload()  # without the welcome message
    expect(buyer_phone.locator("#sale-status .alert")).to_contain_text("Only 1 left")
    both(live_shop, [buyer, buyer_phone], "sale-fewer-left")

    fill_card(buyer, GOOD_CARD)
    buyer.get_by_role("button", name="Pay now").click()
    expect(buyer.locator("#sale-status h1")).to_have_text("Processing your order…")
    drain(api_app)
    expect(buyer.locator("#sale-status h1")).to_have_text("Your order is paid", timeout=DRAINED_WAIT_MS)
    expect(buyer.locator("#sale-status")).to_contain_text("1 × Jeju Green Tea")


def test_a_checkout_panel_left_open_ends_itself_when_the_turn_does(live_shop, pages, shoppers):
    api_app = live_shop.api_app
    # The API's least window is 10 s: shorter here, so the test is quick.
    product_id, sale = open_sale_of_tea(api_app, checkout_window_s=4, per_shopper_limit=1)
    ada = shoppers.verified(name="Ada")
    buyer = pages("desktop")
    log_in(live_shop, buyer, ada.email, f"/products/{product_id}")
    buyer.get_by_role("button", name="Join the queue").click()
    expect(buyer.locator(".sale-position")).to_have_text("1")
    with api_app.app_context():
        admitter.tick(time.time())  # admitted; no admitter runs after this, so nothing sweeps the ticket
    buyer.reload()
    expect(buyer.locator("#sale-status h1")).to_have_text("It's your turn — check out now")
    fill_card(buyer, GOOD_CARD)  # ... and the shopper walks away from the open panel
    expect(buyer.locator("#sale-status h1")).to_have_text("Your turn expired", timeout=ADMISSION_WAIT_MS)
    expect(buyer.get_by_role("button", name="Pay now")).to_have_count(0)
    expect(buyer.locator("#sale-status")).not_to_have_attribute("hx-trigger", re.compile("."))
    live_shop.screenshot(buyer, "sale-turn-expired")


def test_a_shopper_on_standby_is_admitted_when_a_declined_unit_comes_back_and_buys(
    live_shop, pages, shoppers
):
    """The standby panel, then the turn when the unit of a buyer who walked away from a decline comes back."""
    api_app = live_shop.api_app
    product_id, sale = open_sale_of_tea(
        api_app, units=1, checkout_window_s=300, per_shopper_limit=1, decline_grace_s=5
    )
    walker, ada = shoppers.verified(name="Walker"), shoppers.verified(name="Ada")
    away, buyer = pages("desktop"), pages("desktop")
    log_in(live_shop, away, walker.email, f"/products/{product_id}")
    away.get_by_role("button", name="Join the queue").click()
    expect(away.locator(".sale-position")).to_have_text("1")  # in line before the admitter's tick
    with api_app.app_context():  # the one unit is the walker's, who joined first
        admitter.tick(time.time())
    log_in(live_shop, buyer, ada.email, f"/products/{product_id}")
    buyer.get_by_role("button", name="Join the queue").click()
    expect(buyer.locator("#sale-status h1")).to_have_text("You are number 1 on standby")
    live_shop.screenshot(buyer, "sale-standby-before-return")

    away.reload()  # the walker's card is declined, and they close the page rather than try another
    fill_card(away, DECLINED_CARD)
    away.get_by_role("button", name="Pay now").click()
    expect(away.locator("#sale-status h1")).to_have_text("Processing your order…")  # in the line
    drain(api_app)
    declined = "Payment declined — try another card."
    expect(away.locator("#sale-status .alert")).to_have_text(declined, timeout=DRAINED_WAIT_MS)
    away.close()
    expect(buyer.locator("#sale-status h1")).to_have_text("You are number 1 on standby")  # not sold out
    with admitter_running(api_app):
        with (
            api_app.app_context()
        ):  # the grace passes: the unit goes back to the line, to the first on standby
            assert reconcile_sale(sale.id, now=time.time() + 6)["decline_lapsed"] == 1
        turn = buyer.locator("#sale-status h1")
        expect(turn).to_have_text(
            "It's your turn — check out now", timeout=ADMISSION_WAIT_MS
        )  # on its own poll
        fill_card(buyer, GOOD_CARD)
        buyer.get_by_role("button", name="Pay now").click()
        expect(turn).to_have_text("Processing your order…")
        drain(api_app)
        expect(turn).to_have_text("Your order is paid", timeout=DRAINED_WAIT_MS)
    live_shop.screenshot(buyer, "sale-standby-bought")


def test_a_waiter_far_back_is_told_the_sale_ended_within_two_seconds_and_stops_asking(
    live_shop, pages, shoppers
):
    """Far back in a slow line the next status is up to 30 s off (at the waiter's own second of the
    half-minute); the end of the sale is told within 2 s."""
    api_app = live_shop.api_app
    page = pages("desktop")
    sale = wait_far_back(live_shop, page, shoppers)
    asked = []
    page.on("request", lambda request: asked.append(request.url) if request.url.endswith("/end") else None)
    with api_app.app_context():
        sales.close_sale(sale.id)
        closed_at = time.monotonic()
    expect(page.locator("#sale-status h1")).to_have_text("The sale has ended", timeout=2_000)
    told_after = time.monotonic() - closed_at
    ends_asked = len(asked)
    page.wait_for_timeout(3_000)
    assert len(asked) == ends_asked, "the page kept asking after it was told"
    assert told_after < 2.0
    live_shop.screenshot(page, "sale-ended-told")


def wait_far_back(live_shop, page, shoppers):
    """A sale whose line moves so slowly that Ada's own next status is up to 30 s off (at her own second of
    the half-minute); Ada waiting in it."""
    api_app = live_shop.api_app
    product_id, sale = open_sale_of_tea(api_app, admission_rate=0.01, checkout_window_s=120)
    with api_app.app_context():
        for _ in range(2):
            waiting_room.join(sale.id, shoppers.verified().id)
    ada = shoppers.verified(name="Ada")
    log_in(live_shop, page, ada.email, f"/products/{product_id}")
    page.get_by_role("button", name="Join the queue").click()
    expect(page.locator("#sale-status")).to_have_attribute("hx-trigger", re.compile(r"^every \d+s$"))
    return sale


def phone_twin(live_shop, page, member, sale_path: str, position: str):
    """The same shopper on a phone: a second device shows the same place."""
    twin = page("phone")
    log_in(live_shop, twin, member.email, f"/sales/{_sale_id(sale_path)}/wait")
    expect(twin.locator(".sale-position")).to_have_text(position)
    return twin


def _sale_id(sale_path: str) -> str:
    return sale_path.rsplit("/", 1)[1]


def test_an_early_joiner_finds_their_draw_entry_and_place(live_shop, pages, shoppers):
    api_app = live_shop.api_app
    # At one admission every 100 s, nobody is admitted while we look.
    product_id, sale = open_sale_of_tea(
        api_app, opened=False, admission_rate=0.01, admitted_cap=1, checkout_window_s=300, per_shopper_limit=1
    )
    with api_app.app_context():
        for other in (shoppers.verified() for _ in range(3)):
            waiting_room.join(sale.id, other.id)
    ada = shoppers.verified(name="Ada")
    buyer = pages("desktop")
    log_in(live_shop, buyer, ada.email, f"/products/{product_id}")
    expect(buyer.locator(".sale-commitment")).to_contain_text("commitment")
    buyer.get_by_role("button", name="Join the queue").click()
    expect(buyer.locator(".sale-draw")).to_contain_text("Your draw entry")
    live_shop.screenshot(buyer, "sale-draw-entry")
    with api_app.app_context():
        sales.open_sale(sale.id, time.time())
    buyer.reload()
    expect(buyer.locator(".sale-draw")).to_contain_text(re.compile(r"place \d of 4 in the draw"))
    buyer.get_by_role("link", name="How to check the draw").click()
    expect(buyer.locator(".sale-draw-mine")).to_have_count(1)
    live_shop.screenshot(buyer, "sale-draw-page")


def test_a_waiter_s_page_keeps_asking_while_the_shop_is_away_so_they_keep_their_place(
    live_shop, pages, shoppers
):
    # No admitter runs: the waiter stays first in line.
    product_id, sale = open_sale_of_tea(live_shop.api_app, checkout_window_s=300, per_shopper_limit=1)
    ada = shoppers.verified(name="Ada")
    waiter = pages("desktop")
    log_in(live_shop, waiter, ada.email, f"/products/{product_id}")
    waiter.get_by_role("button", name="Join the queue").click()
    expect(waiter.locator(".sale-position")).to_have_text("1")
    polls = "**/sales/*/wait"

    def away_for(answer, polls_missed: int = 2) -> None:
        """The shop's polls answered by `answer` (the shop away) until the page has asked that often."""
        missed = []
        waiter.route(polls, lambda route: (missed.append(route.request.url), answer(route)))
        deadline = time.monotonic() + 10
        while len(missed) < polls_missed:
            assert time.monotonic() < deadline, f"the page asked {len(missed)} times in 10 s, then stopped"
            waiter.wait_for_timeout(200)
        waiter.unroute(polls)

    away_for(lambda route: route.abort("connectionrefused"))  # the web restarting
    # A proxy in front answers for it: its error page is not the waiting room, and stays out of it.
    away_for(
        lambda route: route.fulfill(status=502, content_type="text/html", body="<h1>502 Bad Gateway</h1>")
    )
    expect(waiter.locator("#sale-status")).to_have_attribute("data-kind", "waiting")
    expect(waiter.get_by_text("502 Bad Gateway")).to_have_count(0)
    with waiter.expect_response(lambda answer: "/wait" in answer.url and answer.status == 200):
        pass  # the shop is back: the next poll goes through, and the place was kept
    expect(waiter.locator(".sale-position")).to_have_text("1")
    expect(waiter.locator("#sale-status")).to_have_attribute("hx-trigger", "every 1s")
