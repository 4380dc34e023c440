"""The payments service."""

from apiflask import APIBlueprint, APIFlask

from api.common import register_security_schemes

bp = APIBlueprint("payments", __name__, url_prefix="/api/payments", tag="Payments")


def init_app(app: APIFlask) -> None:
    """The payment provider adapter, and the security schemes the payments' OpenAPI document names."""
    from api.payments import providers

    providers.init_app(app)
    register_security_schemes(app)


from api.payments import audit, views  # noqa: E402, F401  (registers the routes on bp)
