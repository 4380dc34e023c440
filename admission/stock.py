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
from admission.scripts import Scripts, scripts
from admission.states import TicketState
from yakku.extensions import get_redis

RESERVE_KEYS = (
    "settings",
    "tickets",
    "ticket_owner",
    "ticket_expiry",
    "admitted",
    "inflight",
    "reservations",
    "bought",
    "stock",
    "held",
    "waiters",
)
RELEASE_KEYS = (
    "tickets",
    "ticket_owner",
    "admitted",
    "inflight",
    "reservations",
    "bought",
    "stock",
    "held",
    "waiters",
)
CONFIRM_KEYS = ("tickets", "ticket_owner", "inflight", "reservations", "held", "sold", "waiters")
# What reserve.lua answers when it refuses, and the error each refusal is.
REFUSALS = {
    "unknown_ticket": TicketInvalid,
    "expired": TicketExpired,
    "sold_out": SoldOut,
    "insufficient": InsufficientUnits,
    "limit_exceeded": LimitExceeded,
    "bad_quantity": BadQuantity,
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
    code: str
    units: int
    stock_left: int

    @property
    def reserved(self) -> bool:
        return self.code in ("reserved", "already_reserved", "already_paid")


def _bind(client: redis.Redis | None, loaded: Scripts | None) -> tuple[redis.Redis, Scripts]:
    return client or get_redis(), loaded or scripts()


def _outcome(ticket_id: str, code: str, units, stock_left) -> Outcome:
    return Outcome(ticket_id, code, int(units or 0), int(stock_left or 0))


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
    keys = sale_keys(sale_id).pick(*RESERVE_KEYS)
    code, units, left = loaded.reserve(
        keys, [ticket_id, quantity, time.time() if now is None else now], client
    )
    return _reservation(_outcome(ticket_id, code, units, left))


def _reservation(outcome: Outcome) -> Reservation:
    if outcome.reserved:
        return Reservation(outcome.ticket_id, outcome.units, outcome.stock_left, outcome.code == "reserved")
    if outcome.code in REFUSALS:
        raise REFUSALS[outcome.code](fields={"ticket": outcome.ticket_id})
    raise TicketUsed(fields={"ticket": outcome.ticket_id, "state": outcome.code})


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
    flat = loaded.reserve_batch(sale_keys(sale_id).pick(*RESERVE_KEYS), args, client)
    return [
        _outcome(ticket_id, *flat[3 * i : 3 * i + 3]) for i, (ticket_id, _quantity) in enumerate(requests)
    ]


def recheck(sale_id: int, ticket_ids: list[str], now: float | None = None) -> dict[str, str]:
    """Reserving nothing, end those of these admitted tickets that never can reserve: EXPIRED once their
    window has passed, SOLD_OUT once nothing is left and nothing is held; each ticket's state after."""
    now = time.time() if now is None else now
    keys, states = sale_keys(sale_id).pick(*RESERVE_KEYS), []
    for start in range(0, len(ticket_ids), RECHECK_BATCH):  # bounds one script's run time
        states += scripts().recheck(keys, [now, *ticket_ids[start : start + RECHECK_BATCH]], get_redis())
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
    code, units = loaded.release(sale_keys(sale_id).pick(*RELEASE_KEYS), [ticket_id, final.value], client)
    if code.startswith("refused_"):
        raise ReservationRefused(fields={"ticket": ticket_id, "state": code.removeprefix("refused_")})
    return int(units)


def confirm(
    sale_id: int, ticket_id: str, *, client: redis.Redis | None = None, loaded: Scripts | None = None
) -> int:
    """Mark a reserved ticket PAID, once (repeats answer the same); the units sold."""
    client, loaded = _bind(client, loaded)
    code, units = loaded.confirm(sale_keys(sale_id).pick(*CONFIRM_KEYS), [ticket_id], client)
    if code.startswith("refused_"):
        raise ReservationRefused(fields={"ticket": ticket_id, "state": code.removeprefix("refused_")})
    return int(units)


def confirm_many(sale_id: int, ticket_ids: list[str]) -> dict[str, bool]:
    """Confirm many reserved tickets in one round trip; per ticket, whether it is PAID now."""
    if not ticket_ids:
        return {}
    loaded, keys = scripts(), sale_keys(sale_id).pick(*CONFIRM_KEYS)
    with get_redis().pipeline(transaction=False) as pipe:
        for ticket_id in ticket_ids:
            loaded.confirm(keys, [ticket_id], pipe)
        answers = pipe.execute()
    return {
        ticket_id: code in ("paid", "already")
        for ticket_id, (code, _units) in zip(ticket_ids, answers, strict=True)
    }


def reserved_units(sale_id: int, ticket_id: str) -> int:
    """The units a ticket reserved (0 if it never did)."""
    return int(get_redis().hget(sale_keys(sale_id).reservations, ticket_id) or 0)


def stale_reservations(sale_id: int, older_than: float) -> list[str]:
    """Tickets reserved before `older_than` (epoch s), neither paid nor released yet: for the reconciler."""
    return list(get_redis().zrangebyscore(sale_keys(sale_id).inflight, "-inf", older_than))


def ticket_owner(sale_id: int, ticket_id: str) -> int | None:
    """The shopper a ticket was issued to."""
    owner = get_redis().hget(sale_keys(sale_id).ticket_owner, ticket_id)
    return int(owner) if owner else None


def tickets_by_state(sale_id: int) -> dict[str, int]:
    """How many tickets of the sale are in each state: for the audit."""
    counts = {state.value: 0 for state in TicketState}
    for state in get_redis().hvals(sale_keys(sale_id).tickets):
        counts[state] = counts.get(state, 0) + 1
    return counts
