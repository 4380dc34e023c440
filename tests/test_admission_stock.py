"""The stock counter: reserve once per ticket within limits, release and confirm once, never oversell."""

import multiprocessing

import pytest
from admission_helpers import T0

from admission import stock
from admission.exceptions import (
    InsufficientUnits,
    LimitExceeded,
    ReservationRefused,
    SoldOut,
    TicketExpired,
    TicketInvalid,
    TicketUsed,
)
from admission.scripts import load_scripts
from admission.states import TicketState, WaiterState
from yakku.extensions import sales_client


def test_reserve_takes_units_once_per_ticket(sales_ops):
    sale = sales_ops.opened(units=5, rate=10, limit=2)
    (ticket,) = sales_ops.admit_all(sale, 1)
    first = stock.reserve(sale, ticket, 2, T0 + 2)
    again = stock.reserve(sale, ticket, 2, T0 + 3)  # a retried job
    assert (first.units, first.stock_left, first.fresh) == (2, 3, True)
    assert (again.units, again.fresh) == (2, False)
    assert sales_ops.counter(sale) == {"left": 3, "held": 2, "sold": 0}


@pytest.mark.parametrize(
    ("units", "limit", "quantity", "error"),
    [(5, 2, 3, LimitExceeded), (1, 3, 2, InsufficientUnits), (5, 2, 0, Exception)],
)
def test_reserve_refusals_change_nothing(sales_ops, units, limit, quantity, error):
    sale = sales_ops.opened(units=units, rate=10, limit=limit)
    (ticket,) = sales_ops.admit_all(sale, 1)
    with pytest.raises(error):
        stock.reserve(sale, ticket, quantity, T0 + 2)
    assert sales_ops.counter(sale) == {"left": units, "held": 0, "sold": 0}
    assert stock.reserve(sale, ticket, 1, T0 + 2).units == 1  # the ticket is still good


def test_reserve_refuses_unknown_and_expired_tickets(sales_ops):
    sale = sales_ops.opened(units=5, rate=10, window=60)
    (ticket,) = sales_ops.admit_all(sale, 1)
    with pytest.raises(TicketInvalid):
        stock.reserve(sale, f"{sale}-999", 1, T0 + 2)
    with pytest.raises(TicketExpired):
        stock.reserve(sale, ticket, 1, T0 + 62)
    assert sales_ops.status(sale, 1, T0 + 62).state == WaiterState.EXPIRED
    assert sales_ops.counter(sale)["left"] == 5


def test_a_decline_returns_the_units_exactly_once(sales_ops):
    sale = sales_ops.opened(units=3, rate=10, limit=2)
    (ticket,) = sales_ops.admit_all(sale, 1)
    stock.reserve(sale, ticket, 2, T0 + 2)
    assert stock.release(sale, ticket, TicketState.DECLINED) == 2
    assert stock.release(sale, ticket, TicketState.DECLINED) == 2  # a repeat changes nothing
    assert sales_ops.counter(sale) == {"left": 3, "held": 0, "sold": 0}
    assert sales_ops.status(sale, 1, T0 + 3).state == WaiterState.DONE
    with pytest.raises(TicketUsed):
        stock.reserve(sale, ticket, 1, T0 + 4)  # a declined ticket is spent
    with pytest.raises(ReservationRefused):
        stock.release(sale, ticket, TicketState.RELEASED)  # one final state only
    with pytest.raises(ReservationRefused):
        stock.confirm(sale, ticket)


def test_confirm_sells_once_and_a_paid_ticket_cannot_be_released(sales_ops):
    sale = sales_ops.opened(units=3, rate=10, limit=2)
    (ticket,) = sales_ops.admit_all(sale, 1)
    stock.reserve(sale, ticket, 2, T0 + 2)
    assert stock.confirm(sale, ticket) == 2
    assert stock.confirm(sale, ticket) == 2
    assert sales_ops.counter(sale) == {"left": 1, "held": 0, "sold": 2}
    with pytest.raises(ReservationRefused):
        stock.release(sale, ticket, TicketState.DECLINED)
    assert stock.reserve(sale, ticket, 2, T0 + 3).fresh is False
    assert stock.tickets_by_state(sale)[TicketState.PAID] == 1


def test_confirm_refuses_a_ticket_that_never_reserved(sales_ops):
    sale = sales_ops.opened(units=3, rate=10)
    (ticket,) = sales_ops.admit_all(sale, 1)
    with pytest.raises(ReservationRefused):
        stock.confirm(sale, ticket)


def test_batched_reserve_applies_the_same_rule_per_ticket(sales_ops):
    sale = sales_ops.opened(units=3, rate=10, cap=10, limit=2)
    a, b, c = sales_ops.admit_all(sale, 1, 2, 3)
    outcomes = stock.reserve_batch(sale, [(a, 2), (b, 2), (a, 2), (c, 1), ("nope", 1)], T0 + 2)
    assert [(o.code, o.units) for o in outcomes] == [
        ("reserved", 2),
        ("insufficient", 0),
        ("already_reserved", 2),
        ("reserved", 1),
        ("unknown_ticket", 0),
    ]
    assert sales_ops.counter(sale) == {"left": 0, "held": 3, "sold": 0}
    with pytest.raises(InsufficientUnits):  # held units may still come back: b's ticket lives on
        stock.reserve(sale, b, 1, T0 + 2)
    stock.confirm(sale, a)
    stock.confirm(sale, c)
    with pytest.raises(SoldOut):  # all sold, nothing held: now it is over for b
        stock.reserve(sale, b, 1, T0 + 2)


def test_a_ticket_is_not_told_sold_out_while_held_units_may_return(sales_ops):
    sale = sales_ops.opened(units=2, rate=10, cap=10, limit=2)
    first, second = sales_ops.admit_all(sale, 1, 2)
    stock.reserve(sale, first, 2, T0 + 2)
    with pytest.raises(InsufficientUnits):
        stock.reserve(sale, second, 1, T0 + 2)
    stock.release(sale, first)  # the first shopper's card was declined for good
    assert stock.reserve(sale, second, 1, T0 + 2).units == 1


def test_a_recheck_ends_an_unreserved_ticket_only_when_it_never_can_reserve(sales_ops):
    sale = sales_ops.opened(units=3, rate=10, cap=10, limit=3, window=60)
    holder, short, late = sales_ops.admit_all(sale, 1, 2, 3)
    stock.reserve(sale, holder, 3, T0 + 2)  # nothing left, 3 held
    assert stock.recheck(sale, [short, late], T0 + 3) == {short: "admitted", late: "admitted"}
    assert stock.recheck(sale, [late], T0 + 62) == {late: "expired"}  # its window passed
    stock.confirm(sale, holder)  # sold: nothing left, nothing held
    assert stock.recheck(sale, [short, holder], T0 + 4) == {short: "sold_out", holder: "paid"}
    assert sales_ops.status(sale, 2, T0 + 4).state == WaiterState.SOLD_OUT
    assert sales_ops.admitted_tickets(sale) == []  # both slots freed
    assert sales_ops.counter(sale) == {"left": 0, "held": 0, "sold": 3}


def _race(url, sale_id, tickets, results):
    client = sales_client(url)  # the sales Redis, perhaps a cluster
    loaded = load_scripts(client)
    won = 0
    for ticket in tickets:
        quantity = 4
        while True:
            try:
                won += stock.reserve(sale_id, ticket, quantity, T0 + 2, client=client, loaded=loaded).units
                stock.confirm(sale_id, ticket, client=client, loaded=loaded)
                break
            except SoldOut:
                break
            except InsufficientUnits:
                # Fewer left than asked, or units held by a racer that may still come back: ask again.
                quantity = max(1, quantity - 1)
    results.put(won)


@pytest.mark.parametrize("units", [37, 100])
def test_processes_racing_for_the_last_units_never_oversell(sales_ops, redis_url, sales_redis_url, units):
    # As many tickets as units, each wanting up to 4: demand is 4x the units, spread over 8 processes.
    sale = sales_ops.opened(units=units, rate=10_000, cap=10_000, limit=4)
    tickets = sales_ops.admit_all(sale, *range(1, units + 1))
    assert len(set(tickets)) == units
    context = multiprocessing.get_context("fork")
    results = context.Queue()
    share = [tickets[i::8] for i in range(8)]
    processes = [
        context.Process(target=_race, args=(sales_redis_url or redis_url, sale, part, results))
        for part in share
    ]
    for process in processes:
        process.start()
    for process in processes:
        process.join(60)
    won = sum(results.get(timeout=5) for _ in processes)
    counter = sales_ops.counter(sale)
    assert won == units and counter == {"left": 0, "held": 0, "sold": units}
    bought = [int(value) for value in sales_ops.redis.hvals(f"sale:{{{sale}}}:bought")]
    assert sum(bought) == units and max(bought) <= 4
    states = stock.tickets_by_state(sale)
    assert states[TicketState.PAID] + states[TicketState.SOLD_OUT] == units
    assert states[TicketState.PAID] == len(bought)
