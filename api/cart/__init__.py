"""The cart service: what each account means to buy next, kept across logins, apart from the wishlist."""

from apiflask import APIFlask

from api.cart import views  # noqa: F401  (registers the routes on bp)
from api.cart.blueprint import bp
from api.common import register_security_schemes

__all__ = ["bp", "init_app"]


def init_app(app: APIFlask) -> None:
    """The security scheme the cart's OpenAPI document names."""
    register_security_schemes(app)
