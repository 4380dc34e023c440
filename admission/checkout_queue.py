"""The sale's checkout line: submitted checkouts wait in Redis until a drain job takes them in batches.

A submit records the checkout QUEUED, lists its request and queues a drain job for the sale only if
none waits to start (DRAIN_QUEUED, set with a TTL, says one does). The job clears that mark as it
starts, so a submit arriving while it runs queues the next one: a burst of thousands of submits makes a
handful of jobs, and with several workers a running job and the next drain side by side (taking from
the line is atomic, so never the same request). A request holds the card only until a job takes it.
"""

import json
from dataclasses import asdict, dataclass

from admission import checkout
from admission.checkout import Checkout
from admission.keys import sale_keys
from admission.scripts import scripts
from workers import QueueName, get_queue
from yakku.extensions import get_redis

# A job lost before it started (a flushed queue) stops blocking new ones after this; the reconciler's
# sweep also queues a job for any sale whose line waits with no job queued.
DRAIN_QUEUED_TTL = 120


@dataclass(frozen=True)
class CheckoutRequest:
    """What a drain job needs to take one checkout as far as it goes."""

    ticket_id: str
    shopper_id: int
    quantity: int
    attempt: int
    card: dict


def put(sale_id: int, requests: list[CheckoutRequest], order_ids: dict[str, int] | None = None) -> None:
    """Record the checkouts QUEUED (with the ticket's order, if it has one already), list their
    requests, and make sure a drain job will take them."""
    keys = sale_keys(sale_id)
    with get_redis().pipeline(transaction=True) as pipe:
        for request in requests:
            order_id = (order_ids or {}).get(request.ticket_id)
            record = Checkout(
                request.ticket_id, checkout.CheckoutState.QUEUED, request.attempt, request.quantity, order_id
            )
            checkout.record(sale_id, record, client=pipe)
            pipe.hset(keys.checkout_requests, request.ticket_id, json.dumps(asdict(request)))
            pipe.rpush(keys.checkout_line, request.ticket_id)
        pipe.execute()
    kick(sale_id)


def kick(sale_id: int) -> bool:
    """Queue a drain job for the sale unless one already waits to start; True if one was queued."""
    if not get_redis().set(sale_keys(sale_id).drain_queued, "1", nx=True, ex=DRAIN_QUEUED_TTL):
        return False
    from workers.drain import drain_sale  # the job module imports this one

    get_queue(QueueName.CHECKOUT).enqueue(
        drain_sale, sale_id, description=f"drain sale {sale_id}", result_ttl=300, failure_ttl=86400
    )
    return True


def started(sale_id: int) -> None:
    """A drain job of the sale started: the next submit queues the next job."""
    get_redis().delete(sale_keys(sale_id).drain_queued)


def take(sale_id: int, count: int) -> list[CheckoutRequest]:
    """Take up to `count` waiting requests, oldest first (atomically: no two jobs take the same one)."""
    keys = sale_keys(sale_id)
    taken = scripts().take([keys.checkout_line, keys.checkout_requests], [count], get_redis())
    return [CheckoutRequest(**json.loads(raw)) for raw in taken]


def waiting(sale_id: int, ticket_id: str) -> bool:
    """Whether a ticket's checkout waits in the line (no job has taken it yet)."""
    return bool(get_redis().hexists(sale_keys(sale_id).checkout_requests, ticket_id))


def backlog(sale_id: int) -> int:
    """How many checkouts wait in the sale's line."""
    return int(get_redis().hlen(sale_keys(sale_id).checkout_requests))
