"""The wishlist service's blueprint: every view module of the area registers its routes on it."""

from apiflask import APIBlueprint

bp = APIBlueprint("wishlist", __name__, url_prefix="/api/wishlist", tag="Wishlist")
