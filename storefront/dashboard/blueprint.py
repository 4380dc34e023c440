"""The dashboard's blueprint under /ops, and its guard: operators only."""

from flask import Blueprint, redirect, request, url_for

from storefront.errors import error_response
from storefront.session import current_shopper

bp = Blueprint("dashboard", __name__, url_prefix="/ops")

OPERATOR = "operator"


@bp.before_request
def _operators_only():
    """A visitor signs in first; a signed-in shopper is told, readably, that this is not for them."""
    account = current_shopper()
    if account is None:
        return redirect(url_for("account.login", next=request.full_path.rstrip("?")))
    if account.get("role") != OPERATOR:
        return error_response(403, "The dashboard is for the shop's operators.", "Operators only")
    return None
