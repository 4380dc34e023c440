"""Back-pressure: while the services a checkout needs do not answer, the drain takes nothing more from the
lines, gives back at once what its batch holds, and goes on when a probe finds them back.

When the orders service (or payments behind it) does not answer a batch (a timeout, a refused
connection, a 503 from a database that is away, an open breaker) or payments pauses its charges (the
provider's breaker is open), the batch's undecided checkouts go back to the head of their line, QUEUED:
a reservation the batch made and could not order is undone (the units go back on the counter), one whose
charge may be under way is kept; each ticket gets back the time its shopper had left at submit. The
batch then marks the services away (SERVICES_AWAY, for every sale's drain), and a drain that finds the
mark set probes orders and payments every DRAIN_PROBE_EVERY_S for up to DRAIN_HOLD_OFF_S, taking no
checkout meanwhile: it goes on once both answer, or ends and leaves the line to the next job the sweep
queues.

A checkout handed back to its shopper ("submit again") gets a useful time with it: its ticket is moved
on to the time the shopper had left at submit, and to at least HAND_BACK_MIN_S.
"""

import logging
import time

from flask import current_app

from admission.checkout import line
from admission.checkout.records import Checkout, CheckoutRequest
from admission.keys import SERVICES_AWAY
from admission.scripts import scripts
from api.client import orders, payments
from api.client.errors import ServiceError, ServiceUnavailable
from yakku.extensions import get_redis

log = logging.getLogger(__name__)
# The away mark outlives the gap between drain jobs (the sweep queues one every RECONCILE_EVERY_S);
# a probe that finds the services back clears it at once.
AWAY_MARK_TTL = 60


def give_back(sale_id: int, held: list[tuple[Checkout, CheckoutRequest, bool]], why: str) -> set[str]:
    """Put checkouts a batch holds back in the line with their time (line.put_back), and mark the
    services away; the tickets refused (another writer moved them on)."""
    if not held:
        return set()
    now = time.time()
    extend(sale_id, [(request.ticket_id, now + request.left_at_submit) for _c, request, _undo in held])
    refused = line.put_back(sale_id, held)
    mark_away(why)
    log.warning("sale %s: %d checkouts back in the line: %s", sale_id, len(held) - len(refused), why)
    return refused


def give_time_back(sale_id: int, checkout: Checkout, now: float) -> None:
    """Before a checkout is handed back to its shopper: the time left at submit, and at least
    HAND_BACK_MIN_S, on its ticket."""
    floor = float(current_app.config["HAND_BACK_MIN_S"])
    extend(sale_id, [(checkout.ticket_id, now + max(checkout.left_at_submit, floor))])


def extend(sale_id: int, deadlines: list[tuple[str, float]]) -> None:
    """Move these tickets' deadlines on to the ones given (never back; ended tickets stay ended)."""
    args = [value for ticket_id, deadline in deadlines for value in (ticket_id, repr(deadline))]
    if args:
        scripts().extend(sale_id, args)


def mark_away(why: str) -> None:
    """Tell every drain that orders or payments does not answer: take nothing until a probe says so."""
    get_redis().set(SERVICES_AWAY, why, ex=AWAY_MARK_TTL)


def away() -> bool:
    """Whether a drain found orders or payments away, and no probe has found them back since."""
    return bool(get_redis().exists(SERVICES_AWAY))


def wait_until_back() -> bool:
    """Probe orders and payments every DRAIN_PROBE_EVERY_S for up to DRAIN_HOLD_OFF_S; whether they
    answer (the away mark is cleared then)."""
    every, hold_off = current_app.config["DRAIN_PROBE_EVERY_S"], current_app.config["DRAIN_HOLD_OFF_S"]
    give_up_at = time.monotonic() + hold_off
    while True:
        if services_answer():
            get_redis().delete(SERVICES_AWAY)
            return True
        if time.monotonic() + every > give_up_at:
            return False
        time.sleep(every)


def services_answer() -> bool:
    """Whether orders reaches its database and payments can charge (its database up, its provider's
    breaker closed): one try each."""
    try:
        orders().health()
        payments().ready()
    except (ServiceUnavailable, ServiceError) as error:
        log.info("the checkout's services are still away: %r", error)
        return False
    return True
