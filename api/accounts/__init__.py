"""The accounts service: sign-up, e-mail verification, login and tokens."""

from apiflask import APIBlueprint

bp = APIBlueprint("accounts", __name__, url_prefix="/api/accounts", tag="Accounts")

from api.accounts import views  # noqa: E402, F401  (views register themselves on bp)
from api.accounts.services import create_operator  # noqa: E402
from api.accounts.verification import VERIFY_PAGE_PATH  # noqa: E402

__all__ = ["VERIFY_PAGE_PATH", "bp", "create_operator"]
