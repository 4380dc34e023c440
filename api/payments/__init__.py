"""The payments service."""

from apiflask import APIFlask

from api.common import register_security_schemes
from api.payments import audit, providers, views  # noqa: F401  (audit and views register routes on bp)
from api.payments.blueprint import bp

__all__ = ["bp", "init_app"]


def init_app(app: APIFlask) -> None:
    """The payment provider adapter, and the security schemes the payments' OpenAPI document names."""
    providers.init_app(app)
    register_security_schemes(app)
