"""Every Redis key of the sale area. A sale's keys share the hash tag {sale_id}, so a Redis Cluster keeps
them on one shard and one Lua script may touch them all. The sales Redis (get_sales_redis) holds the
sale keys and the two cross-sale sets; the lease, the sweep mark and the services-away mark are no
sale's and live on the plain Redis (get_redis)."""

from dataclasses import dataclass, fields
from functools import lru_cache

# Cross-sale index of the sales the admitter looks after (armed, open or paused). With SETTLING_SALES the
# only sales-Redis keys without a sale's hash tag: on a cluster each has its own slot, so no script or
# MULTI touches it with another key (written and read by admission/sale_index.py only).
ACTIVE_SALES = "sales:active"
# Closed sales whose leftover units have not gone back to the catalog yet: the reconciler still
# looks after their in-flight reservations, then settles them.
SETTLING_SALES = "sales:settling"
# The admitter's lease: whoever holds it acts; the value is the holder's id.
ADMITTER_LEASE = "admitter:lease"
# Set (with a TTL) when a reconciler sweep was queued, so one is queued per period whoever admits.
RECONCILE_SWEEP = "reconciler:sweep"
# Set (with a TTL) while the services a checkout needs (orders, payments) do not answer: every sale's
# drain takes no checkout from its line until a probe finds them back (admission/checkout/pressure.py).
SERVICES_AWAY = "checkout:services_away"
# hash: up (the front door's clock: wall time less every gap in its beats), at (its last beat). Written by
# the web processes (front_door.py), read by the admitter, never by a sale's script (it has no hash tag).
# No TTL: a clock that vanished during a long outage would read as "never beat", and wall time would
# evict everyone the outage kept from polling.
FRONT_DOOR_CLOCK = "frontdoor:clock"

SETTINGS = "sale:{{{sale_id}}}:settings"  # hash: state, units, rate, cap, window, limit, opens_at, grace,
# the draw's draw_seed (secret until opening), draw_salt, draw_commitment, drawn (entries placed), and the
# sale's clock (clock.lua): downtime (seconds the front door was away), clock_at, clock_up (last tick's)
STOCK = "sale:{{{sale_id}}}:stock"  # units not reserved (R)
HELD = "sale:{{{sale_id}}}:held"  # units held by reservations not yet paid or released (H)
SOLD = "sale:{{{sale_id}}}:sold"  # units paid
PREQUEUE = "sale:{{{sale_id}}}:prequeue"  # set of shoppers who joined before opening
QUEUE = "sale:{{{sale_id}}}:queue"  # zset shopper -> join sequence
SEQUENCE = "sale:{{{sale_id}}}:seq"  # counter giving queue scores
SHUFFLED = "sale:{{{sale_id}}}:shuffled"  # set once when the pre-queue was shuffled into the queue
DRAW = "sale:{{{sale_id}}}:draw"  # list of the drawn entry hashes, in the order the draw placed them
DRAW_PLACES = "sale:{{{sale_id}}}:draw_places"  # hash shopper -> their place in the draw (1-based)
SEEN = "sale:{{{sale_id}}}:seen"  # zset waiting shopper -> deadline to poll again, on the sale's clock
WAITERS = "sale:{{{sale_id}}}:waiters"  # hash shopper -> WaiterState (absent: never joined)
SHOPPER_TICKET = "sale:{{{sale_id}}}:shopper_ticket"  # hash shopper -> ticket id
TICKET_SEQUENCE = "sale:{{{sale_id}}}:ticket_seq"  # counter giving ticket ids
TICKETS = "sale:{{{sale_id}}}:tickets"  # hash ticket id -> TicketState
TICKET_OWNER = "sale:{{{sale_id}}}:ticket_owner"  # hash ticket id -> shopper
TICKET_EXPIRY = "sale:{{{sale_id}}}:ticket_expiry"  # hash ticket id -> checkout deadline (epoch s)
ADMITTED = "sale:{{{sale_id}}}:admitted"  # zset ticket -> deadline, admitted and not reserved yet (A)
INFLIGHT = "sale:{{{sale_id}}}:inflight"  # zset ticket -> reserved-at, reserved and not yet final
RESERVATIONS = "sale:{{{sale_id}}}:reservations"  # hash ticket -> units reserved
BOUGHT = "sale:{{{sale_id}}}:bought"  # hash shopper -> units reserved or paid in this sale
ADMISSIONS = "sale:{{{sale_id}}}:admissions"  # zset ticket -> admitted-at, recent ones, for the rate
ADMISSION_LOG = "sale:{{{sale_id}}}:admission_log"  # list: each admitted shopper's place in line, in order
# hash: left (admitted shoppers who left without buying), bought, turned_away (told sold out)
OUTCOMES = "sale:{{{sale_id}}}:outcomes"
BUCKET = "sale:{{{sale_id}}}:bucket"  # hash tokens, at: the admission token bucket
CHECKOUTS = "sale:{{{sale_id}}}:checkouts"  # hash ticket -> the checkout's outcome, as the shopper is told
CHECKOUT_LINE = "sale:{{{sale_id}}}:checkout_line"  # list of ticket ids whose checkout waits, oldest first
CHECKOUT_REQUESTS = "sale:{{{sale_id}}}:checkout_requests"  # hash ticket -> a waiting checkout's request
DRAIN_QUEUED = "sale:{{{sale_id}}}:drain_queued"  # set (with a TTL) while a drain job waits to start
# zset ticket -> when its declined card's grace lapses: the admitter queues that sale's reconcile then
DECLINE_LAPSES = "sale:{{{sale_id}}}:decline_lapses"
RETURNS = "sale:{{{sale_id}}}:returns"  # hash: the plan for giving leftover units back to the catalog
SERIES = "sale:{{{sale_id}}}:series"  # zset sample json -> epoch s: figures over time (dashboard chart)
SERIES_MARK = "sale:{{{sale_id}}}:series_mark"  # set (with a TTL) when a sample was taken lately


@dataclass(frozen=True)
class SaleKeys:
    """The keys of one sale, named as the templates above are."""

    settings: str
    stock: str
    held: str
    sold: str
    prequeue: str
    queue: str
    sequence: str
    shuffled: str
    draw: str
    draw_places: str
    seen: str
    waiters: str
    shopper_ticket: str
    ticket_sequence: str
    tickets: str
    ticket_owner: str
    ticket_expiry: str
    admitted: str
    inflight: str
    reservations: str
    bought: str
    admissions: str
    admission_log: str
    outcomes: str
    bucket: str
    returns: str
    checkouts: str
    checkout_line: str
    checkout_requests: str
    drain_queued: str
    decline_lapses: str
    series: str
    series_mark: str

    def pick(self, *names: str) -> list[str]:
        """The keys of these names, in order: a script's KEYS."""
        return [getattr(self, name) for name in names]

    def all(self) -> list[str]:
        """Every key of the sale."""
        return [getattr(self, field.name) for field in fields(self)]


@lru_cache(maxsize=1024)  # every poll names its sale's keys: formatting 30 templates was ~4 % of one
def sale_keys(sale_id: int) -> SaleKeys:
    """The keys of sale `sale_id`."""
    templates = globals()
    return SaleKeys(
        **{field.name: templates[field.name.upper()].format(sale_id=sale_id) for field in fields(SaleKeys)}
    )
