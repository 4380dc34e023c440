"""The cart's HTTP endpoints; the account always comes from the token, never the request."""

from api.auth import Role, current_account_id, login_required
from api.cart import services
from api.cart.blueprint import bp
from api.cart.schemas import CartItemOut, CartOut, QuantityIn

signed_in = login_required(Role.SHOPPER, Role.OPERATOR)
# Error responses are listed by status only: apiflask documents them with the app's error schema.
DOC = {"security": "BearerAuth", "responses": [401]}
ITEM_DOC = {"security": "BearerAuth", "responses": [401, 404, 409, 422]}


@bp.get("")
@signed_in
@bp.output(CartOut)
@bp.doc(**DOC)
def show():
    """The signed-in account's cart."""
    items = services.items_of(current_account_id())
    return {"items": items, "units": sum(item.quantity for item in items)}


@bp.post("/items/<int:product_id>")
@signed_in
@bp.input(QuantityIn)
@bp.output(CartItemOut)
@bp.doc(**ITEM_DOC)
def add(product_id: int, json_data: dict):
    """Add units of a product (on top of those already in the cart); 409 when the shop has fewer."""
    return services.add(current_account_id(), product_id, json_data["quantity"])


@bp.put("/items/<int:product_id>")
@signed_in
@bp.input(QuantityIn)
@bp.output(CartItemOut)
@bp.doc(**ITEM_DOC)
def set_quantity(product_id: int, json_data: dict):
    """Set the quantity of a product in the cart; raising it above the stock answers 409."""
    return services.set_quantity(current_account_id(), product_id, json_data["quantity"])


@bp.delete("/items/<int:product_id>")
@signed_in
@bp.output({}, status_code=204)
@bp.doc(**ITEM_DOC)
def remove(product_id: int):
    """Take a product out of the cart."""
    services.remove(current_account_id(), product_id)
    return ""


@bp.delete("")
@signed_in
@bp.output({}, status_code=204)
@bp.doc(**DOC)
def clear():
    """Empty the cart."""
    services.clear(current_account_id())
    return ""
