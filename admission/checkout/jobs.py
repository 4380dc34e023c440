"""The checkout saga's RQ jobs, and every call that enqueues one.

Three jobs, each a module-level function enqueued by reference and idempotent:
- drain_sale(sale_id): takes the sale's checkout line in batches (drain.py) until none wait, keeping
  one more job queued while more wait, so an idle worker drains beside it; while orders or payments
  is away it takes nothing, and goes on when they answer (pressure.py);
- sweep(): the reconciler's round (reconcile.py) over every sale, queued by the admitter every
  RECONCILE_EVERY_S; it also queues a drain for a line whose job was lost;
- reconcile_one(sale_id, now): the same for one sale, queued by the admitter as soon as a declined
  card's grace lapses, so its units go back to the line then rather than at the next sweep.
Nothing below this module enqueues, so the saga's modules import one way: jobs -> drain, reconcile ->
steps -> line, records.
"""

import time
from collections import Counter

from flask import current_app

from admission import recovery, sale_index, sales
from admission.checkout import line, pressure, reconcile
from admission.checkout.drain import drain_batch
from admission.checkout.records import CheckoutRequest
from admission.checkout.steps import crash_point
from admission.keys import RECONCILE_SWEEP, sale_keys
from api.accounts.ended_sessions import purge_ended_families
from api.orders.expiry import expire_unpaid_orders
from yakku import metrics
from yakku.extensions import get_redis, get_sales_redis
from yakku.queues import QueueName, get_queue

# Batches per job: a job then queues the next and ends, so one sale never holds a worker for ever.
MAX_BATCHES = 50
# The periodic sweep's job id: one sweep queued at a time, and the worker keeps its routine runs quiet.
SWEEP_JOB_ID = "reconcile-sweep"


def queue_checkouts(
    sale_id: int, requests: list[CheckoutRequest], order_ids: dict[str, int] | None = None
) -> None:
    """Put checkouts in the sale's line, and make sure a drain job will take them."""
    line.put(sale_id, requests, order_ids)
    kick_drain(sale_id)


def queue_checkout_unless_changed(
    sale_id: int, request: CheckoutRequest, read: str, order_id: int | None = None
) -> bool:
    """Put one shopper's checkout in the line if its record is still the one read (line.put_unless_changed),
    and make sure a drain job will take it; whether it went in."""
    if not line.put_unless_changed(sale_id, request, read, order_id):
        return False
    kick_drain(sale_id)
    return True


def kick_drain(sale_id: int) -> bool:
    """Queue a drain job for the sale unless one already waits to start; True if one was queued."""
    if not line.mark_drain_queued(sale_id):
        return False
    get_queue(QueueName.CHECKOUT).enqueue(
        drain_sale, sale_id, description=f"drain sale {sale_id}", result_ttl=300, failure_ttl=86400
    )
    return True


def drain_sale(sale_id: int) -> dict:
    """The drain job: decide the sale's waiting checkouts, batch after batch, until none wait; the
    outcomes counted."""
    crash_point("job_start")
    line.clear_drain_mark(sale_id)
    size = current_app.config["CHECKOUT_BATCH"]
    done: Counter = Counter()
    held_off = False
    try:
        for _ in range(MAX_BATCHES):
            if pressure.away() and not pressure.wait_until_back():
                held_off = True  # still away: the line waits, untouched, for the job the sweep queues
                done["held_off"] += 1
                break
            requests = line.take(sale_id, size)
            if not requests:
                break
            _call_help(sale_id)
            done.update(_timed_batch(sale_id, requests))
    finally:
        if not held_off:
            _call_help(sale_id)  # more arrived, or the bound was met: the next job takes them
    return dict(done)


def _timed_batch(sale_id: int, requests: list[CheckoutRequest]) -> Counter:
    started = time.perf_counter()
    reached = drain_batch(sale_id, requests)
    metrics.DRAIN_BATCH_SECONDS.observe(time.perf_counter() - started)
    metrics.DRAIN_BATCHES.labels(str(sale_id)).inc()
    for state, count in reached.items():
        metrics.DRAIN_CHECKOUTS.labels(state).inc(count)
    return reached


def _call_help(sale_id: int) -> None:
    # While more wait, keep one job queued: an idle worker starts it and drains beside this one.
    if line.backlog(sale_id):
        kick_drain(sale_id)


def schedule_sweep() -> bool:
    """Every RECONCILE_EVERY_S, queue one reconciler sweep for the workers (they reach the services)."""
    every = current_app.config["RECONCILE_EVERY_S"]
    if not get_redis().set(RECONCILE_SWEEP, "1", nx=True, ex=every):
        return False
    get_queue(QueueName.MAINTENANCE).enqueue(sweep, job_id=SWEEP_JOB_ID, result_ttl=every, failure_ttl=3600)
    return True


def queue_lapsed_declines(sale_id: int, now: float) -> bool:
    """Queue the sale's reconcile if a declined card's grace has lapsed by `now`; True if one was queued.
    Each lapse is taken once (a lost one waits for the next sweep, which finds it as well)."""
    lapses = sale_keys(sale_id).decline_lapses
    pipe = get_sales_redis().pipeline(transaction=False)  # one key: one node on a cluster
    pipe.zrangebyscore(lapses, "-inf", now).zremrangebyscore(lapses, "-inf", now)
    lapsed, _ = pipe.execute()
    if not lapsed:
        return False
    get_queue(QueueName.MAINTENANCE).enqueue(
        reconcile_one, sale_id, now, description=f"reconcile sale {sale_id}: a decline lapsed",
        result_ttl=300, failure_ttl=86400,
    )  # fmt: skip
    return True


def sweep() -> dict:
    """The periodic job the admitter queues: put back what Redis lost of any sale from the database,
    reconcile every sale, settle the closed ones, expire the shop's unpaid orders (they hold units
    too), and forget ended sign-ins whose tokens have all expired (this is the platform's one periodic
    job)."""
    recovered = recovery.check_sales()
    indexed = sale_index.repair()  # after the rebuild, which indexes the sales it put back
    done = reconcile_all(lease=current_app.config["RECONCILE_LEASE_S"])
    for found in recovered:
        done[f"recovered_{found.kind}"] += 1
    done.update({f"indexed_{name}": count for name, count in indexed.items() if count})
    for settled in sales.settle_closed_sales().values():
        done["settled" if settled["settled"] else "not_settled_yet"] += 1
    expired = expire_unpaid_orders()
    if expired:
        done["unpaid_orders_expired"] += expired
    forgotten = purge_ended_families()
    if forgotten:
        done["ended_sign_ins_forgotten"] += forgotten
    return dict(done)


def reconcile_all(now: float | None = None, lease: float = reconcile.LEASE_SECONDS) -> Counter:
    """Reconcile every sale the admitter looks after; what was done, counted."""
    done: Counter = Counter()
    for sale_id in sale_index.sales_to_reconcile():
        done.update(reconcile_one(sale_id, now, lease))
    return done


def reconcile_one(sale_id: int, now: float | None = None, lease: float = reconcile.LEASE_SECONDS) -> Counter:
    """Reconcile one sale, first queueing a drain for checkouts that wait with no job queued (it was
    lost) or that waited past DRAIN_STALL_S (the job queued was not started); what was done, counted."""
    done: Counter = Counter()
    if line.backlog(sale_id):
        if kick_drain(sale_id):
            done["drain_queued"] += 1
        elif line.oldest_wait(sale_id, now or time.time()) > current_app.config["DRAIN_STALL_S"]:
            # The mark says a job waits, but nobody started it: a worker took it and hung (or it was lost).
            # Its work is taken back: a new job, which any worker may start, drains the line.
            line.clear_drain_mark(sale_id)
            kick_drain(sale_id)
            done["drain_requeued"] += 1
    done.update(reconcile.reconcile_sale(sale_id, now, lease))
    return done
