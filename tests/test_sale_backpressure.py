"""Back-pressure: a checkout's services go away mid-drain, or its payment provider turns slow, and every
shopper still ends in a true final state, the audit green, no unit sold twice.

Real worker processes (`yakku worker --burst`) drain against the services on loopback (`live_api`); the
faults are injected there: the database refuses every statement for a while, or a card's charge takes
6 s at the sandbox provider.
"""

import signal
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
from catalog_helpers import add_product
from sale_helpers import GOOD_CARD, Sale
from sqlalchemy import event
from test_sale_checkout import admitted_ticket
from test_sale_recovery import reconcile, run_worker, start_worker

from admission.keys import SERVICES_AWAY, sale_keys
from api.payments.providers.sandbox import SLOW
from yakku.extensions import db

pytestmark = pytest.mark.slow

SLOW_CARD = {**GOOD_CARD, "card_number": SLOW}
# The worker's own settings: small batches, so the outage meets a drain with batches still to take.
WORKER = {"CHECKOUT_BATCH": "3", "DRAIN_HOLD_OFF_S": "30", "SERVICE_BREAKER_RESET_SECONDS": "2"}


def new_sale(app, client, operator, units: int) -> Sale:
    product_id = add_product(app, name="Celadon Cup", price=30_000, stock=units + 3)
    sale = Sale(app, client, operator, product_id, units=units, per_shopper_limit=1)
    sale.act("arm")
    sale.act("open")
    return sale


@contextmanager
def database_away(api_app):
    """Every statement of the services' database fails, as when the database server is unreachable."""
    with api_app.app_context():
        engine = db.engine

    unreachable = engine.dialect.dbapi.OperationalError  # the driver's own: sqlite3's or pymysql's

    def refuse(conn, cursor, statement, parameters, context, executemany):
        raise unreachable("the database is unreachable (the test took it away)")

    event.listen(engine, "before_cursor_execute", refuse)
    try:
        yield
    finally:
        event.remove(engine, "before_cursor_execute", refuse)


def stopped(worker) -> bool:
    return Path(f"/proc/{worker.pid}/stat").read_text().split(") ")[1][0] == "T"


def wait_until(what: str, ready, timeout: float = 60.0) -> float:
    """Poll `ready` until it holds; the seconds it took."""
    started = time.monotonic()
    while not ready():
        assert time.monotonic() - started < timeout, f"no {what} within {timeout}s"
        time.sleep(0.1)
    return time.monotonic() - started


@contextmanager
def resumed_at_every_pause(worker):
    """Send SIGCONT whenever the worker stops at its failpoint, until the block ends."""
    done = threading.Event()

    def keep_going():
        while not done.is_set() and worker.poll() is None:
            if stopped(worker):
                worker.send_signal(signal.SIGCONT)
            time.sleep(0.05)

    thread = threading.Thread(target=keep_going, daemon=True)
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join(5)


def counters(sale) -> dict:
    keys = sale_keys(sale.id)
    redis = sale.app.extensions["yakku.sales_redis"]
    return {
        "held": int(redis.get(keys.held) or 0),
        "left": int(redis.get(keys.stock) or 0),
        "waiting_in_line": redis.hlen(keys.checkout_requests),
        "reserved_tickets": redis.zcard(keys.inflight),
    }


def assert_green_and_final(sale, buyers, units: int) -> dict:
    states = [sale.outcome(buyer, ticket)["state"] for buyer, ticket in buyers]
    audit = sale.audit()
    assert audit["ok"], audit["checks"]
    figures = audit["figures"]
    assert all(sale.outcome(b, t)["final"] for b, t in buyers), states
    assert figures["sold"] + figures["held"] <= units and figures["held"] == 0
    assert states.count("paid") == figures["orders_paid"] == figures["payments_captured"] == figures["sold"]
    return figures


def test_a_database_outage_mid_drain_parks_nothing_and_every_shopper_ends_true(
    live_api, app, client, operator, shoppers, config
):
    sale = new_sale(app, client, operator, units=7)
    buyers = []
    for _ in range(7):
        buyer = shoppers.verified()
        buyers.append((buyer, admitted_ticket(sale, buyer)))
        assert sale.checkout(buyer, buyers[-1][1]).status_code == 202
    # The first batch reserves its 3 units, then the database goes away before it orders them.
    worker = start_worker(config, CHECKOUT_PAUSE_AT="after_reserve", **WORKER)
    try:
        wait_until("first batch reserved", lambda: worker.poll() is None and stopped(worker))
        with sale.app.app_context():
            assert counters(sale)["held"] == 3
        with database_away(live_api):
            worker.send_signal(signal.SIGCONT)
            with sale.app.app_context():
                redis = sale.app.extensions["yakku.redis"]
                wait_until(
                    "the drain to hold off (or take the next batch)",
                    lambda: redis.exists(SERVICES_AWAY) or worker.poll() is not None or stopped(worker),
                )
                time.sleep(3)  # the outage goes on: the drain must take nothing meanwhile
                during = counters(sale)
            # Nothing parked: the batch's units are back on the counter, every checkout waits in line.
            assert during == {"held": 0, "left": 7, "waiting_in_line": 7, "reserved_tickets": 0}
            assert worker.poll() is None and not stopped(worker), "the drain took another batch"
            assert {sale.outcome(b, t)["state"] for b, t in buyers} == {"queued"}
        outage_over = time.monotonic()
        with resumed_at_every_pause(worker):
            assert worker.wait(timeout=90) == 0
        resumed_in = time.monotonic() - outage_over
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
    figures = assert_green_and_final(sale, buyers, units=7)
    assert [sale.outcome(b, t)["state"] for b, t in buyers] == ["paid"] * 7
    assert (figures["left"], figures["sold"]) == (0, 7)
    print(f"\noutage: {during}; the line drained {resumed_in:.1f}s after the database came back")


@pytest.fixture
def slow_provider(config):
    """The services' settings for a provider that turns slow: a breaker that opens after two slow calls
    and tries again after 8 s, and pending payments settled 3 s after (not a minute)."""
    config.update(PAYMENT_BREAKER_FAIL_MAX=2, PAYMENT_BREAKER_RESET_S=8.0, ORDER_SETTLE_AFTER_S=3)
    return config


def test_a_slow_provider_holds_no_good_card_and_opens_the_breaker(
    slow_provider, live_api, app, client, operator, shoppers, config, shop
):
    sale = new_sale(app, client, operator, units=10)
    breaker = live_api.extensions["yakku.payment_provider"].breaker

    def submit(cards: list[dict]) -> list[tuple]:
        wave = []
        for card in cards:
            buyer = shoppers.verified()
            ticket = admitted_ticket(sale, buyer)
            assert sale.checkout(buyer, ticket, card=card).status_code == 202
            wave.append((buyer, ticket))
        return wave

    def drain(wave: list[tuple], paid: int) -> float:
        """A worker drains the line (one batch); the seconds from its first checkout taken until `paid`
        of the wave are paid."""
        worker = start_worker(config, **{**WORKER, "CHECKOUT_BATCH": "10"})
        # Taken is anything past "queued": with the breaker open the batch may be taken and paid between
        # two polls once the trial call passes.
        wait_until("the batch taken", lambda: sale.outcome(*wave[0])["state"] != "queued", 30)
        took = wait_until(
            "good cards paid", lambda: [sale.outcome(b, t)["state"] for b, t in wave].count("paid") >= paid
        )
        assert worker.wait(timeout=90) == 0
        return took

    # One slow card among good ones: the good ones are paid in about the usual time, the slow one waits.
    first = submit([GOOD_CARD, GOOD_CARD, SLOW_CARD, GOOD_CARD, GOOD_CARD])
    first_paid_in = drain(first, paid=4)
    # In about the usual time: the charge deadline (2 s) and the batch's own work, not the card's 6 s.
    assert first_paid_in < 4.5, f"the good cards waited {first_paid_in:.1f}s for the slow one"
    slow_buyer, slow_ticket = first[2]
    assert sale.outcome(slow_buyer, slow_ticket)["state"] == "processing"
    assert breaker.current_state == "closed"
    # Slow again: the second slow call in a row opens the breaker.
    second = submit([SLOW_CARD, SLOW_CARD])
    drain(second, paid=0)
    assert breaker.current_state == "open"
    # While it is open nothing is sent: the checkouts wait in line, and go on once its trial call passes.
    third = submit([GOOD_CARD, GOOD_CARD, GOOD_CARD])
    # Opened again now, so the wave meets it open however long its submits took (on a slow box they
    # outlasted its 8 s, and the trial call had already closed it).
    breaker.open()
    started = time.monotonic()
    drain(third, paid=3)
    third_paid_in = time.monotonic() - started
    assert breaker.current_state == "closed"
    for buyer, ticket in third:
        order = shop.internal("GET", f"/api/orders/internal/{sale.outcome(buyer, ticket)['order_id']}").json()
        moves = [move["to_state"] for move in order["transitions"]]
        # Charges paused (nothing sent, the attempt's key freed), then the same attempt paid once.
        assert moves == ["created", "payment_pending", "payment_failed", "payment_pending", "paid"], moves
        assert [p["state"] for p in shop.payments_of(order["id"])] == ["captured"]
    # The slow ones settle later, by the reconciler, as captured.
    time.sleep(3.5)
    reconcile(sale)
    figures = assert_green_and_final(sale, first + second + third, units=10)
    assert figures["sold"] == 10
    print(
        f"\ngood cards paid {first_paid_in:.1f}s after their batch was taken, beside a 6 s card;"
        f" {third_paid_in:.1f}s from a worker's start while the breaker was open"
    )


def test_a_checkout_handed_back_late_gets_its_time_back(live_api, app, client, operator, shoppers, config):
    sale = new_sale(app, client, operator, units=2)
    buyer = shoppers.verified()
    ticket = admitted_ticket(sale, buyer)
    sale.checkout(buyer, ticket)
    assert run_worker(config, crash_at="before_reserve") == -signal.SIGKILL  # held nothing, told nothing
    redis, keys = app.extensions["yakku.sales_redis"], sale_keys(sale.id)
    ticket_id = sale.outcome(buyer, ticket)["ticket_id"]
    deadline = float(redis.hget(keys.ticket_expiry, ticket_id))
    late = deadline - 2  # the sweep finds it with 2 s left on the ticket
    assert reconcile(sale, now=late) == {"handed_back": 1}
    assert sale.outcome(buyer, ticket)["state"] == "interrupted"
    given = float(redis.hget(keys.ticket_expiry, ticket_id))
    # The time the shopper had at submit (about the whole 120 s window), not the 2 s the platform left.
    assert given - late > 100 and redis.zscore(keys.admitted, ticket_id) == given
    status = sale.status(buyer)  # the shopper's page carries a ticket signed with the new deadline
    assert status["ticket_expires_at"] == given
    assert sale.checkout(buyer, status["ticket"]).status_code == 202
    assert run_worker(config) == 0
    assert sale.outcome(buyer, ticket)["state"] == "paid"
    audit = sale.audit()
    assert audit["ok"], audit["checks"]
