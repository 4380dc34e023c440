"""The payments side of a sale's audit: how many captures each order has."""

from apiflask import Schema
from apiflask.fields import Dict, Integer, List
from apiflask.validators import Length
from sqlalchemy import func, select

from api.auth import service_required
from api.payments.blueprint import bp
from api.payments.models import Payment
from api.payments.states import PaymentState
from yakku.extensions import db

MAX_ORDERS = 100_000


class OrdersIn(Schema):
    order_ids = List(Integer(strict=True), required=True, validate=Length(max=MAX_ORDERS))


class CapturesOut(Schema):
    payments_by_state = Dict()
    captured_by_order = Dict(keys=Integer(), values=Integer())


def captures(order_ids: list[int]) -> dict:
    """Per order, how many payments are captured; and all their payments counted by state."""
    by_state: dict[str, int] = {}
    captured: dict[int, int] = dict.fromkeys(order_ids, 0)
    for start in range(0, len(order_ids), 1000):  # keep each IN list a size every backend accepts
        chunk = order_ids[start : start + 1000]
        rows = db.session.execute(
            select(Payment.order_id, Payment.state, func.count(Payment.id))
            .where(Payment.order_id.in_(chunk))
            .group_by(Payment.order_id, Payment.state)
        ).all()
        for order_id, state, count in rows:
            by_state[str(state)] = by_state.get(str(state), 0) + count
            if state == PaymentState.CAPTURED:
                captured[order_id] = count
    return {"payments_by_state": by_state, "captured_by_order": captured}


@bp.post("/internal/captures")
@service_required
@bp.input(OrdersIn)
@bp.output(CapturesOut)
@bp.doc(security="ServiceToken", responses=[401, 422])
def order_captures(json_data: dict):
    """How many captured payments each of these orders has (the audit wants exactly one per paid order)."""
    return captures(json_data["order_ids"])
