"""The reconciler: finishes the checkouts a killed worker left half done.

A ticket stuck in RESERVED is settled from the services' own records: its order is found again by its
idempotency key (or made, if the worker died before making it), a pending payment is asked of the
payments service, a paid one is confirmed. One that is not paid goes back to the shopper ("submit
again") while the ticket lasts, and is cancelled with its units returned once it has expired. A checkout
told FEWER_LEFT reserved nothing: it ends EXPIRED once its ticket's window has passed, or SOLD_OUT once
nothing is left and nothing is held. Every step is idempotent, so running it twice, or beside a worker
that is merely slow, is safe.
"""

import time
from collections import Counter

from flask import current_app

from admission import checkout, checkout_queue, sales, stock
from admission.checkout import Checkout, CheckoutState
from admission.exceptions import SoldOut
from admission.keys import sale_keys
from admission.states import TicketState
from api.client import orders
from api.orders.expiry import expire_unpaid_orders
from workers.checkout import give_up, order_key, sale_product
from yakku.extensions import get_redis

# A checkout a worker touched less than this long ago is left to that worker.
LEASE_SECONDS = 30.0
# Checkouts that may be on a ticket that reserved nothing: the sweep looks at each of them.
# (An interrupted one may hold units too: recheck.lua leaves a reserved ticket to reconcile_ticket.)
UNRESERVED_STATES = frozenset(
    {CheckoutState.QUEUED, CheckoutState.PROCESSING, CheckoutState.FEWER_LEFT, CheckoutState.INTERRUPTED}
)
INTERRUPTED = "We could not finish your checkout, and nothing was charged. Please submit it again."


def reconcile_all(now: float | None = None, lease: float = LEASE_SECONDS) -> Counter:
    """Reconcile every sale the admitter looks after; what was done, counted."""
    done: Counter = Counter()
    for sale_id in sales.sales_to_reconcile():
        done.update(reconcile_sale(sale_id, now, lease))
    return done


def sweep() -> dict:
    """The periodic job the admitter queues: reconcile every sale, settle the closed ones, expire unpaid
    shop orders."""
    done = reconcile_all(lease=float(current_app.config.get("RECONCILE_LEASE_S", LEASE_SECONDS)))
    for settled in sales.settle_closed_sales().values():
        done["settled" if settled["settled"] else "not_settled_yet"] += 1
    expired = expire_unpaid_orders()  # the shop's orders hold units too
    if expired:
        done["unpaid_orders_expired"] += expired
    return dict(done)


def reconcile_sale(sale_id: int, now: float | None = None, lease: float = LEASE_SECONDS) -> Counter:
    """Settle every checkout of one sale that no worker has touched for `lease` seconds."""
    now = time.time() if now is None else now
    done: Counter = Counter()
    if checkout_queue.backlog(sale_id) and checkout_queue.kick(sale_id):
        done["drain_queued"] += 1  # checkouts wait and no job was queued for them (it was lost)
    for ticket_id in stock.stale_reservations(sale_id, older_than=now - lease):
        done[reconcile_ticket(sale_id, ticket_id, now, lease)] += 1
    records = checkout.in_states(sale_id, UNRESERVED_STATES)
    for record in records:
        if _stalled_before_reserving(sale_id, record, now, lease):
            done[_tell(sale_id, record, CheckoutState.INTERRUPTED, INTERRUPTED, "handed_back")] += 1
    waiting_for_shopper = [
        r for r in records if r.state in (CheckoutState.FEWER_LEFT, CheckoutState.INTERRUPTED)
    ]
    done.update(_end_waiting_for_shopper(sale_id, waiting_for_shopper, now))
    return done


def _end_waiting_for_shopper(sale_id: int, records: list[Checkout], now: float) -> Counter:
    # Told fewer units are left (or handed back before reserving), the shopper holds nothing: the ticket
    # ends when its window passes, or once nothing is left and nothing held may come back (a sell-out
    # told "none left right now" ends so). recheck.lua leaves reserved tickets as they are.
    done: Counter = Counter()
    states = stock.recheck(sale_id, [record.ticket_id for record in records], now)
    for record in records:
        record.units_left = None  # the figure belonged to the fewer_left answer
        if states[record.ticket_id] == TicketState.EXPIRED:
            message = "Your turn expired before you checked out."
            done[_tell(sale_id, record, CheckoutState.EXPIRED, message, "expired")] += 1
        elif states[record.ticket_id] == TicketState.SOLD_OUT:
            done[_tell(sale_id, record, CheckoutState.SOLD_OUT, SoldOut.message, "sold_out")] += 1
    return done


def _stalled_before_reserving(sale_id: int, record: Checkout, now: float, lease: float) -> bool:
    # A worker that died before reserving held nothing: the ticket is still fresh, the shopper may retry.
    if record.state not in (CheckoutState.QUEUED, CheckoutState.PROCESSING):
        return False  # told already (fewer left): it waits for the shopper, not for a worker
    state = get_redis().hget(sale_keys(sale_id).tickets, record.ticket_id)
    return state == TicketState.ADMITTED and not _worker_has_it(sale_id, record, now, lease)


def reconcile_ticket(sale_id: int, ticket_id: str, now: float, lease: float = LEASE_SECONDS) -> str:
    """Take one reserved ticket to the end it can reach; a word for what happened."""
    record = checkout.read(sale_id, ticket_id) or Checkout(ticket_id, CheckoutState.PROCESSING, attempt=1)
    if _worker_has_it(sale_id, record, now, lease):
        return "left_to_worker"
    order = _order(sale_id, ticket_id)
    if order["state"] == "payment_pending":
        order = orders().settle(order["id"])
    record.order_id = order["id"]
    if order["state"] == "paid":
        stock.confirm(sale_id, ticket_id)
        return _tell(sale_id, record, CheckoutState.PAID, "Your order is paid.", "confirmed")
    if order["state"] == "payment_pending":
        return "payment_still_pending"  # the provider has not decided; ask again next sweep
    expires_at = float(get_redis().hget(sale_keys(sale_id).ticket_expiry, ticket_id) or 0)
    if now < expires_at:
        if record.state in (CheckoutState.DECLINED, CheckoutState.INTERRUPTED):
            return "awaiting_shopper"
        return _tell(sale_id, record, CheckoutState.INTERRUPTED, INTERRUPTED, "handed_back")
    give_up(sale_id, ticket_id, order["id"], TicketState.RELEASED)
    return _tell(sale_id, record, CheckoutState.EXPIRED, "Your turn expired before payment.", "released")


def _worker_has_it(sale_id: int, record: Checkout, now: float, lease: float) -> bool:
    if record.state == CheckoutState.PROCESSING:
        return now - record.updated_at < lease
    if record.state != CheckoutState.QUEUED:
        return False
    # A checkout waiting in the sale's line is not stale: a drain job will take it. One a job took a
    # moment ago is the job's until the lease passes (it records PROCESSING right after taking it).
    return checkout_queue.waiting(sale_id, record.ticket_id) or now - record.updated_at < lease


def _order(sale_id: int, ticket_id: str) -> dict:
    # Creating with the ticket's key finds the order a killed worker made, or makes the one it did not.
    owner = stock.ticket_owner(sale_id, ticket_id)
    units = stock.reserved_units(sale_id, ticket_id)
    return orders(owner).create_sale_order(
        json={
            "account_id": owner,
            "sale_id": sale_id,
            "items": [{"product_id": sale_product(sale_id), "quantity": units}],
            "idempotency_key": order_key(sale_id, ticket_id),
        }
    )


def _tell(sale_id: int, record: Checkout, state: CheckoutState, message: str, done: str) -> str:
    record.state, record.message = state, message
    checkout.record(sale_id, record)
    return done
