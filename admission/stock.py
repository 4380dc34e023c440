"""The sale's stock counter: reserve, release and confirm units for a ticket, atomically and once.

Every function takes `client` and `loaded` (a Redis client and its Scripts) only so the benchmark can run
them without an app; inside an app they default to the app's.
"""

import time
from dataclasses import dataclass

import redis

from admission.exceptions import (
    BadQuantity,
    InsufficientUnits,
    LimitExceeded,
    ReservationRefused,
    SoldOut,
    TicketExpired,
    TicketInvalid,
    TicketUsed,
)
from admission.keys import sale_keys
from admission.replies import HOLDING_CODES, ReserveCode, TicketChange
from admission.scripts import Scripts, scripts
from admission.states import TicketState
from yakku.extensions import get_sales_redis

# What reserve.lua answers when it refuses, and the error each refusal is.
REFUSALS = {
    ReserveCode.UNKNOWN_TICKET: TicketInvalid,
    ReserveCode.EXPIRED: TicketExpired,
    ReserveCode.SOLD_OUT: SoldOut,
    ReserveCode.INSUFFICIENT: InsufficientUnits,
    ReserveCode.LIMIT_EXCEEDED: LimitExceeded,
    ReserveCode.BAD_QUANTITY: BadQuantity,
    ReserveCode.TICKET_USED: TicketUsed,
}
RELEASE_STATES = (TicketState.DECLINED, TicketState.RELEASED, TicketState.EXPIRED)
RECHECK_BATCH = 1000  # tickets per recheck.lua call


@dataclass(frozen=True)
class Reservation:
    """Units held for a ticket. `fresh` is False when the ticket had reserved (or paid) before."""

    ticket_id: str
    units: int
    stock_left: int
    fresh: bool = True


@dataclass(frozen=True)
class Outcome:
    """One ticket's answer in a batch: a reservation, or the refusal's code."""

    ticket_id: str
    code: ReserveCode
    units: int
    stock_left: int

    @property
    def reserved(self) -> bool:
        return self.code in HOLDING_CODES


def _bind(client: redis.Redis | None, loaded: Scripts | None) -> tuple[redis.Redis, Scripts]:
    return client or get_sales_redis(), loaded or scripts()


def _outcome(ticket_id: str, reply) -> Outcome:
    return Outcome(ticket_id, ReserveCode(reply.code), int(reply.units or 0), int(reply.stock_left or 0))


def reserve(
    sale_id: int,
    ticket_id: str,
    quantity: int,
    now: float | None = None,
    *,
    client: redis.Redis | None = None,
    loaded: Scripts | None = None,
) -> Reservation:
    """Reserve `quantity` units for an admitted ticket (idempotent); raises why it cannot."""
    client, loaded = _bind(client, loaded)
    reply = loaded.reserve(sale_id, [ticket_id, quantity, time.time() if now is None else now], client)
    return _reservation(_outcome(ticket_id, reply))


def _reservation(outcome: Outcome) -> Reservation:
    if outcome.reserved:
        fresh = outcome.code == ReserveCode.RESERVED
        return Reservation(outcome.ticket_id, outcome.units, outcome.stock_left, fresh)
    raise REFUSALS[outcome.code](fields={"ticket": outcome.ticket_id})


def reserve_batch(
    sale_id: int,
    requests: list[tuple[str, int]],
    now: float | None = None,
    *,
    client: redis.Redis | None = None,
    loaded: Scripts | None = None,
) -> list[Outcome]:
    """Reserve for many (ticket, quantity) pairs in one call, in order; one Outcome per pair."""
    if not requests:
        return []
    client, loaded = _bind(client, loaded)
    args: list = [time.time() if now is None else now]
    for ticket_id, quantity in requests:
        args += [ticket_id, quantity]
    replies = loaded.reserve_batch(sale_id, args, client)
    return [
        _outcome(ticket_id, reply) for (ticket_id, _quantity), reply in zip(requests, replies, strict=True)
    ]


def recheck(sale_id: int, ticket_ids: list[str], now: float | None = None) -> dict[str, str]:
    """Reserving nothing, end those of these admitted tickets that never can reserve: EXPIRED once their
    window has passed, SOLD_OUT once nothing is left and nothing is held; each ticket's state after."""
    now = time.time() if now is None else now
    states = []
    for start in range(0, len(ticket_ids), RECHECK_BATCH):  # bounds one script's run time
        states += scripts().recheck(sale_id, [now, *ticket_ids[start : start + RECHECK_BATCH]])
    return dict(zip(ticket_ids, states, strict=True))


def release(
    sale_id: int,
    ticket_id: str,
    final: TicketState = TicketState.DECLINED,
    *,
    client: redis.Redis | None = None,
    loaded: Scripts | None = None,
) -> int:
    """End an unpaid ticket in `final`, returning its units to the counter once; the units returned.

    Repeating it with the same `final` answers the same units and changes nothing. A paid ticket, or
    one that already ended otherwise, raises ReservationRefused.
    """
    if final not in RELEASE_STATES:
        raise ValueError(f"a ticket is released into one of {', '.join(RELEASE_STATES)}")
    client, loaded = _bind(client, loaded)
    return _units_changed(ticket_id, loaded.release(sale_id, [ticket_id, final.value], client))


def confirm(
    sale_id: int, ticket_id: str, *, client: redis.Redis | None = None, loaded: Scripts | None = None
) -> int:
    """Mark a reserved ticket PAID, once (repeats answer the same); the units sold."""
    client, loaded = _bind(client, loaded)
    return _units_changed(ticket_id, loaded.confirm(sale_id, [ticket_id], client)[0])


def _units_changed(ticket_id: str, reply) -> int:
    if reply.code == TicketChange.REFUSED:
        raise ReservationRefused(fields={"ticket": ticket_id, "state": reply.refused_state})
    return int(reply.units)


def confirm_many(sale_id: int, ticket_ids: list[str]) -> dict[str, bool]:
    """Confirm many reserved tickets in one script call; per ticket, whether it is PAID now."""
    if not ticket_ids:
        return {}
    answers = scripts().confirm(sale_id, ticket_ids)
    return {
        ticket_id: answer.code in (TicketChange.PAID, TicketChange.ALREADY)
        for ticket_id, answer in zip(ticket_ids, answers, strict=True)
    }


def shopper_allowance(sale_id: int, shopper_id: int) -> tuple[int, int]:
    """(the sale's per-shopper limit, the units the shopper holds or bought in it already)."""
    keys = sale_keys(sale_id)
    pipe = get_sales_redis().pipeline(transaction=False)
    pipe.hget(keys.settings, "limit").hget(keys.bought, shopper_id)
    limit, bought = pipe.execute()
    return int(limit or 1), int(bought or 0)


def reserved_units(sale_id: int, ticket_id: str) -> int:
    """The units a ticket reserved (0 if it never did)."""
    return int(get_sales_redis().hget(sale_keys(sale_id).reservations, ticket_id) or 0)


def stale_reservations(sale_id: int, older_than: float) -> list[str]:
    """Tickets reserved before `older_than` (epoch s), neither paid nor released yet: for the reconciler."""
    return list(get_sales_redis().zrangebyscore(sale_keys(sale_id).inflight, "-inf", older_than))


def ticket_owner(sale_id: int, ticket_id: str) -> int | None:
    """The shopper a ticket was issued to."""
    owner = get_sales_redis().hget(sale_keys(sale_id).ticket_owner, ticket_id)
    return int(owner) if owner else None


def tickets_by_state(sale_id: int) -> dict[str, int]:
    """How many tickets of the sale are in each state: for the audit."""
    counts = {state.value: 0 for state in TicketState}
    for state in get_sales_redis().hvals(sale_keys(sale_id).tickets):
        counts[state] = counts.get(state, 0) + 1
    return counts
