"""The shopper pages and fragments; the waiting room and the operator dashboard register beside them.

Layout: `shop/` (catalog, product, wishlist, orders, checkout) and `account/` (sign-up, verify, log in,
log out) are blueprints; this package holds what they share: the base layout and its templates, the
shopper's session, the one mapping from service errors to readable HTML, and the formatting filters.
"""

from flask import Blueprint, Flask, request
from flask.wrappers import Response
from htmx_flask import Htmx

from storefront import account, dashboard, errors, formatting, sale, session, shop

bp = Blueprint("storefront", __name__, template_folder="templates")


def init_app(app: Flask) -> None:
    """Register the storefront's blueprints, error pages, filters and session settings."""
    Htmx(app)
    session.configure(app)
    app.register_blueprint(bp)
    app.register_blueprint(shop.bp)
    app.register_blueprint(account.bp)
    sale.init_app(app)
    dashboard.init_app(app)
    errors.register(app)
    formatting.register(app)
    app.before_request(_ended_sessions_sign_in_again)
    app.after_request(_vary_on_htmx)


def _ended_sessions_sign_in_again():
    """A session ended elsewhere (logout, account deleted) sends this copy to the login page, first thing."""
    if not session.check_session():
        return errors.send_to_log_in(session.SessionEnded())
    return None


def _vary_on_htmx(response: Response) -> Response:
    """Every page may answer a fragment (or an error fragment) to htmx, so caches must key on the header."""
    if request.endpoint != "static":
        response.vary.add("HX-Request")
    return response
