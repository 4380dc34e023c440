"""The cart service's blueprint: every view module of the area registers its routes on it."""

from apiflask import APIBlueprint

bp = APIBlueprint("cart", __name__, url_prefix="/api/cart", tag="Cart")
