"""The words the sale's Lua scripts answer with, one enum per kind of answer.

tests/test_admission_scripts.py reads every word each script returns and checks it is a value of the
enum REPLY_CODES names for it, so a script and the Python that reads it cannot drift apart.
"""

from enum import StrEnum


class JoinOutcome(StrEnum):
    JOINED = "joined"
    EXISTING = "existing"  # the shopper already had a place: the answer is that place
    NOT_OPEN = "not_open"


class LifecycleOutcome(StrEnum):
    """What arm, open, close and transition (pause, resume) answer."""

    ARMED = "armed"
    OPENED = "opened"
    MOVED = "moved"
    CLOSED = "closed"
    ALREADY = "already"  # the sale was there already: nothing changed
    REFUSED = "refused"  # the sale is in a state that cannot move that way
    STALE = "stale"  # open: the draw's snapshot of the pre-queue misses someone who joined since


class ReserveCode(StrEnum):
    """A reservation's answer (reserve_core.lua): reserved, or why not."""

    RESERVED = "reserved"
    ALREADY_RESERVED = "already_reserved"
    ALREADY_PAID = "already_paid"
    UNKNOWN_TICKET = "unknown_ticket"
    EXPIRED = "expired"
    SOLD_OUT = "sold_out"
    # Fewer units are left than asked while others' are held (they may come back): not final.
    INSUFFICIENT = "insufficient"
    LIMIT_EXCEEDED = "limit_exceeded"
    BAD_QUANTITY = "bad_quantity"
    TICKET_USED = "ticket_used"  # the ticket ended otherwise (declined, released)


# The codes that leave the ticket holding its units.
HOLDING_CODES = frozenset({ReserveCode.RESERVED, ReserveCode.ALREADY_RESERVED, ReserveCode.ALREADY_PAID})


class TicketChange(StrEnum):
    """What confirm.lua and release.lua answer."""

    PAID = "paid"
    RELEASED = "released"
    ALREADY = "already"  # done before, the same way: the same units are answered
    REFUSED = "refused"  # the ticket's state does not allow it (the reply carries that state)


class SubmitOutcome(StrEnum):
    QUEUED = "queued"
    CHANGED = "changed"  # another submit (or a worker) wrote the checkout first


class SettleCode(StrEnum):
    PLANNED = "planned"  # the leftover units are off the counter, waiting to go back to the catalog
    IN_FLIGHT = "in_flight"  # reservations are still held: their units may come back
    NOT_CLOSED = "not_closed"


# The enum of each script's words; scripts missing here answer no words (lists, counts, or states
# read from Redis, which are WaiterState / SaleState / TicketState values).
REPLY_CODES: dict[str, type[StrEnum]] = {
    "join": JoinOutcome,
    "arm": LifecycleOutcome,
    "open": LifecycleOutcome,
    "close": LifecycleOutcome,
    "transition": LifecycleOutcome,
    "reserve_core": ReserveCode,
    "recheck": ReserveCode,  # unknown_ticket, for a ticket the sale never issued
    "confirm": TicketChange,
    "release": TicketChange,
    "settle": SettleCode,
    "submit": SubmitOutcome,
}
