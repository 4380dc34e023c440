"""The wishlist's HTTP endpoints; the account always comes from the token, never the request."""

from api.auth import Role, current_account_id, login_required
from api.wishlist import services
from api.wishlist.blueprint import bp
from api.wishlist.schemas import QuantityChange, QuantityIn, WishlistItemOut, WishlistOut

signed_in = login_required(Role.SHOPPER, Role.OPERATOR)
# Error responses are listed by status only: apiflask documents them with the app's error schema.
DOC = {"security": "BearerAuth", "responses": [401]}
ITEM_DOC = {"security": "BearerAuth", "responses": [401, 404, 422]}


@bp.get("")
@signed_in
@bp.output(WishlistOut)
@bp.doc(**DOC)
def show():
    """The signed-in account's wishlist."""
    items = services.items_of(current_account_id())
    return {"items": items, "count": len(items)}


@bp.put("/items/<int:product_id>")
@signed_in
@bp.input(QuantityIn)
@bp.output(WishlistItemOut)
@bp.doc(**ITEM_DOC)
def put_item(product_id: int, json_data: dict):
    """Add a product (or set its quantity if it is there); doing it twice keeps one entry."""
    return services.put_item(current_account_id(), product_id, json_data["quantity"])


@bp.patch("/items/<int:product_id>")
@signed_in
@bp.input(QuantityChange)
@bp.output(WishlistItemOut)
@bp.doc(**ITEM_DOC)
def change_item(product_id: int, json_data: dict):
    """Change the quantity of a product on the wishlist."""
    return services.change_quantity(current_account_id(), product_id, json_data["quantity"])


@bp.delete("/items/<int:product_id>")
@signed_in
@bp.output({}, status_code=204)
@bp.doc(**ITEM_DOC)
def remove_item(product_id: int):
    """Take a product off the wishlist."""
    services.remove_item(current_account_id(), product_id)
    return ""


@bp.delete("")
@signed_in
@bp.output({}, status_code=204)
@bp.doc(**DOC)
def clear():
    """Empty the wishlist."""
    services.clear(current_account_id())
    return ""
