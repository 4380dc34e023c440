"""The catalog service."""

from apiflask import APIFlask

from api.catalog import views  # noqa: F401  (registers the routes on bp)
from api.catalog.blueprint import bp

__all__ = ["bp", "init_app"]
from api.catalog.models import DEFAULT_CURRENCY
from api.common import register_security_schemes


def init_app(app: APIFlask) -> None:
    """The shop's currency, and the security schemes the catalog's OpenAPI document names."""
    app.config.setdefault("CATALOG_CURRENCY", DEFAULT_CURRENCY)
    register_security_schemes(app)
