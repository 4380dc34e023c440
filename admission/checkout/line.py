"""The sale's checkout line: submitted checkouts wait in Redis until a drain job takes them in batches.

A submit records the checkout QUEUED and lists its request; admission/checkout/jobs.py then queues a
drain job for the sale only if none waits to start (the drain mark, set with a TTL, says one does). The
job clears that mark as it starts, so a submit arriving while it runs queues the next one: a burst of
thousands of submits makes a handful of jobs, and with several workers a running job and the next drain
side by side (taking from the line is atomic, so never the same request). A request holds no card: only
the payments service's short-lived token for it (shopper.submit tokenises before anything is listed).
"""

import time

from admission.checkout import records
from admission.checkout.records import Checkout, CheckoutRequest, CheckoutState
from admission.keys import sale_keys
from admission.replies import SubmitOutcome
from admission.scripts import scripts
from yakku.extensions import get_sales_redis

# A job lost before it started (a flushed queue) stops blocking new ones after this; the reconciler's
# sweep also queues a job for any sale whose line waits with no job queued, or whose oldest waiting
# checkout has waited too long (the job was taken by a worker that never started it).
DRAIN_MARK_TTL = 120
# How far into the line the oldest waiting checkout is looked for (past tickets taken already).
LOOK_AHEAD = 100
# What a shopper whose checkout went back to the line reads (a charge may be under way: no promise).
WAITING_AGAIN = "A service we need is not answering; your checkout keeps its place and goes on once it does."


def put(sale_id: int, requests: list[CheckoutRequest], order_ids: dict[str, int] | None = None) -> None:
    """Record the checkouts QUEUED (with the ticket's order, if it has one already) and list their
    requests, in one transaction."""
    keys = sale_keys(sale_id)
    with get_sales_redis().pipeline(transaction=True) as pipe:
        for request in requests:
            queued = records.queued(request, (order_ids or {}).get(request.ticket_id))
            records.record(sale_id, queued, client=pipe)
            pipe.hset(keys.checkout_requests, request.ticket_id, request.encode())
            pipe.rpush(keys.checkout_line, request.ticket_id)
        pipe.execute()


def put_unless_changed(sale_id: int, request: CheckoutRequest, read: str, order_id: int | None) -> bool:
    """Record one checkout QUEUED and list its request, only if its record is still `read` (as stored,
    '' for none): of two submits of one ticket at once exactly one goes in. Whether it went in."""
    queued = records.queued(request, order_id)
    queued.updated_at, queued.version = time.time(), records.version_of(read) + 1
    args = [request.ticket_id, read, records.encode(queued), request.encode()]
    return scripts().submit(sale_id, args) == SubmitOutcome.QUEUED


def put_back(sale_id: int, held: list[tuple[Checkout, CheckoutRequest, bool]]) -> set[str]:
    """Put (checkout, request, undo its reservation) a batch took back at the head of the line, in their
    order, QUEUED again over the version the batch holds (put_back.lua); the tickets refused, whose record
    another writer moved on (they are left as that writer left them)."""
    now, args = time.time(), []
    for checkout, request, undo in held:
        stored = records.next_version(checkout.tell(CheckoutState.QUEUED, WAITING_AGAIN), now)
        args += [request.ticket_id, records.encode(stored), request.encode(), int(undo)]
    return set(scripts().put_back(sale_id, args)) if args else set()


def mark_drain_queued(sale_id: int) -> bool:
    """Set the mark that a drain job waits to start; False if it was set already (one waits)."""
    return bool(get_sales_redis().set(sale_keys(sale_id).drain_queued, "1", nx=True, ex=DRAIN_MARK_TTL))


def clear_drain_mark(sale_id: int) -> None:
    """A drain job of the sale started: the next submit queues the next job."""
    get_sales_redis().delete(sale_keys(sale_id).drain_queued)


def oldest_wait(sale_id: int, now: float) -> float:
    """How long the oldest checkout still waiting in the line has waited (0 when none waits)."""
    keys = sale_keys(sale_id)
    head = get_sales_redis().lrange(keys.checkout_line, 0, LOOK_AHEAD - 1)
    if not head:
        return 0.0
    requests = get_sales_redis().hmget(keys.checkout_requests, head)
    waiting = [ticket_id for ticket_id, request in zip(head, requests, strict=True) if request]
    oldest = records.read(sale_id, waiting[0]) if waiting else None
    return now - oldest.updated_at if oldest else 0.0


def take(sale_id: int, count: int) -> list[CheckoutRequest]:
    """Take up to `count` waiting requests, oldest first (atomically: no two jobs take the same one)."""
    taken = scripts().take(sale_id, [count])
    return [CheckoutRequest.decode(raw) for raw in taken]


def waiting(sale_id: int, ticket_id: str) -> bool:
    """Whether a ticket's checkout waits in the line (no job has taken it yet)."""
    return bool(get_sales_redis().hexists(sale_keys(sale_id).checkout_requests, ticket_id))


def backlog(sale_id: int) -> int:
    """How many checkouts wait in the sale's line."""
    return int(get_sales_redis().hlen(sale_keys(sale_id).checkout_requests))
