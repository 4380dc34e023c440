"""Account pages: sign up, check your e-mail, verify, log in, log out."""

from flask import Blueprint

bp = Blueprint("account", __name__, url_prefix="/account")

from storefront.account import views  # noqa: E402, F401  (registers the routes on bp)
