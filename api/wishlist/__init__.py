"""The wishlist service."""

from apiflask import APIBlueprint

bp = APIBlueprint("wishlist", __name__, url_prefix="/api/wishlist", tag="Wishlist")
