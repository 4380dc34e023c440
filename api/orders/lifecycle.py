"""What happens to an order after it is placed: paying, settling, cancelling, refunding.

No database lock is held across a call to another service: a row lock decides who may start a
step, the remote call runs unlocked, and a second lock records the outcome only if the order is
still where the step left it. Remote calls are idempotent by key, so a repeated step is harmless.
"""

import contextlib
import hashlib
import logging
from datetime import UTC, datetime, timedelta

from flask import current_app

from api.client.errors import ServiceError, ServiceRejected, ServiceUnavailable
from api.orders import remote
from api.orders.exceptions import (
    CardRejected,
    IllegalTransition,
    InsufficientStock,
    PaymentDeclined,
    PaymentInProgress,
    PaymentMethodExpired,
    SaleOrderManaged,
)
from api.orders.models import Order
from api.orders.services import apply_transition, get_order, lock_order, transition
from api.orders.states import SOLD, OrderSource, OrderState
from api.payments.states import PAYMENT_METHOD_EXPIRED, PaymentState
from workers.order_mail import OrderMail, enqueue_order_mail
from yakku.extensions import db

log = logging.getLogger(__name__)

HOLDING = frozenset({OrderState.CREATED, OrderState.PAYMENT_PENDING})
# The payments a refund goes through (a refunded one answers as it is: the refund is idempotent).
REFUNDABLE = frozenset({PaymentState.CAPTURED, PaymentState.REFUNDED})


def pay(order_id: int, pay_with: dict, attempt_key: str, account_id: int | None = None) -> Order:
    """Charge an order through payments with `pay_with` ({payment_method} or {card}); PAID,
    PAYMENT_PENDING (no answer yet) or an error.

    The attempt key makes the call safe to repeat: the same key resumes the same payment (the
    payments service never captures twice), a new key after a decline is a new attempt.
    """
    payment_key = f"order:{order_id}:{attempt_key}"
    order = _start_payment(order_id, account_id, attempt_key, payment_key)
    if order.state != OrderState.PAYMENT_PENDING:
        return order
    payload = {
        "order_id": order.id,
        "amount": order.total,
        "currency": order.currency,
        "idempotency_key": payment_key,
        **pay_with,
    }
    try:
        payment = remote.charge(payload)
    except (ServiceUnavailable, ServiceError) as error:
        return _charge_refused(order_id, payment_key, error)
    if payment["state"] != PaymentState.CAPTURED:
        return _finish(order_id, payment_key, OrderState.PAYMENT_FAILED, f"payment {payment['state']}")
    paid = _finish(order_id, payment_key, OrderState.PAID, "payment captured")
    if paid.payment_key != payment_key or paid.state not in SOLD:
        # The order moved on (cancelled, settled) while the card was charged: give the money back.
        remote.refund(payment["id"])
    return paid


def _start_payment(order_id: int, account_id: int | None, attempt_key: str, payment_key: str) -> Order:
    order = get_order(order_id, account_id)
    _only_the_sale_moves_its_orders(order, account_id)
    fresh_stock = None
    if order.payment_key != payment_key and order.state == OrderState.PAYMENT_FAILED:
        fresh_stock = _hold_again(order, attempt_key)
    order = lock_order(order_id, account_id)
    if order.payment_key == payment_key:
        db.session.commit()
        _give_back_unused(fresh_stock, order)
        if order.state == OrderState.PAYMENT_FAILED:
            raise PaymentDeclined("This attempt was declined; pay again with another card and a new key.")
        return order  # pending: resume it (payments answers the same payment); otherwise its outcome
    if order.state == OrderState.PAYMENT_PENDING:
        db.session.commit()
        _give_back_unused(fresh_stock, order)
        raise PaymentInProgress()
    if order.state == OrderState.PAYMENT_FAILED and order.source == OrderSource.SHOP:
        if fresh_stock is None:  # it failed after we looked: hold its units again, then retry the step
            db.session.commit()
            return _start_payment(order_id, account_id, attempt_key, payment_key)
        order.stock_key = fresh_stock
        fresh_stock = None
    try:
        apply_transition(order, OrderState.PAYMENT_PENDING, "payment started")
    except Exception:
        _give_back_unused(fresh_stock)
        raise
    order.payment_key = payment_key
    db.session.commit()
    return order


def _hold_again(order: Order, attempt_key: str) -> str | None:
    """Hold a declined shop order's units again under a new key; if they are gone, cancel the order."""
    if order.source != OrderSource.SHOP:
        return None
    # Hashed: the order's and the attempt's keys together can outgrow what the catalog accepts.
    key = f"order:{order.id}:retry:{hashlib.sha256(attempt_key.encode()).hexdigest()[:32]}"
    try:
        reservation = remote.reserve(key, order.items)
    except InsufficientStock:
        with contextlib.suppress(IllegalTransition):  # someone else moved it first: theirs stands
            transition(order.id, OrderState.CANCELLED, "stock gone before the payment retry")
        raise
    if reservation.get("state") != "held":
        raise InsufficientStock("The units held for this attempt were given back; pay with a new key.")
    return key


def _give_back_unused(stock_key: str | None, order: Order | None = None) -> None:
    # Two requests with one attempt key share one hold: if the other already made it the order's,
    # it is not ours to give back (that would free a paid order's units for a second buyer).
    if stock_key is not None and (order is None or stock_key != order.stock_key):
        remote.release(stock_key)


def _only_the_sale_moves_its_orders(order: Order, account_id: int | None) -> None:
    # A flash-sale order's units and ticket live in the sale's Redis counter, which only the sale's
    # checkout and reconciler keep in step: a shopper paying or refunding it here would split them.
    if account_id is not None and order.source == OrderSource.SALE:
        raise SaleOrderManaged()


def _charge_refused(order_id: int, payment_key: str, error: Exception) -> Order:
    if isinstance(error, ServiceUnavailable) or error.status >= 500:
        # No answer (or a provider timeout): the charge may or may not have happened. The order stays
        # pending and settle_pending() asks payments later; never guess either way.
        log.info("payment of order %s has no answer yet: %r", order_id, error)
        return get_order(order_id)
    if error.status == 402:
        code = _decline_code(error)
        _finish(order_id, payment_key, OrderState.PAYMENT_FAILED, f"declined: {code}", decline_code=code)
        raise PaymentDeclined(error.message, fields=error.fields)
    if isinstance(error, ServiceRejected) and error.code == PAYMENT_METHOD_EXPIRED:
        _finish(order_id, payment_key, OrderState.PAYMENT_FAILED, "payment method expired")
        raise PaymentMethodExpired(error.message, fields=error.fields)
    if isinstance(error, ServiceRejected) and error.status == 422:
        _finish(order_id, payment_key, OrderState.PAYMENT_FAILED, "card refused by payments")
        raise CardRejected(error.message, fields=error.fields)
    _finish(order_id, payment_key, OrderState.PAYMENT_FAILED, f"payments refused: {error.code}")
    raise error


def _decline_code(error: ServiceError) -> str:
    return str((error.fields or {}).get("decline_code", error.code))


def _finish(
    order_id: int, payment_key: str, target: OrderState, reason: str, decline_code: str | None = None
) -> Order:
    """Record a payment's outcome if the order still waits for that payment, then settle its stock."""
    order = lock_order(order_id)
    moved = order.state == OrderState.PAYMENT_PENDING and order.payment_key == payment_key
    if moved:
        apply_transition(order, target, reason)
    db.session.commit()
    sync_stock(order)
    if moved:  # only the call that recorded the outcome writes to the shopper: a replay stays quiet
        _tell_the_shopper(order, decline_code)
    return order


def _tell_the_shopper(order: Order, decline_code: str | None) -> None:
    """A shop order's confirmation or decline e-mail, or a sale order's "paid" when it settles paid late
    (the sale tells its own shopper of a decline)."""
    shop = order.source == OrderSource.SHOP
    if order.state == OrderState.PAID:
        enqueue_order_mail(order.id, OrderMail.CONFIRMED if shop else OrderMail.SALE_PAID)
    elif shop and order.state == OrderState.PAYMENT_FAILED and decline_code:
        enqueue_order_mail(order.id, OrderMail.DECLINED, decline_code)


def sync_stock(order: Order) -> None:
    """Make a shop order's catalog reservation match its state (each call is idempotent)."""
    if order.source != OrderSource.SHOP or not order.stock_key or order.state in HOLDING:
        return
    if order.state in SOLD:
        remote.commit(order.stock_key)
    else:
        remote.release(order.stock_key)


def settle_pending(order_id: int, min_age: timedelta | None = None) -> Order:
    """Settle an order whose payment got no answer, by asking payments what became of the charge.

    The reconciler calls it for orders left PAYMENT_PENDING; ones younger than `min_age` (default
    ORDER_SETTLE_AFTER_S) may still be in flight.
    """
    if min_age is None:
        min_age = timedelta(seconds=float(current_app.config["ORDER_SETTLE_AFTER_S"]))
    order = get_order(order_id)
    if order.state != OrderState.PAYMENT_PENDING:
        sync_stock(order)
        return order
    if _pending_since(order) > datetime.now(UTC) - min_age:
        return order
    key = order.payment_key
    payment = next((p for p in remote.payments_of(order_id) if p["idempotency_key"] == key), None)
    if payment is None:
        return _finish(order_id, key, OrderState.PAYMENT_FAILED, "the charge never reached payments")
    if payment["state"] == PaymentState.PENDING:
        payment = remote.settle_payment(payment["id"])
    if payment["state"] == PaymentState.CAPTURED:
        return _finish(order_id, key, OrderState.PAID, "payment captured (settled)")
    if payment["state"] in (PaymentState.DECLINED, PaymentState.FAILED):
        return _finish(order_id, key, OrderState.PAYMENT_FAILED, f"payment {payment['state']}")
    return get_order(order_id)


def _pending_since(order: Order) -> datetime:
    entered = [t.at for t in order.transitions if t.to_state == OrderState.PAYMENT_PENDING]
    moment = entered[-1] if entered else order.updated_at
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def cancel(order_id: int, account_id: int | None = None, reason: str = "cancelled by the shopper") -> Order:
    """Cancel an unpaid order (its units go back) or refund a paid one; repeating it changes nothing."""
    order = lock_order(order_id, account_id)
    state = OrderState(order.state)
    db.session.commit()
    _only_the_sale_moves_its_orders(order, account_id)
    if state in (OrderState.CANCELLED, OrderState.REFUNDED):
        return order
    if state == OrderState.PAID:
        return _refund(order, reason)
    order = transition(order_id, OrderState.CANCELLED, reason, account_id)
    sync_stock(order)
    return order


def _refund(order: Order, reason: str) -> Order:
    captured = [p for p in remote.payments_of(order.id) if p["state"] in REFUNDABLE]
    for payment in captured:
        remote.refund(payment["id"])
    order = lock_order(order.id)
    refunded = order.state == OrderState.PAID
    if refunded:
        apply_transition(order, OrderState.REFUNDED, f"{reason}: refunded")
    db.session.commit()
    sync_stock(order)
    if refunded and captured:
        enqueue_order_mail(order.id, OrderMail.REFUNDED)
    return order


def move(order_id: int, target: OrderState, reason: str) -> Order:
    """An internal caller's move through the table, with the stock effect the new state implies."""
    order = transition(order_id, target, reason)
    sync_stock(order)
    return order
