"""The accounts service: sign-up, e-mail verification, login and tokens."""

from apiflask import APIFlask

from api.accounts import contacts, views  # noqa: F401  (views register themselves on bp)
from api.accounts.blueprint import bp
from api.accounts.passwords import hasher_for
from api.accounts.services import create_operator
from api.accounts.verification import VERIFY_PAGE_PATH

__all__ = ["VERIFY_PAGE_PATH", "bp", "create_operator", "init_app"]


def init_app(app: APIFlask) -> None:
    """Refuse to start with a password-hash profile that does not exist, rather than at the first login."""
    hasher_for(app.config["PASSWORD_HASH_PROFILE"])
