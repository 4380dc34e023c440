"""The accounts service: sign-up, e-mail verification, login and tokens."""

from apiflask import APIBlueprint, APIFlask

bp = APIBlueprint("accounts", __name__, url_prefix="/api/accounts", tag="Accounts")

from api.accounts import contacts, views  # noqa: E402, F401  (views register themselves on bp)
from api.accounts.passwords import hasher_for  # noqa: E402
from api.accounts.services import create_operator  # noqa: E402
from api.accounts.verification import VERIFY_PAGE_PATH  # noqa: E402

__all__ = ["VERIFY_PAGE_PATH", "bp", "create_operator", "init_app"]


def init_app(app: APIFlask) -> None:
    """Refuse to start with a password-hash profile that does not exist, rather than at the first login."""
    hasher_for(app.config["PASSWORD_HASH_PROFILE"])
