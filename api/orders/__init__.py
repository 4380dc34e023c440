"""The orders service."""

from apiflask import APIFlask

from api.common import register_security_schemes
from api.orders import audit, internal, views  # noqa: F401  (registers the routes on bp)
from api.orders.blueprint import bp

__all__ = ["bp", "init_app"]


def init_app(app: APIFlask) -> None:
    """The security schemes the orders' OpenAPI document names."""
    register_security_schemes(app)
