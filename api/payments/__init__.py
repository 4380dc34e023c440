"""The payments service."""

from apiflask import APIBlueprint

bp = APIBlueprint("payments", __name__, url_prefix="/api/payments", tag="Payments")
