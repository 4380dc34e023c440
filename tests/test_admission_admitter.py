"""The admitter: rate and cap measured from admission times, expiry, standby, sold out, opening, the lease."""

import multiprocessing
import time

import pytest
from admission_helpers import T0

from admission import admitter, stock
from admission.audit import admitted_out_of_order
from admission.exceptions import SoldOut
from admission.keys import ADMITTER_LEASE, sale_keys
from admission.states import SaleState, TicketState, WaiterState


def admission_times(redis, sale_id):
    """When each ticket was admitted, from the admitter's own log."""
    return [score for _, score in redis.zrange(sale_keys(sale_id).admissions, 0, -1, withscores=True)]


def test_rate_is_respected_over_every_window(sales_ops):
    sale = sales_ops.opened(units=1000, rate=5, cap=1000)
    sales_ops.join(sale, *range(1, 301))
    for step in range(1, 201):  # 20 s in ticks of 0.1 s
        sales_ops.tick(T0 + step / 10)
    times = admission_times(sales_ops.redis, sale)
    assert len(times) == pytest.approx(100, abs=1)  # 5/s for 20 s
    for start in range(20):
        in_second = [t for t in times if T0 + start < t <= T0 + start + 1]
        assert len(in_second) <= 5 + 1  # the rate, plus at most what one tick rounds
    assert sales_ops.queue(sale)[0] == len(times) + 1  # in join order


def test_no_burst_after_a_pause(sales_ops):
    from admission import sales

    sale = sales_ops.opened(units=1000, rate=2, cap=1000)
    sales_ops.join(sale, *range(1, 101))
    sales_ops.tick(T0 + 1)
    sales.pause_sale(sale)
    assert sales_ops.tick(T0 + 60)[0].admitted == []
    sales.resume_sale(sale)
    admitted = sum(len(sales_ops.tick(T0 + 60 + t)[0].admitted) for t in range(1, 4))
    assert admitted <= 2 * 3 + 2  # resumed at 2/s: no catching up on the paused minute


def test_cap_bounds_admitted_but_unfinished_shoppers(sales_ops):
    sale = sales_ops.opened(units=100, rate=100, cap=3)
    sales_ops.join(sale, *range(1, 11))
    sales_ops.tick(T0 + 1)
    first = sales_ops.admitted_tickets(sale)
    assert len(first) == 3
    stock.reserve(sale, first[0], 1, T0 + 2)  # reserved: still unfinished
    assert sales_ops.tick(T0 + 3)[0].admitted == []
    stock.confirm(sale, first[0])  # paid: finished, its slot is free
    assert len(sales_ops.tick(T0 + 4)[0].admitted) == 1


def test_unused_tickets_expire_and_free_their_slot(sales_ops):
    sale = sales_ops.opened(units=100, rate=100, cap=1, window=60)
    sales_ops.join(sale, 1, 2)
    sales_ops.tick(T0 + 1)
    ticket = sales_ops.ticket_of(sale, 1)
    sales_ops.status(sale, 2, T0 + 50)
    report = sales_ops.tick(T0 + 62)[0]
    assert report.expired == [ticket]
    assert [shopper for _, shopper, _ in report.admitted] == [2]
    assert sales_ops.status(sale, 1, T0 + 62).state == WaiterState.EXPIRED
    assert stock.tickets_by_state(sale)[TicketState.EXPIRED] == 1


def _states(sales_ops, sale, shoppers, now):
    return {shopper: sales_ops.status(sale, shopper, now).state for shopper in shoppers}


@pytest.mark.parametrize("reserved", [0, 2])
def test_newcomers_the_units_left_cannot_reach_are_on_standby_not_sold_out(sales_ops, reserved):
    # 5 units, shoppers 1 and 2 admitted: R = 5, A = 2, so the units left reach 3 waiters; once shopper 1
    # reserves 2 units (R = 3, A = 1) they reach 2. Everyone past them is on standby, in join order.
    sale = sales_ops.opened(units=5, rate=2, cap=100, limit=2)
    sales_ops.join(sale, 1, 2)
    sales_ops.tick(T0 + 1)
    if reserved:
        stock.reserve(sale, sales_ops.ticket_of(sale, 1), reserved, T0 + 1)
    reach = 2 if reserved else 3
    waiting = list(range(3, 21))
    told = sales_ops.join(sale, *waiting, now=T0 + 2)
    assert [s.state for s in told] == [WaiterState.WAITING] * reach + [WaiterState.STANDBY] * (18 - reach)
    assert [s.standby_number for s in told[reach:]] == list(range(1, 19 - reach))
    assert {s.units_left for s in told[reach:]} == {5 - reserved}
    assert all(s.poll_after_seconds for s in told)  # nobody is told anything final: they keep polling


def test_standby_shoppers_are_told_their_chance_once_the_sale_has_measured_one(sales_ops):
    sale = sales_ops.opened(units=2, rate=10, cap=10, window=60, limit=1)
    sales_ops.join(sale, 1, 2, 3, 4)
    sales_ops.tick(T0 + 1)  # 1 and 2 admitted; 3 and 4 on standby
    assert sales_ops.status(sale, 3, T0 + 1).chance is None  # nobody finished yet: nothing measured
    sales_ops.buy(sale, sales_ops.ticket_of(sale, 1), 1, T0 + 2)  # one bought...
    for now in (T0 + 30, T0 + 55):
        sales_ops.status(sale, 3, now), sales_ops.status(sale, 4, now)  # they keep polling
    sales_ops.tick(T0 + 62)  # ...one was a no-show: half leave without buying. 3 is admitted for it
    shopper_4 = sales_ops.status(sale, 4, T0 + 62)
    assert (shopper_4.state, shopper_4.standby_number, shopper_4.in_play) == (WaiterState.STANDBY, 1, 1)
    assert shopper_4.chance == 0.5  # the one ticket in play leaves with the measured share, 1 in 2


def test_waiters_are_told_sold_out_only_once_every_unit_is_paid(sales_ops):
    sale = sales_ops.opened(units=5, rate=2, cap=100, limit=2)
    sales_ops.join(sale, 1, 2)
    sales_ops.tick(T0 + 1)
    sales_ops.join(sale, 3, 4, 5, 6, now=T0 + 1)
    first, second = sales_ops.ticket_of(sale, 1), sales_ops.ticket_of(sale, 2)
    sales_ops.buy(sale, first, 2, T0 + 1)
    stock.reserve(sale, second, 2, T0 + 1)  # 1 left, 2 held by a shopper still paying: not sold out
    report = sales_ops.tick(T0 + 1)[0]  # same instant: no new tokens, only the sweep
    assert report.sold_out == 0
    assert set(_states(sales_ops, sale, (3, 4, 5, 6), T0 + 1).values()) <= {
        WaiterState.WAITING,
        WaiterState.STANDBY,
    }
    sales_ops.admit_all(sale, 3, now=T0 + 2)
    sales_ops.buy(sale, sales_ops.ticket_of(sale, 3), 1, T0 + 2)
    stock.confirm(sale, second)  # the last unit paid
    report = sales_ops.tick(T0 + 2)[0]
    assert report.sold_out == 3
    assert set(_states(sales_ops, sale, (4, 5, 6), T0 + 2).values()) == {WaiterState.SOLD_OUT}
    assert all(sales_ops.status(sale, s, T0 + 2).poll_after_seconds is None for s in (4, 5, 6))


def test_units_that_come_back_go_to_the_earliest_in_line_never_to_a_later_joiner(sales_ops):
    sale = sales_ops.armed(units=5, rate=2, cap=100, window=60)
    sales_ops.join(sale, *range(1, 21))  # the pre-queue is a draw: nobody is told before it
    sales_ops.open(sale, T0)
    drawn = sales_ops.queue(sale)
    report = sales_ops.tick(T0 + 1)[0]  # admits the first 2 drawn; the units left reach 3 more
    assert [shopper for _, shopper, _ in report.admitted] == drawn[:2] and report.sold_out == 0
    assert sales_ops.queue(sale) == drawn[2:]  # everyone keeps their place
    sales_ops.join(sale, 21, now=T0 + 2)  # a latecomer queues behind them all
    for second in range(2, 6):
        sales_ops.tick(T0 + second)  # 3 more admitted, then no unit waits for anyone: they stay
    assert sales_ops.status(sale, drawn[5], T0 + 6).state == WaiterState.STANDBY
    for shopper in drawn[5:]:
        sales_ops.status(sale, shopper, T0 + 55)  # they keep polling, so they keep their places
    sales_ops.status(sale, 21, T0 + 55)
    report = sales_ops.tick(T0 + 62)[0]  # the first 2 let their tickets expire: 2 units come back
    assert [shopper for _, shopper, _ in report.admitted] == drawn[5:7]  # to the first on standby
    assert sales_ops.status(sale, 21, T0 + 62).state == WaiterState.STANDBY
    assert admitted_out_of_order(sale) == 0


def test_everyone_is_sold_out_when_nothing_can_come_back(sales_ops):
    sale = sales_ops.opened(units=2, rate=10, cap=10, limit=2)
    sales_ops.join(sale, 1, 2, 3)
    sales_ops.tick(T0 + 1)  # 1 and 2 admitted (2 units, 2 shoppers owed): 3 waits on standby
    assert sales_ops.status(sale, 3, T0 + 1).state == WaiterState.STANDBY
    sales_ops.buy(sale, sales_ops.ticket_of(sale, 1), 2, T0 + 1)
    with pytest.raises(SoldOut):
        stock.reserve(sale, sales_ops.ticket_of(sale, 2), 1, T0 + 2)
    sales_ops.tick(T0 + 2)
    assert sales_ops.status(sale, 2, T0 + 2).state == WaiterState.SOLD_OUT
    assert sales_ops.status(sale, 3, T0 + 2).state == WaiterState.SOLD_OUT
    assert sales_ops.join(sale, 4, now=T0 + 3)[0].state == WaiterState.SOLD_OUT
    assert stock.tickets_by_state(sale)[TicketState.SOLD_OUT] == 1


def test_the_admitter_opens_a_sale_when_its_time_comes(sales_ops, app):
    from datetime import UTC, datetime

    from admission import sales

    opens = datetime.fromtimestamp(T0 + 100, UTC)
    sale = sales_ops.armed(units=5, rate=1, opens_at=opens)
    sales_ops.join(sale, 1, 2, now=T0)
    sales_ops.status(sale, 1, T0 + 95)
    sales_ops.status(sale, 2, T0 + 95)
    assert sales_ops.tick(T0 + 99)[0].opened is False
    assert sales_ops.tick(T0 + 100)[0].opened is True
    assert sorted(sales_ops.queue(sale)) == [1, 2]
    assert sales.get_sale(sale).state == SaleState.OPEN


def test_only_the_lease_holder_acts(sales_ops):
    sales_ops.opened(units=5, rate=1)
    first, second = admitter.Lease("first", ttl_ms=60_000), admitter.Lease("second", ttl_ms=60_000)
    assert admitter.step(first, T0 + 1) is not None
    assert admitter.step(second, T0 + 2) is None
    assert admitter.step(first, T0 + 3) is not None  # renewing keeps it
    first.give_up()
    assert admitter.step(second, T0 + 4) is not None


def _run_admitter(config, stop, results):
    from yakku.factory import create_api_app

    app = create_api_app(config)
    with app.app_context():
        # A lease far longer than any stall of a busy test machine: the holder renews it every tick.
        results.put(admitter.run(interval=0.05, stop=stop, lease=admitter.Lease(ttl_ms=10_000)))


def test_two_admitter_processes_only_one_acts(app, config, sales_ops):
    now = time.time()
    sale = sales_ops.opened(units=1000, rate=20, cap=1000, now=now)
    sales_ops.join(sale, *range(1, 201), now=now)
    context = multiprocessing.get_context("fork")
    results = context.Queue()
    stops = {}
    for _ in range(2):
        stop = context.Event()
        process = context.Process(target=_run_admitter, args=(config, stop, results))
        process.start()
        stops[process] = stop
    deadline = time.time() + 30  # a busy machine may take a while to start two apps
    while time.time() < deadline and (time.time() - now < 2 or not admission_times(sales_ops.redis, sale)):
        time.sleep(0.1)
    # The one not holding the lease stops first, then the holder: the holder gives the lease up as it
    # stops, and the other, still running, would rightly take it over.
    holder = int(app.extensions["yakku.redis"].get(ADMITTER_LEASE).split(":")[1])
    for process in sorted(stops, key=lambda p: p.pid == holder):
        stops[process].set()
        process.join(20)
    acted = sorted(results.get(timeout=5) for _ in stops)
    assert acted[0] == 0 and acted[1] > 0
    admitted = len(admission_times(sales_ops.redis, sale))
    assert 0 < admitted <= 20 * (time.time() - now) + 20  # one admitter's worth at 20/s (plus the burst)
