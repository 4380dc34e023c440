"""What the wishlist service refuses, and why."""

from yakku.errors import Conflict, NotFound


class ProductNotFound(NotFound):
    code = "product_not_found"
    message = "This product does not exist or is no longer sold."


class NotInWishlist(NotFound):
    code = "not_in_wishlist"
    message = "This product is not on your wishlist."


class WishlistFull(Conflict):
    code = "wishlist_full"
    message = "Your wishlist is full; remove something first."
