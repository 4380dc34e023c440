"""Unpaid shop orders give their units back: cancelled once UNPAID_ORDER_HOLD_MINUTES have passed.

An order holds its units in the catalog from the moment it is placed; unpaid, it held them forever,
and one account made four products unbuyable. The reconciler's periodic sweep (queued by the
admitter every RECONCILE_EVERY_S) calls expire_unpaid_orders.
"""

from datetime import UTC, datetime, timedelta

from flask import current_app
from sqlalchemy import select

from api.orders.exceptions import IllegalTransition
from api.orders.lifecycle import sync_stock
from api.orders.models import Order
from api.orders.services import transition
from api.orders.states import OrderSource, OrderState
from yakku.extensions import db

# Created (holding units) or declined (holding none until a retry holds them again): never a pending
# payment, which the reconciler settles, and never a paid one.
EXPIRABLE = (OrderState.CREATED, OrderState.PAYMENT_FAILED)


def hold_window() -> timedelta:
    """How long an unpaid shop order keeps its units."""
    return timedelta(minutes=float(current_app.config["UNPAID_ORDER_HOLD_MINUTES"]))


def expire_unpaid_orders(now: datetime | None = None, batch: int = 500) -> int:
    """Cancel the shop orders left unpaid past the hold window and return their units; how many."""
    cutoff = (now or datetime.now(UTC)) - hold_window()
    stale = db.session.scalars(
        select(Order.id)
        .where(Order.source == OrderSource.SHOP, Order.state.in_(EXPIRABLE), Order.created_at < cutoff)
        .order_by(Order.id)
        .limit(batch)
    ).all()
    db.session.rollback()  # no read transaction held across the catalog calls
    return sum(_expire(order_id) for order_id in stale)


def _expire(order_id: int) -> bool:
    # transition() locks the row and checks the move again: an order whose payment started (or was
    # paid) since the query above cannot be cancelled, and is left as it is.
    try:
        order = transition(order_id, OrderState.CANCELLED, "unpaid: the hold on its units expired")
    except IllegalTransition:
        return False
    sync_stock(order)
    return True
