"""Shop pages: home, catalog, product, wishlist, orders and checkout."""

from storefront.shop import catalog, orders, wishlist  # noqa: F401  (register the routes on bp)
from storefront.shop.blueprint import bp

__all__ = ["bp"]
