"""The states of a sale, of a shopper in its waiting room, and of a ticket; and the sale's transitions."""

from enum import StrEnum


class SaleState(StrEnum):
    DRAFT = "draft"
    ARMED = "armed"
    OPEN = "open"
    PAUSED = "paused"
    CLOSED = "closed"


class SaleAction(StrEnum):
    ARM = "arm"
    OPEN = "open"
    PAUSE = "pause"
    RESUME = "resume"
    CLOSE = "close"


# Every legal move, in one table: (state, action) -> next state. Anything else is refused with 409.
TRANSITIONS: dict[tuple[SaleState, SaleAction], SaleState] = {
    (SaleState.DRAFT, SaleAction.ARM): SaleState.ARMED,
    (SaleState.ARMED, SaleAction.OPEN): SaleState.OPEN,
    (SaleState.OPEN, SaleAction.PAUSE): SaleState.PAUSED,
    (SaleState.PAUSED, SaleAction.RESUME): SaleState.OPEN,
    (SaleState.DRAFT, SaleAction.CLOSE): SaleState.CLOSED,
    (SaleState.ARMED, SaleAction.CLOSE): SaleState.CLOSED,
    (SaleState.OPEN, SaleAction.CLOSE): SaleState.CLOSED,
    (SaleState.PAUSED, SaleAction.CLOSE): SaleState.CLOSED,
}

# States in which Redis holds the sale and the admitter looks after it.
LIVE_STATES = (SaleState.ARMED, SaleState.OPEN, SaleState.PAUSED)


class WaiterState(StrEnum):
    """Where a shopper stands in a sale's waiting room."""

    WAITING = "waiting"
    # Still in line, but the units not reserved cannot reach them given the people ahead: they move up
    # when units come back. Never stored: status.lua tells a waiting shopper so from their place.
    STANDBY = "standby"
    ADMITTED = "admitted"  # holds a ticket (checking out, or paying)
    SOLD_OUT = "sold_out"  # final: every unit is paid
    EXPIRED = "expired"  # stopped polling, or let the ticket's checkout window pass
    DONE = "done"  # checked out: paid or declined
    CLOSED = "closed"  # the sale closed while they waited


FINAL_WAITER_STATES = frozenset(WaiterState) - {
    WaiterState.WAITING,
    WaiterState.STANDBY,
    WaiterState.ADMITTED,
}
# In line: waiting for a turn, or on standby for units that come back.
IN_LINE_STATES = frozenset({WaiterState.WAITING, WaiterState.STANDBY})


class TicketState(StrEnum):
    """A ticket's life: ADMITTED, then RESERVED, then exactly one final state."""

    ADMITTED = "admitted"  # issued, not used yet
    RESERVED = "reserved"  # holds units; payment under way
    PAID = "paid"  # final: the units are sold
    DECLINED = "declined"  # final: payment refused, units back on the counter
    RELEASED = "released"  # final: units given back unpaid (abandoned, or resolved by the reconciler)
    EXPIRED = "expired"  # final: the checkout window passed (or the sale closed) before reserving
    SOLD_OUT = "sold_out"  # final: nothing was left when it tried to reserve


FINAL_TICKET_STATES = frozenset(
    {TicketState.PAID, TicketState.DECLINED, TicketState.RELEASED, TicketState.EXPIRED, TicketState.SOLD_OUT}
)
