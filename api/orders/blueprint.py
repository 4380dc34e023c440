"""The orders service's blueprint: every view module of the area registers its routes on it."""

from apiflask import APIBlueprint

bp = APIBlueprint("orders", __name__, url_prefix="/api/orders", tag="Orders")
