"""Shop pages: home, catalog, product, wishlist, cart, orders and checkout."""

from flask import Blueprint

bp = Blueprint("shop", __name__)

from storefront.shop import cart, catalog, orders, wishlist  # noqa: E402, F401  (register the routes on bp)
