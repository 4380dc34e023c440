"""The shopper's order endpoints: place, list, read, say where it goes, pay, cancel."""

from api.auth import Role, current_account_id, login_required
from api.common import PageQuery, error_responses
from api.orders import delivery, lifecycle, services
from api.orders.blueprint import bp
from api.orders.exceptions import NoDeliveryYet
from api.orders.keys import idempotency_key
from api.orders.schemas import AddressesOut, DeliveryIn, DeliveryOut, OrderIn, OrderOut, OrderPage, OrderPayIn
from api.orders.states import OrderState
from api.payments.cards import payment_of

SHOPPER = {"security": "BearerAuth"}
shopper_required = login_required(Role.SHOPPER, Role.OPERATOR)


@bp.post("")
@shopper_required
@bp.input(OrderIn)
@bp.output(OrderOut, status_code=201, description="A new order (200 when the key replays an earlier one)")
@bp.doc(**SHOPPER, responses=error_responses(401, 409, 422, 503))
def place_order(json_data: dict):
    """Order products at the catalog's prices, holding their units; idempotent by key."""
    key = idempotency_key(json_data)
    order, created = services.create_shop_order(current_account_id(), json_data["items"], key)
    return order, 201 if created else 200


@bp.get("")
@shopper_required
@bp.input(PageQuery, location="query")
@bp.output(OrderPage)
@bp.doc(**SHOPPER, responses=error_responses(401))
def my_orders(query_data: dict):
    """My orders, newest first."""
    return services.orders_of(current_account_id(), query_data["page"], query_data["per_page"])


@bp.get("/delivery/latest")
@shopper_required
@bp.output(DeliveryOut, description="The delivery details of my latest order that had some (404: none yet)")
@bp.doc(**SHOPPER, responses=error_responses(401, 404))
def my_latest_delivery():
    """Where my next order goes unless I say otherwise: my default address, else my last order's."""
    latest = delivery.latest_delivery(current_account_id())
    if latest is None:
        raise NoDeliveryYet()
    return latest


@bp.get("/delivery/addresses")
@shopper_required
@bp.output(AddressesOut)
@bp.doc(**SHOPPER, responses=error_responses(401))
def my_addresses():
    """My default address and the addresses my recent orders went to."""
    return delivery.addresses_of(current_account_id())


@bp.put("/delivery/default")
@shopper_required
@bp.input(DeliveryIn)
@bp.output(DeliveryOut)
@bp.doc(**SHOPPER, responses=error_responses(401, 422))
def set_my_default_address(json_data: dict):
    """Keep this address for my next orders: every checkout starts from it."""
    return delivery.set_default(current_account_id(), json_data)


@bp.delete("/delivery/default")
@shopper_required
@bp.output({}, status_code=204)
@bp.doc(**SHOPPER, responses=error_responses(401))
def forget_my_default_address():
    """Keep no default address: the checkout starts from my last order's again."""
    delivery.forget_default(current_account_id())
    return ""


@bp.put("/<int:order_id>/delivery")
@shopper_required
@bp.input(DeliveryIn)
@bp.output(DeliveryOut)
@bp.doc(**SHOPPER, responses=error_responses(401, 404, 409, 422))
def set_my_delivery(order_id: int, json_data: dict):
    """Where my unpaid order goes and which phone the courier calls."""
    return delivery.set_delivery(order_id, current_account_id(), json_data)


@bp.get("/<int:order_id>")
@shopper_required
@bp.output(OrderOut)
@bp.doc(**SHOPPER, responses=error_responses(401, 404))
def my_order(order_id: int):
    """One of my orders."""
    return services.get_order(order_id, current_account_id())


@bp.post("/<int:order_id>/pay")
@shopper_required
@bp.input(OrderPayIn)
@bp.output(OrderOut, description="Paid (202 while the provider has not answered yet)")
@bp.doc(**SHOPPER, responses=error_responses(401, 402, 404, 409, 422))
def pay_order(order_id: int, json_data: dict):
    """Pay my order with a payment-method token (or a card, which payments tokenises and never keeps);
    the key makes a repeated request resume the same payment."""
    key = idempotency_key(json_data)
    order = lifecycle.pay(order_id, payment_of(json_data), key, account_id=current_account_id())
    return order, 202 if order.state == OrderState.PAYMENT_PENDING else 200


@bp.post("/<int:order_id>/cancel")
@shopper_required
@bp.output(OrderOut)
@bp.doc(**SHOPPER, responses=error_responses(401, 404, 409))
def cancel_order(order_id: int):
    """Cancel my order: unpaid, its units go back to stock; paid, it is refunded first."""
    return lifecycle.cancel(order_id, current_account_id())
