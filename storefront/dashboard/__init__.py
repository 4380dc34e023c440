"""The operator dashboard under /ops: sales, their lifecycle and live figures, the audit, the queues.

Actions go through the sales API with the operator's own token; live figures are read from Redis.
"""

from flask import Blueprint, Flask, redirect, request, url_for

from storefront.errors import error_response
from storefront.session import current_shopper

bp = Blueprint("dashboard", __name__, url_prefix="/ops")

OPERATOR = "operator"


def init_app(app: Flask) -> None:
    """Register the dashboard's pages."""
    from storefront.dashboard import views  # noqa: F401  (register the routes on bp)

    app.register_blueprint(bp)


@bp.before_request
def _operators_only():
    """A visitor signs in first; a signed-in shopper is told, readably, that this is not for them."""
    account = current_shopper()
    if account is None:
        return redirect(url_for("account.login", next=request.full_path.rstrip("?")))
    if account.get("role") != OPERATOR:
        return error_response(403, "The dashboard is for the shop's operators.", "Operators only")
    return None
