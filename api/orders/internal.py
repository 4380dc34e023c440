"""The orders endpoints other services call: sale orders, reads, moves, payment and settling."""

from flask import g

from api.auth import service_required
from api.common import error_responses
from api.orders import bp, lifecycle, services
from api.orders.keys import card_of, idempotency_key
from api.orders.schemas import OrderOut, OrderPayIn, OrderTransitionIn, SaleOrderIn
from api.orders.states import OrderState

SERVICE_ONLY = {"security": "ServiceToken"}


@bp.post("/internal")
@service_required
@bp.input(SaleOrderIn)
@bp.output(OrderOut, status_code=201, description="A new sale order (200 when the ticket replays one)")
@bp.doc(**SERVICE_ONLY, responses=error_responses(401, 409, 422))
def create_sale_order(json_data: dict):
    """Record a flash-sale order whose units the sale already took; idempotent by the ticket."""
    order, created = services.create_sale_order(
        json_data["account_id"], json_data["sale_id"], json_data["items"], json_data["idempotency_key"]
    )
    return order, 201 if created else 200


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


@bp.post("/internal/<int:order_id>/pay")
@service_required
@bp.input(OrderPayIn)
@bp.output(OrderOut, description="Paid (202 while the provider has not answered yet)")
@bp.doc(**SERVICE_ONLY, responses=error_responses(401, 402, 404, 409, 422))
def internal_pay_order(order_id: int, json_data: dict):
    """Pay an order for its shopper (the flash-sale drain); idempotent by key."""
    order = lifecycle.pay(order_id, card_of(json_data), idempotency_key(json_data))
    return order, 202 if order.state == OrderState.PAYMENT_PENDING else 200


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
