"""The orders service."""

from apiflask import APIBlueprint

bp = APIBlueprint("orders", __name__, url_prefix="/api/orders", tag="Orders")
