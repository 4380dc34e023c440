"""A checkout's record: what the shopper is told about one ticket's checkout, and what a drain job needs
to take it. The record lives in the sale's `checkouts` hash, where every process reads and writes it.

A record only moves forward: it carries a version, and a worker's or the reconciler's write goes in only
over the version its writer read (advance.lua), so a worker paused past its lease never overwrites the
outcome the reconciler, or a later submit, wrote since.

A shopper whose card is declined may submit another card while the ticket's window lasts; the order stays
one per ticket, the attempt number keys each charge. A shopper told that fewer units are left than they
asked for (others' are held, and may come back) may submit again for fewer, on the same ticket.
"""

import json
import time
from dataclasses import dataclass, fields
from enum import StrEnum
from functools import cache

from admission.keys import sale_keys
from admission.scripts import scripts
from yakku.extensions import get_sales_redis

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
# The states in which a worker has (or will have) the checkout.
IN_PROGRESS_STATES = frozenset({CheckoutState.QUEUED, CheckoutState.PROCESSING})
# The states in which the ticket waits for its shopper to submit again.
RETRY_STATES = frozenset({CheckoutState.DECLINED, CheckoutState.FEWER_LEFT, CheckoutState.INTERRUPTED})
# Retry states whose units, if any were reserved, stay held for the same quantity.
SAME_QUANTITY_STATES = frozenset({CheckoutState.DECLINED, CheckoutState.INTERRUPTED})
# Retry states that reserved nothing: the shopper holds no unit while deciding.
HOLDING_NOTHING_STATES = frozenset({CheckoutState.FEWER_LEFT, CheckoutState.INTERRUPTED})


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
    version: int = 0  # one more at each write: what a compare-and-set (advance.lua) checks
    # Seconds the ticket had left when this checkout was submitted: what a hand-back gives back, so time
    # the platform lost is not the shopper's (0: unknown, a record written before it was kept).
    left_at_submit: float = 0.0

    def to_dict(self) -> dict:
        return {**values_of(self), "final": self.state in FINAL_CHECKOUT_STATES}

    def tell(self, state: CheckoutState, message: str) -> "Checkout":
        """Move to `state` with what the shopper reads; the record, for chaining."""
        self.state, self.message = state, message
        return self


@dataclass(frozen=True)
class CheckoutRequest:
    """What a drain job needs to take one checkout as far as it goes: the card only as the payments
    service's short-lived token, never its number or CVC (the request waits in Redis)."""

    ticket_id: str
    shopper_id: int
    quantity: int
    attempt: int
    payment_method: str
    left_at_submit: float = 0.0  # seconds the ticket had left at submit (the record keeps it)

    def encode(self) -> str:
        """The request as the line stores it."""
        return json.dumps(values_of(self))

    @classmethod
    def decode(cls, raw: str) -> "CheckoutRequest":
        """A request as the line stores it. One listed before cards were tokenised carries the card
        itself: it is dropped unread, and the charge then asks the shopper to enter the card again."""
        data = json.loads(raw)
        data.pop("card", None)
        return cls(**{"payment_method": "", **data})


def queued(request: CheckoutRequest, order_id: int | None = None) -> Checkout:
    """The record of a checkout put in the line for `request`: QUEUED, waiting for a worker."""
    checkout = Checkout(request.ticket_id, CheckoutState.QUEUED, request.attempt, request.quantity, order_id)
    checkout.left_at_submit = request.left_at_submit
    return checkout


def _decode(raw: str) -> Checkout:
    data = json.loads(raw)
    return Checkout(**{**data, "state": CheckoutState(data["state"])})


def read(sale_id: int, ticket_id: str) -> Checkout | None:
    """The checkout recorded for a ticket, if one was submitted."""
    return read_versioned(sale_id, ticket_id)[0]


def read_versioned(sale_id: int, ticket_id: str) -> tuple[Checkout | None, str]:
    """The checkout recorded for a ticket, and its record as stored ('' for none): the version a
    compare-and-set (submit.lua) checks is unchanged."""
    raw = get_sales_redis().hget(sale_keys(sale_id).checkouts, ticket_id) or ""
    return (_decode(raw) if raw else None), raw


def read_many(sale_id: int, ticket_ids: list[str]) -> dict[str, Checkout]:
    """The checkouts recorded for these tickets, by ticket (absent: none submitted)."""
    if not ticket_ids:
        return {}
    answers = get_sales_redis().hmget(sale_keys(sale_id).checkouts, ticket_ids)
    return {ticket_id: _decode(raw) for ticket_id, raw in zip(ticket_ids, answers, strict=True) if raw}


def in_states(sale_id: int, states: frozenset[CheckoutState]) -> list[Checkout]:
    """Every checkout of the sale in one of `states` (for the reconciler)."""
    found = (_decode(raw) for _ticket_id, raw in get_sales_redis().hscan_iter(sale_keys(sale_id).checkouts))
    return [checkout for checkout in found if checkout.state in states]


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
    for checkout in checkouts:
        checkout.updated_at = now
    mapping = {checkout.ticket_id: encode(checkout) for checkout in checkouts}
    (client or get_sales_redis()).hset(sale_keys(sale_id).checkouts, mapping=mapping)


def advance(sale_id: int, checkouts: list[Checkout]) -> set[str]:
    """Write each checkout only if its record is still at the version it was read at (each moves one
    version on); the tickets refused, whose record another writer moved on meanwhile."""
    if not checkouts:
        return set()
    now, args = time.time(), []
    for checkout in checkouts:
        args += [checkout.ticket_id, encode(next_version(checkout, now))]
    return set(scripts().advance(sale_id, args))


def next_version(checkout: Checkout, now: float) -> Checkout:
    """The checkout as its writer's compare-and-set stores it: one version on, touched `now`."""
    checkout.updated_at, checkout.version = now, checkout.version + 1
    return checkout


def version_of(stored: str) -> int:
    """The version of a record as stored ('' for none: -1, so the first one written is 0)."""
    return json.loads(stored).get("version", 0) if stored else -1


def encode(checkout: Checkout) -> str:
    """A checkout as its record is stored."""
    return json.dumps({**values_of(checkout), "state": checkout.state.value})


def values_of(record: Checkout | CheckoutRequest) -> dict:
    """A record's fields by name. Not dataclasses.asdict: its deep copy of every value was half of a
    worker's CPU in a drain batch, which encodes each of its checkouts at every step."""
    return {name: getattr(record, name) for name in _field_names(type(record))}


@cache
def _field_names(kind: type) -> tuple[str, ...]:
    return tuple(field.name for field in fields(kind))
