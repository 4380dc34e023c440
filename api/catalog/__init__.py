"""The catalog service."""

from apiflask import APIBlueprint, APIFlask

from api.common import register_security_schemes

bp = APIBlueprint("catalog", __name__, url_prefix="/api/catalog", tag="Catalog")


def init_app(app: APIFlask) -> None:
    """The shop's currency, and the security schemes the catalog's OpenAPI document names."""
    app.config.setdefault("CATALOG_CURRENCY", "KRW")
    register_security_schemes(app)


from api.catalog import views  # noqa: E402, F401  (registers the routes on bp)
