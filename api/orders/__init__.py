"""The orders service."""

from apiflask import APIBlueprint, APIFlask

from api.common import register_security_schemes

bp = APIBlueprint("orders", __name__, url_prefix="/api/orders", tag="Orders")


def init_app(app: APIFlask) -> None:
    """The security schemes the orders' OpenAPI document names."""
    register_security_schemes(app)


from api.orders import audit, internal, views  # noqa: E402, F401  (registers the routes on bp)
