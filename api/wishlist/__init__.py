"""The wishlist service."""

from apiflask import APIFlask

from api.common import register_security_schemes
from api.wishlist import views  # noqa: F401  (registers the routes on bp)
from api.wishlist.blueprint import bp

__all__ = ["bp", "init_app"]


def init_app(app: APIFlask) -> None:
    """The security scheme the wishlist's OpenAPI document names."""
    register_security_schemes(app)
