"""The checkout drain: reserve units for a ticket, make its order, charge it, confirm or compensate.

Every step is idempotent by the ticket, so a worker killed anywhere leaves state that a retry of the
same job, or the reconciler, completes: the reservation is recorded once in Redis, the order once by
its idempotency key, the charge once by the attempt's key.
"""

import os
import signal
import time

from flask import current_app

from admission import checkout, stock
from admission.checkout import Checkout, CheckoutState
from admission.exceptions import (
    BadQuantity,
    InsufficientUnits,
    LimitExceeded,
    SoldOut,
    TicketExpired,
    TicketInvalid,
)
from admission.keys import sale_keys
from admission.states import TicketState
from api.client import orders
from api.client.errors import ServiceRejected
from yakku.extensions import get_redis

DECLINED_CODES = frozenset({"payment_declined"})


def order_key(sale_id: int, ticket_id: str) -> str:
    """The idempotency key of a ticket's one order."""
    return f"sale:{sale_id}:ticket:{ticket_id}"


def charge_key(sale_id: int, ticket_id: str, attempt: int) -> str:
    """The idempotency key of one payment attempt for a ticket."""
    return f"{order_key(sale_id, ticket_id)}:attempt:{attempt}"


def drain_checkout(
    sale_id: int, ticket_id: str, shopper_id: int, quantity: int, attempt: int, card: dict
) -> str:
    """Take one submitted checkout as far as it can go; the state it reached."""
    current = checkout.read(sale_id, ticket_id)
    if current and (current.state in checkout.FINAL_CHECKOUT_STATES or current.attempt > attempt):
        return current.state  # a duplicate or superseded job: the outcome is already told
    state = Checkout(ticket_id, CheckoutState.PROCESSING, attempt, quantity, current and current.order_id)
    checkout.record(sale_id, state)

    crash_point("before_reserve")
    refusal = _reserve(sale_id, ticket_id, quantity)
    crash_point("after_reserve")
    if refusal:
        state.state, state.message = refusal
        checkout.record(sale_id, state)
        return state.state

    order = orders(shopper_id).create_sale_order(
        json={
            "account_id": shopper_id,
            "sale_id": sale_id,
            "items": [
                {"product_id": sale_product(sale_id), "quantity": stock.reserved_units(sale_id, ticket_id)}
            ],
            "idempotency_key": order_key(sale_id, ticket_id),
        }
    )
    crash_point("after_order")
    state.order_id = order["id"]
    checkout.record(sale_id, state)
    return _charge(sale_id, ticket_id, order, attempt, card, state)


def _reserve(sale_id: int, ticket_id: str, quantity: int) -> tuple[CheckoutState, str] | None:
    try:
        stock.reserve(sale_id, ticket_id, quantity)
    except (SoldOut, InsufficientUnits) as refused:
        return CheckoutState.SOLD_OUT, refused.message
    except TicketExpired as refused:
        return CheckoutState.EXPIRED, refused.message
    except (LimitExceeded, BadQuantity, TicketInvalid) as refused:
        return CheckoutState.FAILED, refused.message
    return None


def _charge(sale_id: int, ticket_id: str, order: dict, attempt: int, card: dict, state: Checkout) -> str:
    if order["state"] != "paid":
        try:
            order = orders().internal_pay(
                order["id"], json={**card, "idempotency_key": charge_key(sale_id, ticket_id, attempt)}
            )
        except ServiceRejected as refused:
            if refused.code not in DECLINED_CODES:
                raise
            return declined(sale_id, ticket_id, order["id"], attempt, state, refused.message)
    crash_point("after_charge")
    if order["state"] == "paid":
        stock.confirm(sale_id, ticket_id)
        state.state, state.message = CheckoutState.PAID, "Your order is paid."
    else:  # the provider has not answered: the reconciler settles it
        state.message = "Waiting for the payment provider."
    checkout.record(sale_id, state)
    return state.state


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
