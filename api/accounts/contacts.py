"""Whom to write to about an account's orders: a service-only read, for the workers' e-mails.

Apart from views.py so the order e-mails need nothing from the shopper-facing endpoints.
"""

from api.accounts.blueprint import bp
from api.accounts.exceptions import AccountNotFound
from api.accounts.schemas import AccountOut
from api.accounts.services import get_account
from api.auth import service_required
from api.common import error_responses


@bp.get("/internal/<int:account_id>")
@service_required
@bp.output(AccountOut)
@bp.doc(security="ServiceToken", responses=error_responses(401, 404))
def internal_account(account_id: int):
    """An account's name and e-mail address, for another service that writes to the shopper."""
    account = get_account(account_id)
    if account is None:
        raise AccountNotFound()
    return account
