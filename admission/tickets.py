"""Tickets: signed, bound to a shopper and a sale, expiring after the checkout window, used once."""

import time
from dataclasses import dataclass

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer

from admission.exceptions import (
    NotYourTicket,
    SoldOut,
    TicketExpired,
    TicketInvalid,
    TicketUsed,
    TicketWrongSale,
)
from admission.keys import sale_keys
from admission.states import TicketState
from yakku.extensions import get_sales_redis

SALT = "yakku.admission.ticket"


@dataclass(frozen=True)
class Ticket:
    """What a ticket says: which ticket, for which sale and shopper, usable until when."""

    id: str
    sale_id: int
    shopper_id: int
    expires_at: float


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["TICKET_SECRET"], salt=SALT)


def sign_ticket(ticket: Ticket) -> str:
    """The token a shopper carries for `ticket` (the same ticket always signs to the same token)."""
    payload = {"t": ticket.id, "s": ticket.sale_id, "p": ticket.shopper_id, "e": ticket.expires_at}
    return _serializer().dumps(payload)


def read_ticket(token: str) -> Ticket:
    """The ticket a token carries, if we signed it; TicketInvalid otherwise."""
    try:
        payload = _serializer().loads(token)
        return Ticket(str(payload["t"]), int(payload["s"]), int(payload["p"]), float(payload["e"]))
    except (BadSignature, KeyError, TypeError, ValueError):
        raise TicketInvalid() from None


def ticket_state(sale_id: int, ticket_id: str) -> TicketState | None:
    """The ticket's state in Redis, or None if the sale never issued it."""
    value = get_sales_redis().hget(sale_keys(sale_id).tickets, ticket_id)
    return TicketState(value) if value else None


def verify_ticket(token: str, shopper_id: int, sale_id: int, now: float | None = None) -> Ticket:
    """The ticket if it is ours, for this sale and shopper, unexpired and unused; else a distinct error."""
    ticket = read_ticket(token)
    if ticket.sale_id != sale_id:
        raise TicketWrongSale()
    if ticket.shopper_id != shopper_id:
        raise NotYourTicket()
    if (time.time() if now is None else now) > ticket.expires_at:
        raise TicketExpired()
    state = ticket_state(sale_id, ticket.id)
    if state is None:
        raise TicketInvalid()
    if state == TicketState.EXPIRED:
        raise TicketExpired()
    if state == TicketState.SOLD_OUT:
        raise SoldOut()
    if state != TicketState.ADMITTED:
        raise TicketUsed()
    return ticket
