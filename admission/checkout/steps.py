"""What the drain and the reconciler share: a ticket's idempotency keys, its orders and payments made in
batches, declining, giving up, and the failpoints.

Every step of a checkout is idempotent by the ticket, so a worker killed anywhere leaves state that the
reconciler completes: the reservation is recorded once in Redis, the order once by its idempotency key,
the charge once by the attempt's key. A single checkout is a batch of one: the orders service makes and
pays sale orders only in batches.
"""

import os
import signal

from flask import current_app

from admission import stock
from admission.checkout import records
from admission.checkout.records import Checkout, CheckoutRequest, CheckoutState
from admission.keys import sale_keys
from admission.models import DECLINE_GRACE_S
from admission.states import TicketState
from api.client import orders
from api.payments.states import PAYMENT_DECLINED, PAYMENT_METHOD_EXPIRED, DeclineCode
from yakku.extensions import get_sales_redis

# The refusals after which the shopper may submit another card (or the same one again) while the ticket
# lasts: a decline, and a card token that expired before the charge (nothing was charged).
DECLINED_CODES = frozenset({PAYMENT_DECLINED, PAYMENT_METHOD_EXPIRED})
ENTER_AGAIN = "Your card details expired before the payment went through; enter the card again."
PAID = "Your order is paid."
AWAITING_PROVIDER = "Waiting for the payment provider."
GAVE_UP = "Payment declined; the units went back on sale."


def order_key(sale_id: int, ticket_id: str) -> str:
    """The idempotency key of a ticket's one order."""
    return f"sale:{sale_id}:ticket:{ticket_id}"


def charge_key(sale_id: int, ticket_id: str, attempt: int) -> str:
    """The idempotency key of one payment attempt for a ticket."""
    return f"{order_key(sale_id, ticket_id)}:attempt:{attempt}"


def sale_product(sale_id: int) -> tuple[int, int]:
    """(the product a sale sells, its units), from its settings in Redis (the drain never reads SQL)."""
    product_id, units = get_sales_redis().hmget(sale_keys(sale_id).settings, "product_id", "units")
    return int(product_id), int(units)


def make_orders(sale_id: int, wanted: list[tuple[int, str, int]]) -> list[dict]:
    """The sale orders of (shopper, ticket, units), made in one call (a ticket's key finds its order
    again); the orders, in the order asked."""
    if not wanted:
        return []
    product_id, units = sale_product(sale_id)
    body = {
        "sale_id": sale_id,
        "units": units,  # the orders service's own bound on the sale (api/orders/batch.py _room)
        "orders": [
            {
                "account_id": shopper_id,
                "items": [{"product_id": product_id, "quantity": units}],
                "idempotency_key": order_key(sale_id, ticket_id),
            }
            for shopper_id, ticket_id, units in wanted
        ],
    }
    return orders().create_sale_orders(json=body)["items"]


def pay_orders(sale_id: int, unpaid: list[tuple[CheckoutRequest, Checkout]]) -> list[dict]:
    """Charge each checkout's order with its card's token, in one call: per checkout, {order, error}."""
    if not unpaid:
        return []
    payments = [
        {
            # A request listed before cards were tokenised has none: an unknown token, refused as expired.
            "payment_method": request.payment_method or "none",
            "order_id": checkout.order_id,
            "idempotency_key": charge_key(sale_id, request.ticket_id, request.attempt),
        }
        for request, checkout in unpaid
    ]
    return orders().pay_sale_orders(json={"payments": payments})["items"]


def refusal_message(error: dict) -> str:
    """What a shopper whose charge was refused reads: the card entered again for an expired token."""
    expired = error["code"] == PAYMENT_METHOD_EXPIRED
    if expired or (error.get("fields") or {}).get("decline_code") == DeclineCode.PAYMENT_METHOD_EXPIRED:
        return ENTER_AGAIN
    return error["message"]


def declined(
    sale_id: int, request: CheckoutRequest, checkout: Checkout, message: str, now: float
) -> Checkout:
    """The checkout of a declined card: while the ticket lasts and attempts remain, the units wait for
    another card; otherwise the order is cancelled and the units go back. Not recorded: the caller does."""
    keys = sale_keys(sale_id)
    expires_at = float(get_sales_redis().hget(keys.ticket_expiry, request.ticket_id) or 0)
    if request.attempt < records.MAX_ATTEMPTS and now < expires_at:
        # Past the grace, with no other card tried, the units go back: the admitter asks for the
        # reconcile then (a second late, so the record's own time has lapsed too), not at the next sweep.
        lapses_at = now + decline_grace(sale_id) + 1
        get_sales_redis().zadd(keys.decline_lapses, {request.ticket_id: lapses_at})
        return checkout.tell(CheckoutState.DECLINED, message or "Payment declined.")
    give_up(sale_id, request.ticket_id, checkout.order_id, TicketState.DECLINED)
    return checkout.tell(CheckoutState.FAILED, GAVE_UP)


def give_up(sale_id: int, ticket_id: str, order_id: int | None, final: TicketState) -> None:
    """Cancel the ticket's order and return its units to the counter (each once)."""
    if order_id is not None:
        orders().internal_cancel(order_id)
    stock.release(sale_id, ticket_id, final)


def crash_point(step: str) -> None:
    """A failpoint: with CHECKOUT_CRASH_AT naming this step, the worker dies here as SIGKILL would kill it.

    The recovery tests run real worker processes with it set, to prove a death at any step is repaired.
    With CHECKOUT_PAUSE_AT naming it, the worker stops here instead (a long GC, a frozen VM, a hung
    process) until it is sent SIGCONT.
    """
    if current_app.config["CHECKOUT_CRASH_AT"] == step:
        os.kill(os.getpid(), signal.SIGKILL)
    if current_app.config["CHECKOUT_PAUSE_AT"] == step:
        os.kill(os.getpid(), signal.SIGSTOP)


def decline_grace(sale_id: int) -> float:
    """How long a declined card's units wait for another card in this sale, in seconds."""
    grace = get_sales_redis().hget(sale_keys(sale_id).settings, "decline_grace")
    return float(grace) if grace else float(DECLINE_GRACE_S)
