"""The admitter: opens sales on time, expires unused tickets, evicts silent waiters, tells the unlucky
they are sold out, and admits the next shoppers at each sale's rate. Only the lease holder acts.

Silence is measured on each sale's clock, which stands still while the front door was away
(admission/front_door.py): a platform stop is not held against the waiters it kept from polling.

It touches Redis only: a sale it opens is recorded in the database the next time the sale is read
(sales.get_sale and sales.list_sales bring the row up to date with Redis).
"""

import logging
import os
import secrets
import socket
import threading
import time
from dataclasses import dataclass, field

from flask import current_app

from admission import front_door, sale_index, series
from admission.checkout import jobs
from admission.keys import ADMITTER_LEASE, sale_keys
from admission.scripts import lease_script, scripts
from admission.states import SaleState
from admission.waiting_room import open_in_redis
from yakku import metrics
from yakku.extensions import get_redis, get_sales_redis
from yakku.reconnect import REDIS_AWAY, wait_for_redis

log = logging.getLogger(__name__)

# Expiries and evictions handled per sale per tick: bounds one script's run time; the rest wait a tick.
SWEEP_BATCH = 1000


@dataclass
class SaleTick:
    """What one tick did to one sale."""

    sale_id: int
    opened: bool = False
    expired: list[str] = field(default_factory=list)
    evicted: list[str] = field(default_factory=list)
    sold_out: int = 0
    admitted: list[tuple[str, int, float]] = field(default_factory=list)  # (ticket, shopper, deadline)


def tick(now: float | None = None) -> list[SaleTick]:
    """One round over every live sale; callable from a test with an explicit `now`."""
    now = time.time() if now is None else now
    front_door_clock = front_door.reading(now)  # read once: no sale's script may touch its key
    return [tick_sale(sale_id, now, front_door_clock) for sale_id in sale_index.active_sales()]


def tick_sale(sale_id: int, now: float, front_door_clock: float | None = None) -> SaleTick:
    """One round over one sale, in the order that frees slots before filling them.

    front_door_clock: the front door's clock now (front_door.reading); None means wall time.
    """
    client, loaded = get_sales_redis(), scripts()
    report = SaleTick(sale_id)
    # First, and for an armed sale too: its pre-queue's deadlines run on the same clock.
    clock_args = [now, "" if front_door_clock is None else front_door_clock]
    sale_clock = float(loaded.clock(sale_id, clock_args, client))
    state, opens_at = client.hmget(sale_keys(sale_id).settings, "state", "opens_at")
    if state == SaleState.ARMED and opens_at and float(opens_at) <= now:
        report.opened = open_in_redis(sale_id, now)
        state = SaleState.OPEN
    if state not in (SaleState.OPEN, SaleState.PAUSED):
        return report
    report.expired = loaded.expire(sale_id, [now, SWEEP_BATCH], client)
    jobs.queue_lapsed_declines(sale_id, now)
    report.evicted = loaded.evict(sale_id, [sale_clock, SWEEP_BATCH], client)
    window = current_app.config["ADMISSION_RATE_WINDOW_S"]
    admitted = loaded.admit(sale_id, [now, sale_id, window], client)
    report.admitted = [(a.ticket, int(a.shopper), float(a.deadline)) for a in admitted]
    if admitted:
        metrics.ADMISSIONS.labels(str(sale_id)).inc(len(admitted))
    # Last, so the sweep counts the shoppers just admitted among those owed a unit.
    report.sold_out = loaded.sold_out(sale_id, [], client).told
    series.sample(sale_id, now, client)  # at most once per interval: the dashboard's chart
    return report


class Lease:
    """A lease in Redis: SET NX PX to take it, compare-and-renew Lua to keep it, so one admitter acts.

    It is no sale's key: it lives on the plain Redis (get_redis), with its script (lease_script)."""

    def __init__(self, holder: str | None = None, ttl_ms: int = 3000, key: str = ADMITTER_LEASE):
        self.holder = holder or f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"
        self.ttl_ms = ttl_ms
        self.key = key

    def hold(self) -> bool:
        """Take the lease if it is free, or renew it if it is ours; True while we hold it."""
        client = get_redis()
        if lease_script()([self.key], [self.holder, self.ttl_ms], client):
            return True
        return bool(client.set(self.key, self.holder, nx=True, px=self.ttl_ms))

    def give_up(self) -> None:
        """Release the lease if we hold it, so another admitter takes over at once."""
        lease_script()([self.key], [self.holder, 0], get_redis())


def step(lease: Lease, now: float | None = None) -> list[SaleTick] | None:
    """One tick if we hold the lease; None when another admitter holds it."""
    if not lease.hold():
        return None
    ticks = tick(now)
    jobs.schedule_sweep()
    return ticks


def run(
    interval: float | None = None,
    stop: threading.Event | None = None,
    lease: Lease | None = None,
    duration: float | None = None,
) -> int:
    """Tick every `interval` seconds while holding the lease, until `stop` is set or `duration` passes.

    The Procfile's `admitter` process runs this forever inside an app context. Returns the ticks acted.
    """
    interval = float(interval or current_app.config["ADMITTER_INTERVAL_S"])
    lease = lease or Lease(ttl_ms=max(1000, int(interval * 1000 * 10)))
    stop = stop or threading.Event()
    until = None if duration is None else time.monotonic() + duration
    acted = 0
    try:
        while not stop.is_set() and (until is None or time.monotonic() < until):
            try:
                if stop.is_set():
                    break  # asked to stop since the loop's check: take no lease on the way out
                if step(lease) is not None:
                    acted += 1
            except REDIS_AWAY as away:
                # Redis restarting: wait for it, then the next tick takes the lease again (if a fresh
                # Redis lost it) and reloads the scripts a restarted Redis has forgotten.
                log.error("admitter tick failed: Redis unreachable (%s)", away)
                for client in {id(c): c for c in (get_redis(), get_sales_redis())}.values():
                    wait_for_redis(client, "admitter", stop)
            except Exception:  # a failed tick must not end the admitter: retry next tick
                log.exception("admitter tick failed")
            stop.wait(interval)
    finally:
        _give_up(lease)
    return acted


def _give_up(lease: Lease) -> None:
    try:
        lease.give_up()
    except REDIS_AWAY:
        log.warning("admitter stopped while Redis is away: its lease expires by itself")
