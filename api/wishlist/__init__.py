"""The wishlist service."""

from apiflask import APIBlueprint, APIFlask

from api.common import register_security_schemes

bp = APIBlueprint("wishlist", __name__, url_prefix="/api/wishlist", tag="Wishlist")


def init_app(app: APIFlask) -> None:
    """The security scheme the wishlist's OpenAPI document names."""
    register_security_schemes(app)


from api.wishlist import views  # noqa: E402, F401  (registers the routes on bp)
