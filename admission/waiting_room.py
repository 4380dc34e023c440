"""The waiting room: one place per shopper per sale, and an honest status that says when to ask again.

Only Redis is touched here: these are the hot paths that tens of thousands of shoppers poll.
"""

import math
import time
from dataclasses import asdict, dataclass

from flask import current_app

from admission.exceptions import NotInQueue, SaleNotOpen
from admission.keys import sale_keys
from admission.scripts import scripts
from admission.states import SaleState, WaiterState
from admission.tickets import Ticket, sign_ticket
from yakku.extensions import get_redis

JOIN_KEYS = ("settings", "stock", "held", "admitted", "prequeue", "queue", "sequence", "seen", "waiters")
STATUS_KEYS = ("settings", "waiters", "queue", "prequeue", "shopper_ticket", "ticket_expiry", "admissions")
# Pre-queue shoppers learn their shuffled place just after opening; spreading their first poll over
# this many seconds keeps 10,000 of them from all asking in the same second.
OPENING_SPREAD_S = 10


@dataclass(frozen=True)
class WaiterStatus:
    """What a shopper is told about their place."""

    sale_id: int
    state: WaiterState
    sale_state: str
    position: int | None = None  # 1-based; None in the pre-queue (not shuffled yet) or once out of line
    people_ahead: int | None = None
    eta_seconds: int | None = None
    rate: float | None = None  # admissions per second the ETA is based on
    rate_measured: bool = False  # False: nobody admitted lately, so the configured rate stands in
    poll_after_seconds: int | None = None  # None when the state is final: stop polling
    opens_in_seconds: int | None = None
    ticket: str | None = None
    ticket_expires_at: float | None = None

    def to_dict(self) -> dict:
        return asdict(self)


def grace_seconds(poll_after: float) -> float:
    """How long a waiter may go unseen before losing their place: max(3 × poll hint, ADMISSION_GRACE_S)."""
    return max(3 * poll_after, float(current_app.config["ADMISSION_GRACE_S"]))


def poll_after(eta_seconds: float) -> int:
    """Seconds until a waiter should ask again: clamp(eta / 5, 1, 30).

    The bound this puts on the request rate, for N waiters admitted at r per second (the waiter with k
    people ahead has eta k / r): those with k < 5r poll every second, 5r requests/s; those with
    5r <= k < 150r poll every k / 5r seconds, sum of 5r / k over that range ~ 5r ln 30 ~ 17r requests/s;
    the rest poll every 30 s, at most N / 30 requests/s. In all at most ~22r + N / 30. For N = 10,000
    waiters and r = 50/s: 1,100 + 333 ~ 1,433 requests/s, whatever N is the front costs only ~22r.
    """
    return int(min(30, max(1, math.ceil(eta_seconds / 5))))


def join(sale_id: int, shopper_id: int, now: float | None = None) -> WaiterStatus:
    """Give the shopper a place in the sale's waiting room (or keep the one they have); their status."""
    now = time.time() if now is None else now
    deadline = now + grace_seconds(poll_after(OPENING_SPREAD_S))
    outcome, detail = scripts().join(sale_keys(sale_id).pick(*JOIN_KEYS), [shopper_id, deadline], get_redis())
    if outcome == "not_open":
        raise SaleNotOpen(fields={"state": detail or "unknown"})
    return status(sale_id, shopper_id, now)


def status(sale_id: int, shopper_id: int, now: float | None = None) -> WaiterStatus:
    """Where the shopper stands, and when to ask again; asking keeps their place (it records them seen)."""
    now = time.time() if now is None else now
    window = float(current_app.config["ADMISSION_RATE_WINDOW_S"])
    client = get_redis()
    keys = sale_keys(sale_id)
    answer = scripts().status(keys.pick(*STATUS_KEYS), [shopper_id, now, window], client)
    sale_state, waiter, rank, pre, ticket_id, ticket_deadline, recent, rate, opened_at, opens_at = answer
    if not waiter:
        raise NotInQueue()
    base = {"sale_id": sale_id, "state": WaiterState(waiter), "sale_state": sale_state}
    if waiter == WaiterState.ADMITTED:
        return WaiterStatus(**base, **_ticket_fields(sale_id, shopper_id, ticket_id, ticket_deadline))
    if waiter != WaiterState.WAITING:
        return WaiterStatus(**base)
    if int(pre):
        opens_in = max(0.0, float(opens_at or now) - now)
        # Before the shuffle nobody has a place; come back right after opening, spread by shopper.
        hint = int(min(30, max(1, math.ceil(opens_in)))) + (
            shopper_id % OPENING_SPREAD_S if opens_in <= 30 else 0
        )
        _seen(client, keys.seen, shopper_id, now, hint)
        return WaiterStatus(**base, poll_after_seconds=hint, opens_in_seconds=math.ceil(opens_in))
    measured, used_rate = measured_rate(int(recent), float(rate), opened_at, now, window)
    ahead = int(rank)
    eta = ahead / used_rate if sale_state == SaleState.OPEN else None
    # While paused, poll as if open: the front learns of a resume within a second or two, and the
    # request bound stays the one worked out in poll_after.
    hint = poll_after(ahead / used_rate)
    _seen(client, keys.seen, shopper_id, now, hint)
    return WaiterStatus(
        **base,
        position=ahead + 1,
        people_ahead=ahead,
        eta_seconds=None if eta is None else math.ceil(eta),
        rate=round(used_rate, 3),
        rate_measured=measured,
        poll_after_seconds=hint,
    )


def measured_rate(
    recent: int, configured: float, opened_at: str, now: float, window: float
) -> tuple[bool, float]:
    """(measured?, rate): admissions in the last `window` seconds (or since opening, if sooner) per
    second; the configured rate when nobody was admitted in that time."""
    if recent <= 0 or not opened_at:
        return False, configured
    span = min(window, max(now - float(opened_at), 1.0))
    return True, recent / span


def _seen(client, seen_key: str, shopper_id: int, now: float, hint: int) -> None:
    # XX: only a shopper still waiting has an entry; GT: a later deadline is never shortened.
    client.zadd(seen_key, {str(shopper_id): now + grace_seconds(hint)}, xx=True, gt=True)


def _ticket_fields(sale_id: int, shopper_id: int, ticket_id: str, deadline: str) -> dict:
    if not ticket_id or not deadline:
        return {}
    expires = float(deadline)
    token = sign_ticket(Ticket(ticket_id, sale_id, shopper_id, expires))
    return {"ticket": token, "ticket_expires_at": expires}
