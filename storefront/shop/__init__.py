"""Shop pages: home, catalog, product, wishlist, cart, orders and checkout."""

from storefront.shop import cart, catalog, orders, wishlist  # noqa: F401  (register the routes on bp)
from storefront.shop.blueprint import bp

__all__ = ["bp"]
