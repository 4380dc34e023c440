"""The reconciler: finishes the checkouts a killed worker left half done.

A ticket stuck in RESERVED is settled from the services' own records: its order is found again by its
idempotency key (or made, if the worker died before making it), a pending payment is asked of the
payments service, a paid one is confirmed. One that is not paid goes back to the shopper ("submit
again") while the ticket lasts, and is cancelled with its units returned once it has expired. A checkout
told FEWER_LEFT reserved nothing: it ends EXPIRED once its ticket's window has passed, or SOLD_OUT once
nothing is left and nothing is held. Any unfinished checkout whose ticket has ended (expired, released,
paid, declined, sold out) is told that end, so nobody is left "processing". Every write is a
compare-and-set (records.advance): a worker's write since the reconciler read the record wins. Every
step is idempotent, so running it twice, or beside a worker that is merely slow, is safe. It queues no
job: admission/checkout/jobs.py runs it, and queues a drain for a line left without one.
"""

import time
from collections import Counter
from enum import StrEnum

from admission import stock
from admission.checkout import line, pressure, records
from admission.checkout.records import (
    FINAL_CHECKOUT_STATES,
    HOLDING_NOTHING_STATES,
    IN_PROGRESS_STATES,
    Checkout,
    CheckoutState,
)
from admission.checkout.steps import GAVE_UP, PAID, decline_grace, give_up, make_orders
from admission.exceptions import SoldOut
from admission.keys import sale_keys
from admission.states import TicketState
from api.client import orders
from api.orders.states import OrderState
from yakku.extensions import get_sales_redis

# A checkout a worker touched less than this long ago is left to that worker.
LEASE_SECONDS = 30.0
# Checkouts that may be on a ticket that reserved nothing: the sweep looks at each of them.
# (An interrupted one may hold units too: recheck.lua leaves a reserved ticket to reconcile_ticket.)
UNRESERVED_STATES = IN_PROGRESS_STATES | HOLDING_NOTHING_STATES
UNFINISHED_STATES = frozenset(CheckoutState) - FINAL_CHECKOUT_STATES
EXPIRED_UNPAID = "Your turn expired before payment."
EXPIRED_UNUSED = "Your turn expired before you checked out."
# What the shopper is told once the ticket has ended, whatever its checkout's record says.
TICKET_ENDS = {
    TicketState.PAID: (CheckoutState.PAID, PAID),
    TicketState.DECLINED: (CheckoutState.FAILED, GAVE_UP),
    TicketState.RELEASED: (CheckoutState.EXPIRED, EXPIRED_UNPAID),
    TicketState.EXPIRED: (CheckoutState.EXPIRED, EXPIRED_UNUSED),
    TicketState.SOLD_OUT: (CheckoutState.SOLD_OUT, SoldOut.message),
}
INTERRUPTED = "We could not finish your checkout, and nothing was charged. Please submit it again."


class Done(StrEnum):
    """What the reconciler did to one checkout: the words it counts."""

    LEFT_TO_WORKER = "left_to_worker"  # a worker touched it within the lease
    CONFIRMED = "confirmed"  # its order was paid: the ticket is paid now
    PAYMENT_STILL_PENDING = "payment_still_pending"  # the provider has not decided; asked again next sweep
    AWAITING_SHOPPER = "awaiting_shopper"  # declined or handed back: the shopper may pay again
    DECLINE_LAPSED = "decline_lapsed"  # declined, and no other card came within the sale's grace
    HANDED_BACK = "handed_back"  # nothing was paid: the shopper is told to submit again
    RELEASED = "released"  # its window passed unpaid: order cancelled, units back
    EXPIRED = "expired"  # it reserved nothing and its window passed
    SOLD_OUT = "sold_out"  # it reserved nothing and nothing is left or held
    ENDED_WITH_TICKET = "ended_with_ticket"  # its ticket had ended: the shopper is told how
    MOVED_ON = "moved_on"  # another writer moved its record on first: looked at again next sweep


def reconcile_sale(sale_id: int, now: float | None = None, lease: float = LEASE_SECONDS) -> Counter:
    """Settle every checkout of one sale that no worker has touched for `lease` seconds."""
    now = time.time() if now is None else now
    done: Counter = Counter()
    stale = stock.stale_reservations(sale_id, older_than=now - lease)
    for ticket_id in stale:
        done[reconcile_ticket(sale_id, ticket_id, now, lease)] += 1
    # Unfinished, and the ticket not ended yet (those the sweep ends with their ticket first).
    looked_at = _end_with_ticket(sale_id, records.in_states(sale_id, UNFINISHED_STATES), done)
    # A declined checkout is no worker's: its units go back once the grace has passed, however young
    # its reservation (the lease is for workers): the admitter queues this at the lapse
    # (jobs.queue_lapsed_declines), and every sweep finds one it missed.
    young = set(stock.stale_reservations(sale_id, older_than=now)) - set(stale)
    grace = decline_grace(sale_id)
    for record in looked_at:
        lapsed = record.state == CheckoutState.DECLINED and now - record.updated_at >= grace
        if lapsed and record.ticket_id in young:
            done[reconcile_ticket(sale_id, record.ticket_id, now, lease)] += 1
    unreserved = [record for record in looked_at if record.state in UNRESERVED_STATES]
    for record in unreserved:
        if _stalled_before_reserving(sale_id, record, now, lease):
            done[_hand_back(sale_id, record, now)] += 1
    waiting_for_shopper = [record for record in unreserved if record.state in HOLDING_NOTHING_STATES]
    done.update(_end_waiting_for_shopper(sale_id, waiting_for_shopper, now))
    return done


def _end_with_ticket(sale_id: int, unfinished: list[Checkout], done: Counter) -> list[Checkout]:
    # A worker that died before reserving, or one that came back after its ticket ended, left a record
    # the ticket has outlived: its end is the ticket's. The rest, still to finish, are returned.
    if not unfinished:
        return []
    tickets = get_sales_redis().hmget(sale_keys(sale_id).tickets, [record.ticket_id for record in unfinished])
    rest = []
    for record, ticket_state in zip(unfinished, tickets, strict=True):
        if ticket_state in TICKET_ENDS:
            state, message = TICKET_ENDS[TicketState(ticket_state)]
            done[_tell(sale_id, record, state, message, Done.ENDED_WITH_TICKET)] += 1
        else:
            rest.append(record)
    return rest


def _end_waiting_for_shopper(sale_id: int, records: list[Checkout], now: float) -> Counter:
    # Told fewer units are left (or handed back before reserving), the shopper holds nothing: the ticket
    # ends when its window passes, or once nothing is left and nothing held may come back (a sell-out
    # told "none left right now" ends so). recheck.lua leaves reserved tickets as they are.
    done: Counter = Counter()
    states = stock.recheck(sale_id, [record.ticket_id for record in records], now)
    for record in records:
        record.units_left = None  # the figure belonged to the fewer_left answer
        if states[record.ticket_id] == TicketState.EXPIRED:
            done[_tell(sale_id, record, CheckoutState.EXPIRED, EXPIRED_UNUSED, Done.EXPIRED)] += 1
        elif states[record.ticket_id] == TicketState.SOLD_OUT:
            done[_tell(sale_id, record, CheckoutState.SOLD_OUT, SoldOut.message, Done.SOLD_OUT)] += 1
    return done


def _stalled_before_reserving(sale_id: int, record: Checkout, now: float, lease: float) -> bool:
    # A worker that died before reserving held nothing: the ticket is still fresh, the shopper may retry.
    if record.state not in IN_PROGRESS_STATES:
        return False  # told already (fewer left): it waits for the shopper, not for a worker
    state = get_sales_redis().hget(sale_keys(sale_id).tickets, record.ticket_id)
    return state == TicketState.ADMITTED and not _worker_has_it(sale_id, record, now, lease)


def reconcile_ticket(sale_id: int, ticket_id: str, now: float, lease: float = LEASE_SECONDS) -> Done:
    """Take one reserved ticket to the end it can reach; a word for what happened."""
    record = records.read(sale_id, ticket_id) or Checkout(
        ticket_id, CheckoutState.PROCESSING, attempt=1, version=-1
    )
    if _worker_has_it(sale_id, record, now, lease):
        return Done.LEFT_TO_WORKER
    order = _order(sale_id, ticket_id)
    if order["state"] == OrderState.PAYMENT_PENDING:
        order = orders().settle(order["id"])
    record.order_id = order["id"]
    if order["state"] == OrderState.PAID:
        stock.confirm(sale_id, ticket_id)
        return _tell(sale_id, record, CheckoutState.PAID, PAID, Done.CONFIRMED)
    if order["state"] == OrderState.PAYMENT_PENDING:
        return Done.PAYMENT_STILL_PENDING
    expires_at = float(get_sales_redis().hget(sale_keys(sale_id).ticket_expiry, ticket_id) or 0)
    if now < expires_at:
        if record.state == CheckoutState.DECLINED and now - record.updated_at >= decline_grace(sale_id):
            # The shopper walked away from the decline: the units go back to the line, to the next in it.
            give_up(sale_id, ticket_id, order["id"], TicketState.DECLINED)
            return _tell(sale_id, record, CheckoutState.FAILED, GAVE_UP, Done.DECLINE_LAPSED)
        if record.state in records.SAME_QUANTITY_STATES:  # declined or interrupted: held for the shopper
            return Done.AWAITING_SHOPPER
        return _hand_back(sale_id, record, now)
    give_up(sale_id, ticket_id, order["id"], TicketState.RELEASED)
    return _tell(sale_id, record, CheckoutState.EXPIRED, EXPIRED_UNPAID, Done.RELEASED)


def _worker_has_it(sale_id: int, record: Checkout, now: float, lease: float) -> bool:
    if record.state == CheckoutState.PROCESSING:
        return now - record.updated_at < lease
    if record.state != CheckoutState.QUEUED:
        return False
    # A checkout waiting in the sale's line is not stale: a drain job will take it. One a job took a
    # moment ago is the job's until the lease passes (it records PROCESSING right after taking it).
    return line.waiting(sale_id, record.ticket_id) or now - record.updated_at < lease


def _order(sale_id: int, ticket_id: str) -> dict:
    # Made with the ticket's key, it finds the order a killed worker made, or makes the one it did not.
    owner = stock.ticket_owner(sale_id, ticket_id)
    (order,) = make_orders(sale_id, [(owner, ticket_id, stock.reserved_units(sale_id, ticket_id))])
    return order


def _hand_back(sale_id: int, record: Checkout, now: float) -> Done:
    # "Submit again" is worth something only with time to do it: the ticket gets its time back first.
    pressure.give_time_back(sale_id, record, now)
    return _tell(sale_id, record, CheckoutState.INTERRUPTED, INTERRUPTED, Done.HANDED_BACK)


def _tell(sale_id: int, record: Checkout, state: CheckoutState, message: str, done: Done) -> Done:
    if records.advance(sale_id, [record.tell(state, message)]):
        return Done.MOVED_ON
    return done
