"""The orders endpoints other services call: sale orders (made and paid in batches only: a single
checkout is a batch of one), reads, moves, cancelling and settling."""

from flask import g

from api.auth import service_required
from api.common import error_responses
from api.orders import batch, lifecycle, services
from api.orders.batch_schemas import OrderList, PayBatchIn, PayBatchOut, SaleOrderBatchIn
from api.orders.blueprint import bp
from api.orders.schemas import OrderOut, OrderTransitionIn
from api.orders.states import OrderState

SERVICE_ONLY = {"security": "ServiceToken"}


@bp.post("/internal/batch")
@service_required
@bp.input(SaleOrderBatchIn)
@bp.output(OrderList, description="The orders, in the order asked (a ticket's key replays its order)")
@bp.doc(**SERVICE_ONLY, responses=error_responses(401, 409, 422))
def create_sale_orders(json_data: SaleOrderBatchIn):
    """Record many flash-sale orders in one transaction (the drain's batch); idempotent per ticket."""
    wanted = json_data.model_dump()
    return {"items": batch.create_sale_orders(wanted["sale_id"], wanted["orders"], wanted["units"])}


@bp.post("/internal/batch/pay")
@service_required
@bp.input(PayBatchIn)
@bp.output(PayBatchOut, description="Per order: the order after its payment, or why it was not paid")
@bp.doc(**SERVICE_ONLY, responses=error_responses(401, 422))
def pay_sale_orders(json_data: PayBatchIn):
    """Pay many sale orders with one call to payments (the drain's batch); idempotent per attempt key."""
    attempts = [
        {"order_id": p.order_id, "payment_method": p.payment_method, "attempt_key": p.idempotency_key}
        for p in json_data.payments
    ]
    answers = batch.pay_sale_orders(attempts)
    return {
        "items": [
            {
                "order_id": attempt["order_id"],
                "order": order,
                "error": error and {"code": error.code, "message": error.message, "fields": error.fields},
            }
            for attempt, (order, error) in zip(attempts, answers, strict=True)
        ]
    }


@bp.get("/internal/<int:order_id>")
@service_required
@bp.output(OrderOut)
@bp.doc(**SERVICE_ONLY, responses=error_responses(401, 404))
def internal_order(order_id: int):
    """Any order, for another service (payments checks amounts against it)."""
    return services.get_order(order_id)


@bp.post("/internal/<int:order_id>/transition")
@service_required
@bp.input(OrderTransitionIn)
@bp.output(OrderOut)
@bp.doc(**SERVICE_ONLY, responses=error_responses(401, 404, 409))
def transition_order(order_id: int, json_data: dict):
    """Move an order through the transition table (409 illegal_transition otherwise)."""
    reason = json_data["reason"] or f"moved by {g.calling_service}"
    return lifecycle.move(order_id, OrderState(json_data["to"]), reason)


@bp.post("/internal/<int:order_id>/cancel")
@service_required
@bp.output(OrderOut)
@bp.doc(**SERVICE_ONLY, responses=error_responses(401, 404, 409))
def internal_cancel_order(order_id: int):
    """Cancel (or refund) an order for another service; repeating it changes nothing."""
    return lifecycle.cancel(order_id, reason=f"cancelled by {g.calling_service}")


@bp.post("/internal/<int:order_id>/settle")
@service_required
@bp.output(OrderOut)
@bp.doc(**SERVICE_ONLY, responses=error_responses(401, 404))
def settle_order(order_id: int):
    """Settle a payment left pending, by asking payments what became of it (the reconciler)."""
    return lifecycle.settle_pending(order_id)
