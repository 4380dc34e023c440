"""What the checkout drain (workers/drain.py) and the reconciler share: a ticket's keys, declining,
giving up, and the failpoints.

Every step of a checkout is idempotent by the ticket, so a worker killed anywhere leaves state that the
reconciler completes: the reservation is recorded once in Redis, the order once by its idempotency
key, the charge once by the attempt's key.
"""

import os
import signal
import time

from flask import current_app

from admission import checkout, stock
from admission.checkout import Checkout, CheckoutState
from admission.keys import sale_keys
from admission.states import TicketState
from api.client import orders
from yakku.extensions import get_redis

DECLINED_CODES = frozenset({"payment_declined"})


def order_key(sale_id: int, ticket_id: str) -> str:
    """The idempotency key of a ticket's one order."""
    return f"sale:{sale_id}:ticket:{ticket_id}"


def charge_key(sale_id: int, ticket_id: str, attempt: int) -> str:
    """The idempotency key of one payment attempt for a ticket."""
    return f"{order_key(sale_id, ticket_id)}:attempt:{attempt}"


def declined(sale_id: int, ticket_id: str, order_id: int, attempt: int, state: Checkout, message: str) -> str:
    """Tell the shopper; while the ticket lasts and attempts remain, the units wait for another card."""
    expires_at = float(get_redis().hget(sale_keys(sale_id).ticket_expiry, ticket_id) or 0)
    if attempt < checkout.MAX_ATTEMPTS and time.time() < expires_at:
        state.state, state.message = CheckoutState.DECLINED, message or "Payment declined."
        checkout.record(sale_id, state)
        return state.state
    give_up(sale_id, ticket_id, order_id, TicketState.DECLINED)
    state.state, state.message = CheckoutState.FAILED, "Payment declined; the units went back on sale."
    checkout.record(sale_id, state)
    return state.state


def give_up(sale_id: int, ticket_id: str, order_id: int | None, final: TicketState) -> None:
    """Cancel the ticket's order and return its units to the counter (each once)."""
    if order_id is not None:
        orders().internal_cancel(order_id)
    stock.release(sale_id, ticket_id, final)


def sale_product(sale_id: int) -> int:
    """The product a sale sells, from its settings in Redis (the drain never reads SQL)."""
    return int(get_redis().hget(sale_keys(sale_id).settings, "product_id"))


def crash_point(step: str) -> None:
    """A failpoint: with CHECKOUT_CRASH_AT naming this step, the worker dies here as SIGKILL would kill it.

    The recovery tests run real worker processes with it set, to prove a death at any step is repaired.
    """
    if current_app.config.get("CHECKOUT_CRASH_AT") == step:
        os.kill(os.getpid(), signal.SIGKILL)
