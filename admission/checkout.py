"""Checkout of an admitted shopper: submit puts it in the sale's line for the drain; status reads its outcome.

The request path touches Redis only: the ticket is checked there, the request waits in the sale's
line (admission/checkout_queue.py) for a drain job that takes it in a batch, and the shopper
polls an outcome the worker writes back. A shopper whose card is declined may submit another card while
the ticket's window lasts; the order stays one per ticket, the attempt number keys each charge. A shopper
told that fewer units are left than they asked for (others' are held, and may come back) may submit again
for fewer, on the same ticket, while its window lasts.
"""

import json
import time
from dataclasses import asdict, dataclass
from enum import StrEnum

from admission import tickets
from admission.exceptions import CheckoutInProgress, NotYourTicket, TicketUsed, TicketWrongSale
from admission.keys import sale_keys
from admission.states import TicketState
from yakku.extensions import get_redis

MAX_ATTEMPTS = 3


class CheckoutState(StrEnum):
    QUEUED = "queued"  # waiting for a worker
    PROCESSING = "processing"  # a worker holds it: reserving, ordering, charging
    PAID = "paid"  # final
    DECLINED = "declined"  # the card was refused; another card may be tried while the ticket lasts
    # Fewer units left than asked while others' are held (they may come back): nothing was reserved or
    # charged, and the shopper may ask again for fewer while the ticket lasts.
    FEWER_LEFT = "fewer_left"
    # The platform stopped before it could finish (a worker died, and the reconciler found nothing
    # paid): nothing was charged, and the shopper may submit again while the ticket lasts.
    INTERRUPTED = "interrupted"
    SOLD_OUT = "sold_out"  # final: no units were left for this ticket
    EXPIRED = "expired"  # final: the ticket's window passed before the payment went through
    FAILED = "failed"  # final: declined too often, or the order could not be made


FINAL_CHECKOUT_STATES = frozenset(
    {CheckoutState.PAID, CheckoutState.SOLD_OUT, CheckoutState.EXPIRED, CheckoutState.FAILED}
)
# The states in which the ticket waits for its shopper to submit again.
RETRY_STATES = frozenset({CheckoutState.DECLINED, CheckoutState.FEWER_LEFT, CheckoutState.INTERRUPTED})
# Retry states whose units, if any were reserved, stay held for the same quantity.
SAME_QUANTITY_STATES = frozenset({CheckoutState.DECLINED, CheckoutState.INTERRUPTED})


@dataclass
class Checkout:
    """What the shopper is told about one ticket's checkout."""

    ticket_id: str
    state: CheckoutState
    attempt: int = 0
    quantity: int = 0
    order_id: int | None = None
    message: str = ""
    updated_at: float = 0.0
    units_left: int | None = None  # FEWER_LEFT: the units on the counter when the reserve was refused

    def to_dict(self) -> dict:
        return {**asdict(self), "final": self.state in FINAL_CHECKOUT_STATES}


def read(sale_id: int, ticket_id: str) -> Checkout | None:
    """The checkout recorded for a ticket, if one was submitted."""
    raw = get_redis().hget(sale_keys(sale_id).checkouts, ticket_id)
    if not raw:
        return None
    data = json.loads(raw)
    return Checkout(**{**data, "state": CheckoutState(data["state"])})


def in_states(sale_id: int, states: frozenset[CheckoutState]) -> list[Checkout]:
    """Every checkout of the sale in one of `states` (for the reconciler)."""
    found = []
    for ticket_id, raw in get_redis().hscan_iter(sale_keys(sale_id).checkouts):
        if json.loads(raw)["state"] in states:
            found.append(read(sale_id, ticket_id))
    return found


def fewer_left(record: Checkout, left: int) -> Checkout:
    """Tell the shopper how many units are left, and that they may ask again."""
    record.state, record.units_left = CheckoutState.FEWER_LEFT, left
    if left > 0:
        record.message = f"Only {left} left — lower the quantity and try again."
    else:
        record.message = (
            "None are left right now, but units held by shoppers paying may come back. Try again in a moment."
        )
    return record


def record(sale_id: int, checkout: Checkout, client=None) -> Checkout:
    """Write a checkout's state where every process can read it (`client`: a pipeline to join)."""
    record_many(sale_id, [checkout], client)
    return checkout


def record_many(sale_id: int, checkouts: list[Checkout], client=None) -> None:
    """Write many checkouts' states in one command."""
    if not checkouts:
        return
    now = time.time()
    mapping = {}
    for checkout in checkouts:
        checkout.updated_at = now
        mapping[checkout.ticket_id] = json.dumps({**asdict(checkout), "state": checkout.state.value})
    (client or get_redis()).hset(sale_keys(sale_id).checkouts, mapping=mapping)


def read_many(sale_id: int, ticket_ids: list[str]) -> dict[str, Checkout]:
    """The checkouts recorded for these tickets, by ticket (absent: none submitted)."""
    if not ticket_ids:
        return {}
    found = {}
    for ticket_id, raw in zip(
        ticket_ids, get_redis().hmget(sale_keys(sale_id).checkouts, ticket_ids), strict=True
    ):
        if raw:
            data = json.loads(raw)
            found[ticket_id] = Checkout(**{**data, "state": CheckoutState(data["state"])})
    return found


def submit(sale_id: int, shopper_id: int, token: str, quantity: int, card: dict) -> Checkout:
    """Check the ticket and put its checkout in the sale's line; a declined one, or one told fewer units
    are left, may be submitted again."""
    ticket = _usable_ticket(token, shopper_id, sale_id)
    previous = read(sale_id, ticket.id)
    if previous and previous.state in (CheckoutState.QUEUED, CheckoutState.PROCESSING):
        raise CheckoutInProgress()
    if previous and previous.state not in RETRY_STATES:
        raise TicketUsed()
    attempt = (previous.attempt if previous else 0) + 1
    if previous and previous.state == CheckoutState.FEWER_LEFT:
        attempt = previous.attempt  # nothing was charged: the attempt (and its charge key) is still unused
    if attempt > MAX_ATTEMPTS:
        raise TicketUsed("This ticket has been declined too often.")
    if previous and previous.state in SAME_QUANTITY_STATES:
        quantity = previous.quantity  # units are reserved once, on the first attempt
    from admission import checkout_queue  # it builds on this module

    request = checkout_queue.CheckoutRequest(ticket.id, shopper_id, quantity, attempt, card)
    order_ids = {ticket.id: previous.order_id} if previous and previous.order_id else None
    checkout_queue.put(sale_id, [request], order_ids)
    return read(sale_id, ticket.id)


def _usable_ticket(token: str, shopper_id: int, sale_id: int) -> tickets.Ticket:
    # A reserved ticket whose card was declined may pay again; otherwise it must be fresh.
    try:
        return tickets.verify_ticket(token, shopper_id, sale_id)
    except TicketUsed:
        ticket = tickets.read_ticket(token)
        if (
            tickets.ticket_state(sale_id, ticket.id) != TicketState.RESERVED
            or time.time() > ticket.expires_at
        ):
            raise
        return ticket


def status(sale_id: int, shopper_id: int, token: str) -> Checkout:
    """The checkout of the shopper's own ticket."""
    ticket = tickets.read_ticket(token)
    if ticket.sale_id != sale_id:
        raise TicketWrongSale()
    if ticket.shopper_id != shopper_id:
        raise NotYourTicket()
    return read(sale_id, ticket.id) or Checkout(ticket.id, CheckoutState.QUEUED)
