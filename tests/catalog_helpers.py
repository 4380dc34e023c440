"""Action helpers for catalog, stock and wishlist tests: products made through the service functions,
and the headers an internal caller (or an impostor) sends."""

import time

import jwt as pyjwt

from api.auth import SERVICE_AUDIENCE, SERVICE_TOKEN_HEADER, service_token
from api.catalog import services
from api.catalog.models import Product
from yakku.extensions import db


def add_product(app, name: str = "Celadon Mug", price: int = 32_000, stock: int = 10, **fields) -> int:
    """Put a product on sale directly through the catalog's service; its id."""
    with app.app_context():
        data = {"name": name, "price": price, "stock": stock, "description": "", **fields}
        return services.create_product(data).id


def stock_of(app, product_id: int) -> int:
    """A product's units on hand, read fresh from the database."""
    with app.app_context():
        return db.session.get(Product, product_id).stock


def service_headers(app, caller: str = "orders") -> dict:
    """The header another Yakku service sends: a token signed with the deployment's service key."""
    with app.app_context():
        return {SERVICE_TOKEN_HEADER: service_token(caller)}


def forged_service_headers(caller: str = "orders") -> dict:
    """A well-formed service token signed with a key that is not the deployment's."""
    now = int(time.time())
    claims = {"iss": caller, "aud": SERVICE_AUDIENCE, "iat": now, "exp": now + 60}
    return {
        SERVICE_TOKEN_HEADER: pyjwt.encode(
            claims, "a-key-that-is-not-the-deployments-service-secret", algorithm="HS256"
        )
    }


def expired_service_headers(app, caller: str = "orders") -> dict:
    """A service token signed with the right key that expired a minute ago."""
    past = int(time.time()) - 120
    claims = {"iss": caller, "aud": SERVICE_AUDIENCE, "iat": past, "exp": past + 60}
    secret = app.config["SERVICE_SECRET"]
    return {SERVICE_TOKEN_HEADER: pyjwt.encode(claims, secret, algorithm="HS256")}
