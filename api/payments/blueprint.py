"""The payments service's blueprint: every view module of the area registers its routes on it."""

from apiflask import APIBlueprint

bp = APIBlueprint("payments", __name__, url_prefix="/api/payments", tag="Payments")
