"""The accounts service: sign-up, e-mail verification, login and tokens, password resets, the profile."""

from apiflask import APIFlask

from api.accounts import contacts, me_views, views  # noqa: F401  (views register themselves on bp)
from api.accounts.blueprint import bp
from api.accounts.passwords import hasher_for
from api.accounts.resets import RESET_PAGE_PATH
from api.accounts.services import create_operator
from api.accounts.verification import EMAIL_CHANGE_PAGE_PATH, VERIFY_PAGE_PATH

__all__ = [
    "EMAIL_CHANGE_PAGE_PATH",
    "RESET_PAGE_PATH",
    "VERIFY_PAGE_PATH",
    "bp",
    "create_operator",
    "init_app",
]


def init_app(app: APIFlask) -> None:
    """The area's defaults; refuse to start with a password-hash profile that does not exist, rather than
    at the first login."""
    # Seconds a password-reset link works: short, since whoever holds the link holds the account.
    app.config.setdefault("PASSWORD_RESET_MAX_AGE", 3600)
    hasher_for(app.config["PASSWORD_HASH_PROFILE"])
