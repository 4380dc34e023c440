"""The accounts service's blueprint: every view module of the area registers its routes on it."""

from apiflask import APIBlueprint

bp = APIBlueprint("accounts", __name__, url_prefix="/api/accounts", tag="Accounts")
