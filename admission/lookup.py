"""Small Redis-only look-ups the web pages need around the waiting room: never the SQL database."""

import time
from dataclasses import dataclass

from admission import sale_index
from admission.keys import sale_keys
from admission.states import SaleState, WaiterState
from yakku.extensions import get_sales_redis

SLOT_STATES = (SaleState.ARMED, SaleState.OPEN, SaleState.PAUSED)


@dataclass(frozen=True)
class LiveSale:
    """A sale the admitter looks after, as its Redis settings describe it."""

    id: int
    product_id: int
    state: SaleState
    opens_at: float
    limit: int
    units_left: int
    draw_commitment: str = ""  # SHA-256 of the draw's seed, published once armed (admission/draw.py)


def live_sale(sale_id: int) -> LiveSale | None:
    """The sale's live settings, or None when Redis does not hold it (a draft, or gone)."""
    keys = sale_keys(sale_id)
    pipe = get_sales_redis().pipeline(transaction=False)
    pipe.hmget(keys.settings, "product_id", "state", "opens_at", "limit", "draw_commitment").get(keys.stock)
    (product_id, state, opens_at, limit, commitment), left = pipe.execute()
    if not state or not product_id:
        return None
    return LiveSale(
        sale_id,
        int(product_id),
        SaleState(state),
        float(opens_at or 0),
        int(limit or 1),
        int(left or 0),
        commitment or "",
    )


def live_sale_for_product(product_id: int) -> LiveSale | None:
    """The armed, open or paused sale of a product (the newest, if several)."""
    for sale_id in reversed(sale_index.active_sales()):
        sale = live_sale(sale_id)
        if sale and sale.product_id == product_id and sale.state in SLOT_STATES:
            return sale
    return None


def waiter_state(sale_id: int, shopper_id: int) -> WaiterState | None:
    """Where the shopper stands in the sale, or None if they never joined."""
    value = get_sales_redis().hget(sale_keys(sale_id).waiters, shopper_id)
    return WaiterState(value) if value else None


def shopper_ticket_id(sale_id: int, shopper_id: int) -> str | None:
    """The id of the ticket the shopper was admitted with, if any (it outlives the admission)."""
    return get_sales_redis().hget(sale_keys(sale_id).shopper_ticket, shopper_id)


# Every page in line asks whether the sale has ended this often, so each is told within 2 s of the end
# (the last unit paid, or the close); each process asks Redis at most every END_CHECK_FRESH_S for it.
# The two add up to the news's worst delay: 1.6 s leaves a loaded box 0.4 s to answer and render (at
# 0.25 s a loaded CI box once missed the 2 s), for at most ten reads a second per process and sale.
END_CHECK_EVERY_S = 1.5
END_CHECK_FRESH_S = 0.1
# With the end pushed (the events process), a page still asks this often, in case its stream went quiet.
END_SAFETY_NET_S = 15
# Per sale Redis holds: (when asked, its end). Only those: anyone may ask about any sale number, and a
# cache of every number asked would grow for as long as someone kept asking.
_ends: dict[int, tuple[float, WaiterState | None]] = {}


def sale_end(sale_id: int) -> WaiterState | None:
    """How the sale has ended for whoever is still in line: SOLD_OUT once every unit is paid, CLOSED once
    closed with units unsold; None while it goes on (or while Redis does not hold it)."""
    now = time.monotonic()
    known = _ends.get(sale_id)
    if known and now - known[0] < END_CHECK_FRESH_S:
        return known[1]
    keys = sale_keys(sale_id)
    pipe = get_sales_redis().pipeline(transaction=False)
    pipe.hmget(keys.settings, "state", "units").get(keys.sold)
    (state, units), sold = pipe.execute()
    if not state:
        return None
    ended = None
    if int(sold or 0) >= int(units or 0) > 0:
        ended = WaiterState.SOLD_OUT
    elif state == SaleState.CLOSED:
        ended = WaiterState.CLOSED
    _ends[sale_id] = (now, ended)
    return ended
