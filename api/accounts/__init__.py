"""The accounts service."""

from apiflask import APIBlueprint

bp = APIBlueprint("accounts", __name__, url_prefix="/api/accounts", tag="Accounts")
