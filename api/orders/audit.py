"""The orders side of a sale's audit and recovery: what the sale's orders add up to, and each of them."""

from apiflask import Schema
from apiflask.fields import Dict, Integer, List, Nested, String
from sqlalchemy import func, select

from api.auth import service_required
from api.orders.blueprint import bp
from api.orders.models import Order, OrderLine, SaleAllotment
from api.orders.states import OrderState
from yakku.extensions import db


class SaleOrdersOut(Schema):
    orders_by_state = Dict()
    units_by_state = Dict()
    orders = Integer()
    distinct_keys = Integer()
    most_units_one_shopper = Integer()
    paid_order_ids = List(Integer())
    cancelled_order_ids = List(Integer())
    allotment_committed = Integer(
        allow_none=True,
        metadata={"description": "The units the sale's allotment counts as being paid or sold, if recorded."},
    )


def sale_orders_summary(sale_id: int) -> dict:
    """Counts of a sale's orders and units by state, and the ids the payments audit checks."""
    rows = db.session.execute(
        select(Order.state, func.count(Order.id.distinct()), func.coalesce(func.sum(OrderLine.quantity), 0))
        .join(OrderLine, OrderLine.order_id == Order.id)
        .where(Order.sale_id == sale_id)
        .group_by(Order.state)
    ).all()
    per_shopper = (
        select(func.sum(OrderLine.quantity).label("units"))
        .join(Order, Order.id == OrderLine.order_id)
        .where(Order.sale_id == sale_id, Order.state == OrderState.PAID)
        .group_by(Order.account_id)
        .subquery()
    )
    keys = db.session.execute(
        select(func.count(Order.id), func.count(Order.idempotency_key.distinct())).where(
            Order.sale_id == sale_id
        )
    ).one()
    return {
        "orders_by_state": {str(state): count for state, count, _ in rows},
        "units_by_state": {str(state): int(units) for state, _, units in rows},
        "orders": keys[0],
        "distinct_keys": keys[1],
        "most_units_one_shopper": int(db.session.scalar(select(func.max(per_shopper.c.units))) or 0),
        "paid_order_ids": _ids(sale_id, OrderState.PAID),
        "cancelled_order_ids": _ids(sale_id, OrderState.CANCELLED),
        "allotment_committed": db.session.scalar(
            select(SaleAllotment.committed).where(SaleAllotment.sale_id == sale_id)
        ),
    }


def _ids(sale_id: int, state: OrderState) -> list[int]:
    return list(db.session.scalars(select(Order.id).where(Order.sale_id == sale_id, Order.state == state)))


@bp.get("/internal/sales/<int:sale_id>/summary")
@service_required
@bp.output(SaleOrdersOut)
@bp.doc(security="ServiceToken", responses=[401])
def sale_summary(sale_id: int):
    """What a sale's orders add up to, for its audit."""
    return sale_orders_summary(sale_id)


class SaleLedgerEntry(Schema):
    order_id = Integer()
    account_id = Integer()
    key = String(metadata={"description": "The idempotency key the sale made the order with."})
    state = String()
    units = Integer()


class SaleLedgerOut(Schema):
    allotment = Integer(allow_none=True, metadata={"description": "The sale's allotment, if recorded."})
    items = List(Nested(SaleLedgerEntry))


def sale_ledger(sale_id: int) -> dict:
    """Every order of a sale with its key, shopper, state and units, oldest first: what the sale's
    recovery rebuilds Redis from when Redis lost it (admission/recovery.py)."""
    rows = db.session.execute(
        select(Order.id, Order.account_id, Order.idempotency_key, Order.state, func.sum(OrderLine.quantity))
        .join(OrderLine, OrderLine.order_id == Order.id)
        .where(Order.sale_id == sale_id)
        .group_by(Order.id, Order.account_id, Order.idempotency_key, Order.state)
        .order_by(Order.id)
    ).all()
    return {
        "allotment": db.session.scalar(select(SaleAllotment.units).where(SaleAllotment.sale_id == sale_id)),
        "items": [
            {"order_id": i, "account_id": a, "key": key, "state": str(state), "units": int(units)}
            for i, a, key, state, units in rows
        ],
    }


@bp.get("/internal/sales/<int:sale_id>/ledger")
@service_required
@bp.output(SaleLedgerOut)
@bp.doc(security="ServiceToken", responses=[401])
def sale_ledger_view(sale_id: int):
    """Every order of a sale, for rebuilding its Redis state from the database."""
    return sale_ledger(sale_id)
