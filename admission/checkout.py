"""Checkout of an admitted shopper: submit enqueues the drain job by reference; status reads its outcome.

The request path touches Redis only: the ticket is checked there, the job goes to RQ, and the shopper
polls an outcome the worker writes back. A shopper whose card is declined may submit another card while
the ticket's window lasts; the order stays one per ticket, the attempt number keys each charge.
"""

import json
import time
from dataclasses import asdict, dataclass
from enum import StrEnum

from admission import tickets
from admission.exceptions import CheckoutInProgress, NotYourTicket, TicketUsed, TicketWrongSale
from admission.keys import sale_keys
from admission.states import TicketState
from workers import QueueName, get_queue
from yakku.extensions import get_redis

MAX_ATTEMPTS = 3


class CheckoutState(StrEnum):
    QUEUED = "queued"  # waiting for a worker
    PROCESSING = "processing"  # a worker holds it: reserving, ordering, charging
    PAID = "paid"  # final
    DECLINED = "declined"  # the card was refused; another card may be tried while the ticket lasts
    SOLD_OUT = "sold_out"  # final: no units were left for this ticket
    EXPIRED = "expired"  # final: the ticket's window passed before the payment went through
    FAILED = "failed"  # final: declined too often, or the order could not be made


FINAL_CHECKOUT_STATES = frozenset(
    {CheckoutState.PAID, CheckoutState.SOLD_OUT, CheckoutState.EXPIRED, CheckoutState.FAILED}
)


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

    def to_dict(self) -> dict:
        return {**asdict(self), "final": self.state in FINAL_CHECKOUT_STATES}


def read(sale_id: int, ticket_id: str) -> Checkout | None:
    """The checkout recorded for a ticket, if one was submitted."""
    raw = get_redis().hget(sale_keys(sale_id).checkouts, ticket_id)
    if not raw:
        return None
    data = json.loads(raw)
    return Checkout(**{**data, "state": CheckoutState(data["state"])})


def unfinished(sale_id: int) -> list[Checkout]:
    """Every checkout of the sale that is queued or being processed (for the reconciler)."""
    found = []
    for ticket_id, raw in get_redis().hscan_iter(sale_keys(sale_id).checkouts):
        state = json.loads(raw)["state"]
        if state in (CheckoutState.QUEUED, CheckoutState.PROCESSING):
            found.append(read(sale_id, ticket_id))
    return found


def record(sale_id: int, checkout: Checkout) -> Checkout:
    """Write a checkout's state where every process can read it."""
    checkout.updated_at = time.time()
    payload = {**asdict(checkout), "state": checkout.state.value}
    get_redis().hset(sale_keys(sale_id).checkouts, checkout.ticket_id, json.dumps(payload))
    return checkout


def submit(sale_id: int, shopper_id: int, token: str, quantity: int, card: dict) -> Checkout:
    """Check the ticket and queue its drain job; a declined checkout may be submitted again."""
    ticket = _usable_ticket(token, shopper_id, sale_id)
    previous = read(sale_id, ticket.id)
    if previous and previous.state in (CheckoutState.QUEUED, CheckoutState.PROCESSING):
        raise CheckoutInProgress()
    if previous and previous.state != CheckoutState.DECLINED:
        raise TicketUsed()
    attempt = (previous.attempt if previous else 0) + 1
    if attempt > MAX_ATTEMPTS:
        raise TicketUsed("This ticket has been declined too often.")
    quantity = previous.quantity if previous else quantity  # units are reserved once, on the first attempt
    checkout = record(
        sale_id,
        Checkout(ticket.id, CheckoutState.QUEUED, attempt, quantity, previous.order_id if previous else None),
    )
    from workers.checkout import drain_checkout  # the job module imports this one

    get_queue(QueueName.CHECKOUT).enqueue(
        drain_checkout,
        sale_id,
        ticket.id,
        shopper_id,
        quantity,
        attempt,
        card,
        job_id=f"checkout-{sale_id}-{ticket.id}-{attempt}",
        result_ttl=300,
        failure_ttl=86400,
    )
    return checkout


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
