"""The checkout drain: one batch of checkouts, taken through flat steps that each take and return a list:
start -> reserve -> order -> pay -> confirm -> tell.

A batch of up to CHECKOUT_BATCH checkouts costs one Lua call to reserve them all, one call to the
orders service to make their orders (one price look-up, one transaction), one call to pay them (orders
calls payments once), and one pipeline to confirm the paid ones, where a checkout alone cost five
requests between the services. Each step stays idempotent per ticket (the reservation in Redis, the
order by the ticket's key, the charge by the attempt's key), so a worker killed anywhere in a batch
leaves every checkout of it where the reconciler finishes it.

A checkout asking for more units than are left while others' are held is not sold out: those units may
come back. If the batch itself held them, it asks once more after paying; otherwise, or if still short,
the shopper is told FEWER_LEFT with the units left, and may submit again for fewer.

When orders (or payments behind it) does not answer, or payments pauses its charges, the batch's
undecided checkouts go back to the line at once (pressure.py), and the drain takes no more until the
services answer again.
"""

import time
from collections import Counter
from dataclasses import dataclass

from admission import recovery, stock
from admission.checkout import pressure, records
from admission.checkout.records import Checkout, CheckoutRequest, CheckoutState
from admission.checkout.steps import (
    AWAITING_PROVIDER,
    DECLINED_CODES,
    PAID,
    crash_point,
    declined,
    give_up,
    make_orders,
    pay_orders,
    refusal_message,
)
from admission.replies import ReserveCode
from admission.states import TicketState
from admission.stock import REFUSALS
from api.client.errors import ServiceUnavailable
from api.orders.exceptions import SaleUnitsTaken
from api.orders.states import OrderState
from api.payments.states import CHARGES_PAUSED

# What a refused reservation tells the shopper; "insufficient" is told FEWER_LEFT, with the units left.
REFUSED_STATES = {ReserveCode.SOLD_OUT: CheckoutState.SOLD_OUT, ReserveCode.EXPIRED: CheckoutState.EXPIRED}


@dataclass
class InFlight:
    """One checkout on its way through a batch."""

    request: CheckoutRequest
    checkout: Checkout
    units: int = 0  # reserved
    fresh: bool = False  # this batch reserved them (not an earlier attempt of the ticket)
    left: int = 0  # the units left when it was refused for asking more
    order: dict | None = None  # the order after the last step that answered it


def drain_batch(sale_id: int, requests: list[CheckoutRequest]) -> Counter:
    """Take one batch of checkouts as far as each can go; the states they reached, counted."""
    batch = start(sale_id, requests)
    crash_point("before_reserve")
    reserved, short = reserve(sale_id, batch)
    try:
        tell(sale_id, confirm(sale_id, pay(sale_id, order(sale_id, reserved))))
        if short and reserved:
            # This batch's own reservations held units while the refusals were answered; they are paid
            # (or held for a declined card) now: ask once more, so a sell-out within one batch ends sold out.
            again, short = reserve(sale_id, short)
            tell(sale_id, confirm(sale_id, pay(sale_id, order(sale_id, again))))
    except ServiceUnavailable as away:
        # No answer from orders: whatever is still undecided goes back to the line now, not in a minute.
        undecided = [item for item in batch if item.checkout.state == CheckoutState.PROCESSING]
        give_back(sale_id, undecided, f"{away.service} unavailable ({away.reason})")
        return Counter(item.checkout.state.value for item in batch)
    for item in short:
        records.fewer_left(item.checkout, item.left)
    tell(sale_id, short)
    return Counter(item.checkout.state.value for item in batch)


def give_back(sale_id: int, items: list[InFlight], why: str) -> None:
    """Put these checkouts back in the line (pressure.give_back): a reservation this batch made is undone
    unless an order answered for it (then its charge may be under way: it is kept, and goes on)."""
    held = [(item.checkout, item.request, item.fresh and item.order is None) for item in items]
    pressure.give_back(sale_id, held, why)


def start(sale_id: int, requests: list[CheckoutRequest]) -> list[InFlight]:
    """The requests still to decide, recorded PROCESSING: only a checkout still QUEUED for the request's
    attempt (a duplicate, superseded or already ended one is skipped: its outcome is told already)."""
    known = records.read_many(sale_id, [r.ticket_id for r in requests])
    batch = []
    for request in requests:
        current = known.get(request.ticket_id)
        if not current or current.state != CheckoutState.QUEUED or current.attempt != request.attempt:
            continue
        checkout = Checkout(
            request.ticket_id, CheckoutState.PROCESSING, request.attempt, request.quantity, current.order_id
        )
        checkout.version, checkout.left_at_submit = current.version, current.left_at_submit
        batch.append(InFlight(request, checkout))
    return tell(sale_id, batch)


def reserve(sale_id: int, batch: list[InFlight]) -> tuple[list[InFlight], list[InFlight]]:
    """Reserve for each in one call and tell the refused; (the reserved, those refused only because fewer
    units are left than they asked while others' are held: they stay PROCESSING until told)."""
    outcomes = stock.reserve_batch(sale_id, [(i.request.ticket_id, i.request.quantity) for i in batch])
    crash_point("after_reserve")
    reserved, short, refused = [], [], []
    for item, outcome in zip(batch, outcomes, strict=True):
        if outcome.reserved:
            item.units, item.fresh = outcome.units, outcome.code == ReserveCode.RESERVED
            reserved.append(item)
        elif outcome.code == ReserveCode.INSUFFICIENT:
            item.left = outcome.stock_left
            short.append(item)
        else:
            state = REFUSED_STATES.get(outcome.code, CheckoutState.FAILED)
            item.checkout.tell(state, REFUSALS[outcome.code].message)
            refused.append(item)
    tell(sale_id, refused)
    return reserved, short


def order(sale_id: int, reserved: list[InFlight]) -> list[InFlight]:
    """Make the reserved checkouts' orders in one call (found again by the ticket's key), and record each
    checkout's order, so a retry or the reconciler pays the same one."""
    made = make_orders(sale_id, [(i.request.shopper_id, i.request.ticket_id, i.units) for i in reserved])
    crash_point("after_order")
    for item, answer in zip(reserved, made, strict=True):
        item.order, item.checkout.order_id = answer, answer["id"]
    return tell(sale_id, reserved)  # one the reconciler ended meanwhile is not charged


def pay(sale_id: int, ordered: list[InFlight]) -> list[InFlight]:
    """Charge the orders not paid yet, in one call; each item's order after it, or its checkout told
    why not (a decline: another card while the ticket lasts; no answer yet: the reconciler settles it).
    A charge payments refused for another reason stays PROCESSING: the reconciler settles it too.

    The orders service refuses to start a payment past the sale's allotment (SaleUnitsTaken) only when
    Redis's counter was behind the database: the sale is repaired from the database, and the checkout
    ends with its units given back (nothing was charged)."""
    unpaid = [item for item in ordered if item.order["state"] != OrderState.PAID]
    answers = pay_orders(sale_id, [(item.request, item.checkout) for item in unpaid])
    crash_point("after_charge")
    now, over, paused = time.time(), [], []
    for item, answer in zip(unpaid, answers, strict=True):
        error, item.order = answer["error"], answer["order"]
        if error and error["code"] == CHARGES_PAUSED:
            paused.append(item)  # not sent, nothing charged: back to the line until charges resume
        elif error and error["code"] in DECLINED_CODES:
            declined(sale_id, item.request, item.checkout, refusal_message(error), now)
        elif error and error["code"] == SaleUnitsTaken.code:
            over.append(item)
        elif item.order and item.order["state"] == OrderState.PAYMENT_PENDING:
            item.checkout.message = AWAITING_PROVIDER
    if over:
        recovery.check_sale(sale_id)
        for item in over:
            give_up(sale_id, item.request.ticket_id, item.checkout.order_id, TicketState.RELEASED)
            item.checkout.tell(CheckoutState.FAILED, SaleUnitsTaken.message)
    give_back(sale_id, paused, "payments paused its charges")
    return [item for item in ordered if item not in paused]


def confirm(sale_id: int, charged: list[InFlight]) -> list[InFlight]:
    """Mark the paid ones PAID on the counter in one round trip, and their checkouts with them."""
    paid = [item for item in charged if item.order and item.order["state"] == OrderState.PAID]
    confirmed = stock.confirm_many(sale_id, sorted(item.request.ticket_id for item in paid))
    if not all(confirmed.values()):
        # A paid order whose ticket is not reserved: Redis lost or rolled it back. The database puts it back.
        recovery.check_sale(sale_id)
        confirmed = stock.confirm_many(sale_id, sorted(item.request.ticket_id for item in paid))
    for item in paid:
        if confirmed.get(item.request.ticket_id):
            item.checkout.tell(CheckoutState.PAID, PAID)
    return charged


def tell(sale_id: int, told: list[InFlight]) -> list[InFlight]:
    """Record what these shoppers are told, for a whole step in one command; those still this batch's
    (a record another writer moved on meanwhile, the reconciler or a later submit, is not overwritten,
    and its checkout goes no further here)."""
    refused = records.advance(sale_id, [item.checkout for item in told])
    return [item for item in told if item.request.ticket_id not in refused]
