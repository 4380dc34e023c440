"""The cart service: what each account means to buy next, kept across logins, apart from the wishlist."""

from apiflask import APIBlueprint, APIFlask

from api.common import register_security_schemes

bp = APIBlueprint("cart", __name__, url_prefix="/api/cart", tag="Cart")


def init_app(app: APIFlask) -> None:
    """The security scheme the cart's OpenAPI document names."""
    register_security_schemes(app)


from api.cart import views  # noqa: E402, F401  (registers the routes on bp)
