"""The waiting room: one place per shopper per sale, and an honest status that says when to ask again.

Only Redis is touched here: these are the hot paths that tens of thousands of shoppers poll.
"""

import math
import time
from dataclasses import dataclass

from flask import current_app

from admission import draw, series
from admission.exceptions import NotInQueue, PlaceLost, SaleNotOpen
from admission.keys import sale_keys
from admission.replies import JoinOutcome
from admission.scripts import in_one_trip, scripts
from admission.states import IN_LINE_STATES, SaleState, WaiterState
from admission.tickets import Ticket, sign_ticket
from api.auth import refuse_if_revoked, revocation_step
from yakku.extensions import get_redis, get_sales_redis

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
    # On standby: their number among the waiters the units left cannot reach, the units not reserved
    # yet, the tickets in play whose units may come back, and the estimated chance that enough do (None
    # while nobody admitted to this sale has finished, so nothing is measured yet).
    standby_number: int | None = None
    units_left: int | None = None
    in_play: int | None = None
    chance: float | None = None

    def to_dict(self) -> dict:
        return dict(self.__dict__)  # flat fields: dataclasses.asdict's deep copy cost a tenth of a poll


def grace_seconds() -> float:
    """The least time a waiter may go unseen before losing their place (3 × the poll hint, if longer)."""
    return float(current_app.config["ADMISSION_GRACE_S"])


def join(sale_id: int, shopper_id: int, now: float | None = None) -> WaiterStatus:
    """Give the shopper a place in the sale's waiting room (or keep the one they have); their status.

    The join and the status go in one round trip: if the sale was not open, the status found nobody.
    """
    now = time.time() if now is None else now
    join_step = scripts().join.step(sale_id, [shopper_id, now + grace_seconds()])
    joined, answer = in_one_trip(get_sales_redis(), [join_step, status_step(sale_id, shopper_id, now)])
    if joined.outcome == JoinOutcome.NOT_OPEN:
        raise SaleNotOpen(fields={"state": joined.detail or "unknown"})
    return _status_from(sale_id, shopper_id, answer)


def status(
    sale_id: int, shopper_id: int, now: float | None = None, check_revocation: bool = False
) -> WaiterStatus:
    """Where the shopper stands, and when to ask again; asking keeps their place (status.lua).

    check_revocation: ask whether the request's token is revoked (the poll's only other Redis call), and
    refuse it if so. With one Redis it rides in the same round trip, and status.lua has then already
    kept the place, which is the shopper's own either way: a revoked token learns nothing and gains
    nobody a place. With the sales apart (the revocations' keys span slots: never on a cluster) it is
    a trip of its own, first.
    """
    now = time.time() if now is None else now
    step = status_step(sale_id, shopper_id, now)
    if not check_revocation:
        [answer] = in_one_trip(get_sales_redis(), [step])
    elif get_sales_redis() is get_redis():  # one Redis holds the revocations and the sale: one trip
        revoked, answer = in_one_trip(get_redis(), [revocation_step(), step])
        refuse_if_revoked(revoked)
    else:  # the revocations' keys are on the plain Redis, the sale's maybe on a cluster: a trip each
        refuse_if_revoked(get_redis().execute_command(*revocation_step()))
        [answer] = in_one_trip(get_sales_redis(), [step])
    return _status_from(sale_id, shopper_id, answer)


def status_step(sale_id: int, shopper_id: int, now: float) -> tuple:
    """One waiter's status.lua as a step of in_one_trip (bench/poll_rate.py sends many in one)."""
    window = float(current_app.config["ADMISSION_RATE_WINDOW_S"])
    args = [shopper_id, now, window, grace_seconds(), OPENING_SPREAD_S]
    return scripts().status.step(sale_id, args)


def _status_from(sale_id: int, shopper_id: int, answer) -> WaiterStatus:
    if not answer.waiter:
        if get_sales_redis().hexists(sale_keys(sale_id).settings, "line_lost_at"):
            raise PlaceLost()  # admission/recovery.py rebuilt the sale without its line
        raise NotInQueue()
    base = {"sale_id": sale_id, "state": WaiterState(answer.waiter), "sale_state": answer.sale_state}
    if answer.waiter == WaiterState.ADMITTED:
        return WaiterStatus(
            **base, **_ticket_fields(sale_id, shopper_id, answer.ticket, answer.ticket_deadline)
        )
    if answer.waiter not in IN_LINE_STATES:
        return WaiterStatus(**base)
    if answer.prequeued:
        return WaiterStatus(**base, poll_after_seconds=answer.poll_hint, opens_in_seconds=answer.opens_in)
    ahead, rate = max(answer.rank, 0), float(answer.rate)
    eta = math.ceil(ahead / rate) if answer.sale_state == SaleState.OPEN else None
    place = {
        "position": ahead + 1,
        "people_ahead": ahead,
        "rate": round(rate, 3),
        "rate_measured": bool(answer.rate_measured),
        "poll_after_seconds": answer.poll_hint,
    }
    if answer.waiter == WaiterState.STANDBY:
        return WaiterStatus(**base, **place, **_standby_fields(answer))
    return WaiterStatus(**base, **place, eta_seconds=eta)


def _standby_fields(answer) -> dict:
    return {
        "standby_number": answer.standby,
        "units_left": answer.units_left,
        "in_play": answer.in_play,
        "chance": standby_chance(answer.standby, answer.in_play, answer.left_unbought, answer.bought),
    }


def standby_chance(number: int, in_play: int, left: int, bought: int) -> float | None:
    """The chance that at least `number` of the `in_play` tickets give their units back, if each does
    with the share of this sale's admitted shoppers who left without buying; None before any finished.

    A unit given back goes to the first on standby, so standby number k moves in once k have come back.
    (One unit per ticket: a shopper buying several only adds to the chance.)"""
    if left + bought == 0:
        return None
    share = left / (left + bought)
    reach = sum(
        math.comb(in_play, k) * share**k * (1 - share) ** (in_play - k) for k in range(number, in_play + 1)
    )
    return round(min(max(reach, 0.0), 1.0), 3)


def measured_rate(
    recent: int, configured: float, opened_at: str, now: float, window: float
) -> tuple[bool, float]:
    """(measured?, rate): admissions in the last `window` seconds (or since opening, if sooner) per
    second; the configured rate when nobody was admitted in that time."""
    if recent <= 0 or not opened_at:
        return False, configured
    span = min(window, max(now - float(opened_at), 1.0))
    return True, recent / span


def _ticket_fields(sale_id: int, shopper_id: int, ticket_id: str, deadline: str) -> dict:
    if not ticket_id or not deadline:
        return {}
    expires = float(deadline)
    token = sign_ticket(Ticket(ticket_id, sale_id, shopper_id, expires))
    return {"ticket": token, "ticket_expires_at": expires}


def open_in_redis(sale_id: int, now: float) -> bool:
    """Open an armed sale in Redis, its pre-queue placed once in the order of its published draw; False if
    it was open already."""
    opened = draw.open_with_draw(sale_id, now)
    if opened:  # the chart runs from the opening: its first point is the opening itself
        series.sample(sale_id, now, force=True)
    return opened
