"""What the waiting-room fragment shows: one panel per moment of a shopper's sale, read from Redis only."""

import json
import math
import time
from dataclasses import dataclass, field
from enum import StrEnum

from flask import session

from admission import draw, lookup, tickets, waiting_room
from admission.checkout import records
from admission.checkout.records import IN_PROGRESS_STATES, Checkout, CheckoutState
from admission.draw import ShopperEntry
from admission.exceptions import NotInQueue, PlaceLost
from admission.states import IN_LINE_STATES, SaleState, WaiterState
from admission.waiting_room import WaiterStatus
from api.client import catalog
from yakku.extensions import get_redis

# How often the processing fragment asks again: a worker usually answers within a second or two.
PROCESSING_POLL_S = 1
# Longest a pre-queue waiter goes without asking: an operator may open the sale by hand before its time,
# and the page's "opens in" must give way to the shopper's place soon after (10,000 early joiners cost
# 1,000 polls a second at this, under the open line's own budget in docs/performance.md).
PREQUEUE_POLL_S = 10
PRODUCT_CACHE_KEY = "storefront:sale_product:{product_id}"
PRODUCT_CACHE_S = 60


class PanelKind(StrEnum):
    """The moments of a shopper's sale, one panel each. A checkout's own state names its panel where
    the two meet (declined, fewer_left, interrupted, paid, sold_out, expired, failed)."""

    WAITING = "waiting"
    STANDBY = "standby"
    CHECKOUT = "checkout"
    DECLINED = CheckoutState.DECLINED.value
    FEWER_LEFT = CheckoutState.FEWER_LEFT.value
    INTERRUPTED = CheckoutState.INTERRUPTED.value
    PROCESSING = "processing"
    PAID = CheckoutState.PAID.value
    SOLD_OUT = CheckoutState.SOLD_OUT.value
    EXPIRED = CheckoutState.EXPIRED.value
    FAILED = CheckoutState.FAILED.value
    CLOSED = "closed"
    NOT_JOINED = "not_joined"


# The panels of a shopper still in line.
IN_LINE_KINDS = frozenset({PanelKind.WAITING, PanelKind.STANDBY})
# The panels after which nothing more happens: they render without the polling trigger.
FINAL_KINDS = frozenset(
    {
        PanelKind.PAID,
        PanelKind.SOLD_OUT,
        PanelKind.EXPIRED,
        PanelKind.FAILED,
        PanelKind.CLOSED,
        PanelKind.NOT_JOINED,
    }
)
# The panels that show the checkout form: the first time, after a decline, after fewer were left, after an
# interrupted checkout.
FORM_KINDS = frozenset({PanelKind.CHECKOUT, PanelKind.DECLINED, PanelKind.FEWER_LEFT, PanelKind.INTERRUPTED})
# Where the waiter's state, once out of line, shows the same panel.
WAITER_KINDS = {
    WaiterState.SOLD_OUT: PanelKind.SOLD_OUT,
    WaiterState.EXPIRED: PanelKind.EXPIRED,
    WaiterState.CLOSED: PanelKind.CLOSED,
}


@dataclass
class Panel:
    """One state of the waiting-room fragment, and when (if ever) it should ask again."""

    kind: PanelKind
    sale_id: int
    status: WaiterStatus | None = None
    checkout: Checkout | None = None
    progress: dict = field(default_factory=dict)
    poll_after: int | None = None
    draw: ShopperEntry | None = None  # the shopper's own line of the pre-queue's draw, if in it
    place_lost: bool = False  # NOT_JOINED because a fault lost the waiting line (admission/recovery.py)

    @property
    def final(self) -> bool:
        return self.kind in FINAL_KINDS


def panel(sale_id: int, shopper_id: int) -> Panel:
    """The shopper's panel now; asking keeps their place in line, as the status call does."""
    try:
        status = waiting_room.status(sale_id, shopper_id)
    except NotInQueue as error:
        return Panel(PanelKind.NOT_JOINED, sale_id, place_lost=isinstance(error, PlaceLost))
    if status.state in IN_LINE_STATES:
        return Panel(
            PanelKind(status.state.value),
            sale_id,
            status,
            progress=progress(sale_id, status),
            poll_after=_waiting_poll(status),
            draw=own_draw(sale_id, shopper_id, status),
        )
    if status.state == WaiterState.ADMITTED and status.ticket:
        return _with_checkout(sale_id, status, records.read(sale_id, tickets.read_ticket(status.ticket).id))
    if status.state == WaiterState.DONE:
        ticket_id = lookup.shopper_ticket_id(sale_id, shopper_id)
        outcome = records.read(sale_id, ticket_id) if ticket_id else None
        kind = PanelKind.PAID if outcome and outcome.state == CheckoutState.PAID else PanelKind.FAILED
        return Panel(kind, sale_id, status, outcome)
    return Panel(WAITER_KINDS.get(status.state, PanelKind.CLOSED), sale_id, status)


def own_draw(sale_id: int, shopper_id: int, status: WaiterStatus) -> ShopperEntry | None:
    """The shopper's entry in the draw and, once drawn, their place; None if they joined after it.

    Kept in their session once known (it never changes after the draw), so a poll reads Redis for it at
    most twice: when the shopper first waits, and when they first have a place.
    """
    known = session.get("sale_draws", {})
    cached = known.get(str(sale_id))
    if cached and (cached["drawn"] or status.position is None):
        found = ShopperEntry(**cached)
    else:
        found = draw.shopper_entry(sale_id, shopper_id)
        if found is None:
            return None
        session["sale_draws"] = {**known, str(sale_id): found.__dict__}
    return None if found.drawn and found.place is None else found


def _waiting_poll(status: WaiterStatus) -> int | None:
    # Before the draw the server's hint follows the scheduled opening; an early opening by hand is not
    # scheduled, so the pre-queue asks at least every PREQUEUE_POLL_S.
    hint = status.poll_after_seconds
    return min(hint, PREQUEUE_POLL_S) if hint and status.position is None else hint


def _with_checkout(sale_id: int, status: WaiterStatus, outcome: Checkout | None) -> Panel:
    if outcome is not None and outcome.state in IN_PROGRESS_STATES:
        return Panel(PanelKind.PROCESSING, sale_id, status, outcome, poll_after=PROCESSING_POLL_S)
    kind = PanelKind.CHECKOUT if outcome is None else PanelKind(outcome.state.value)
    if kind not in FORM_KINDS:
        return Panel(kind, sale_id, status, outcome)  # paid, sold out, expired, failed: the checkout's end
    left = (status.ticket_expires_at or 0) - time.time()
    if left <= 0:
        # The ticket has ended, whether or not the admitter has swept it yet: no form, no Pay button.
        return Panel(PanelKind.EXPIRED, sale_id, status, outcome)
    # The form asks again once, at the ticket's end, so a panel left open ends itself (a meta refresh
    # without JavaScript, on the same hint).
    return Panel(kind, sale_id, status, outcome, poll_after=math.ceil(left))


def units_left(current: Panel) -> int | None:
    """The units left when the shopper was told fewer were left than they asked for; None otherwise.

    0 means the last units are held by shoppers paying: how many may come back is unknown.
    """
    return current.checkout.units_left if current.kind == PanelKind.FEWER_LEFT and current.checkout else None


def progress(sale_id: int, status: WaiterStatus) -> dict:
    """How far the shopper has come since they first saw their place: {percent, start, ahead}.

    The start is the most people ever seen ahead of them, kept in their session, so a refresh or a
    second tab shows the same bar.
    """
    if status.people_ahead is None:
        return {}
    starts = session.get("sale_starts", {})
    start = max(int(starts.get(str(sale_id), 0)), status.people_ahead)
    if starts.get(str(sale_id)) != start:
        session["sale_starts"] = {**starts, str(sale_id): start}
    done = start - status.people_ahead
    percent = 100 if start == 0 else math.floor(100 * done / start)
    return {"percent": max(percent, 2), "start": start, "ahead": status.people_ahead}


def eta_text(status: WaiterStatus) -> str:
    """An honest estimate: 'about 2 min, at the measured 35/s' (or at the configured rate)."""
    if status.sale_state == SaleState.PAUSED:
        return "Admission is paused for a moment; you keep your place."
    if status.eta_seconds is None:
        return "We will estimate your wait once the sale opens."
    if status.people_ahead == 0:
        return "You are next: your turn comes as soon as a checkout place frees up."
    basis = "at the measured" if status.rate_measured else "at the configured rate of"
    return f"{duration(status.eta_seconds)}, {basis} {rate_text(status.rate)} shoppers a second"


def chance_text(status: WaiterStatus) -> str:
    """An honest chance for a shopper on standby, from what this sale has measured so far."""
    if status.chance is None:
        return "Not measured yet: nobody admitted to this sale has finished checking out."
    if status.chance >= 0.995:
        return "Very likely, going by how many admitted shoppers have left without buying so far."
    if status.chance < 0.005:
        return "Very unlikely, going by how many admitted shoppers have left without buying so far."
    return f"About {status.chance:.0%}, going by how many admitted shoppers have left without buying so far."


def duration(seconds: int | float | None) -> str:
    """'less than a minute', 'about 2 min', 'about 1 h 5 min'."""
    seconds = int(seconds or 0)
    if seconds < 60:
        return "less than a minute" if seconds > 10 else "a few seconds"
    minutes = math.ceil(seconds / 60)
    if minutes < 60:
        return f"about {minutes} min"
    return f"about {minutes // 60} h {minutes % 60} min"


def rate_text(rate: float | None) -> str:
    """35 for 35.0, 2.5 for 2.5, 0.33 for 1/3."""
    rate = rate or 0
    if rate >= 10:
        return f"{rate:,.0f}"
    return f"{rate:.2f}".rstrip("0").rstrip(".")


def seconds_left(deadline: float | None) -> int:
    """Whole seconds until an epoch deadline, never negative."""
    return max(0, math.floor((deadline or 0) - time.time()))


def sale_product(product_id: int) -> dict:
    """The product on sale (name, price, image), cached briefly: the fragment must not load the catalog."""
    client = get_redis()
    key = PRODUCT_CACHE_KEY.format(product_id=product_id)
    cached = client.get(key)
    if cached:
        return json.loads(cached)
    product = catalog().product(product_id)
    keep = {name: product.get(name) for name in ("id", "name", "price", "currency", "image_url")}
    client.set(key, json.dumps(keep), ex=PRODUCT_CACHE_S)
    return keep


def clock(seconds: int | None) -> str:
    """'4:05' or '1:02:03': what the countdown shows before its script takes over."""
    seconds = max(0, int(seconds or 0))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"
