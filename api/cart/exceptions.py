"""What the cart refuses, and why."""

from yakku.errors import Conflict, NotFound


class ProductNotFound(NotFound):
    code = "product_not_found"
    message = "This product does not exist or is no longer sold."


class NotInCart(NotFound):
    code = "not_in_cart"
    message = "This product is not in your cart."


class CartFull(Conflict):
    code = "cart_full"
    message = "Your cart is full; check out or remove something first."


class NotEnoughStock(Conflict):
    """More units than the shop has: the cart never promises what the catalog cannot sell."""

    code = "not_enough_stock"
    message = "There are not that many left."
