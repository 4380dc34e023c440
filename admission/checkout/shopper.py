"""A shopper's side of the checkout: submit a ticket's checkout into the sale's line, read its outcome.

The request path touches Redis only: the ticket is checked there, the card is handed to the payments
service (which keeps it behind a short-lived token, in its Redis), the request with only that token waits
in the sale's line (line.py) for a drain job that takes it in a batch (drain.py), and the shopper polls
the outcome the worker writes back (records.py).
"""

import time

from admission import stock, tickets
from admission.checkout import jobs, records
from admission.checkout.records import (
    IN_PROGRESS_STATES,
    RETRY_STATES,
    SAME_QUANTITY_STATES,
    Checkout,
    CheckoutRequest,
    CheckoutState,
)
from admission.exceptions import (
    CheckoutInProgress,
    NotYourTicket,
    QuantityOverLimit,
    TicketUsed,
    TicketWrongSale,
)
from admission.states import TicketState
from api.client import payments
from api.payments.cards import as_card


def submit(sale_id: int, shopper_id: int, token: str, quantity: int, card: dict) -> Checkout:
    """Check the ticket, tokenise the card (CardFields' shape) and put the checkout in the sale's line; a
    declined one, or one told fewer units are left, may be submitted again. A quantity over what the
    shopper may still buy is refused (422) and the ticket lives on; of simultaneous submits of one ticket
    exactly one goes in (409 the rest). Payments unavailable: 503, and nothing was queued."""
    ticket = _usable_ticket(token, shopper_id, sale_id)
    previous, read = records.read_versioned(sale_id, ticket.id)
    if previous and previous.state in IN_PROGRESS_STATES:
        raise CheckoutInProgress()
    if previous and previous.state not in RETRY_STATES:
        raise TicketUsed()
    attempt = (previous.attempt if previous else 0) + 1
    if previous and previous.state == CheckoutState.FEWER_LEFT:
        attempt = previous.attempt  # nothing was charged: the attempt (and its charge key) is still unused
    if attempt > records.MAX_ATTEMPTS:
        raise TicketUsed("This ticket has been declined too often.")
    if previous and previous.state in SAME_QUANTITY_STATES:
        quantity = previous.quantity  # units are reserved once, on the first attempt
    else:
        _within_limit(sale_id, shopper_id, quantity)
    token_for_card = tokenise(card, shopper_id)
    left = max(0.0, ticket.expires_at - time.time())  # what a hand-back gives back, if one comes
    request = CheckoutRequest(ticket.id, shopper_id, quantity, attempt, token_for_card, left)
    order_id = previous.order_id if previous else None
    if not jobs.queue_checkout_unless_changed(sale_id, request, read, order_id):
        raise CheckoutInProgress()  # another submit of this ticket went in first
    return records.read(sale_id, ticket.id)


def tokenise(card: dict, shopper_id: int) -> str:
    """The payments service's short-lived token for the shopper's card: all of it that waits in Redis."""
    return payments().tokenise(json={"card": as_card(card), "account_id": shopper_id})["token"]


def _within_limit(sale_id: int, shopper_id: int, quantity: int) -> None:
    limit, bought = stock.shopper_allowance(sale_id, shopper_id)
    allowed = limit - bought
    if quantity > allowed:
        what = f"at most {allowed} more" if bought else f"at most {allowed}"
        raise QuantityOverLimit(
            f"One shopper may buy {limit} in this sale: choose {what}.",
            fields={"quantity": [f"At most {allowed} (the limit is {limit} per shopper)."], "limit": limit},
        )


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
    return records.read(sale_id, ticket.id) or Checkout(ticket.id, CheckoutState.QUEUED)
