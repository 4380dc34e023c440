"""The declarative service client and the registry it resolves services from.

from api.client import catalog
catalog().reserve_stock(json={"key": "order:1", "items": [...]})
"""

import redis
from flask import Flask

from api import SERVICES
from api.auth import sign_service_token
from api.client.base import ServiceClient
from api.client.registry import Resolver
from api.client.services import (
    AccountsClient,
    CartClient,
    CatalogClient,
    OrdersClient,
    PaymentsClient,
    SalesClient,
    WishlistClient,
)
from api.client.transport import Transport


class Clients:
    """The transports of one app, one per service, built on first use and shared by its threads."""

    def __init__(self, app: Flask):
        config = app.config
        # "sales" (the flash sale's API, from admission/) is served by the api process too.
        names = (*SERVICES, "sales")
        fallback = {name: config["SERVICE_URLS"].get(name, config["API_URL"]) for name in names}
        # Discovery reads the registry from the app's plain Redis; no connection opens until the first call.
        self.resolver = Resolver(
            redis.Redis.from_url(config["QUEUE_REDIS_URL"], decode_responses=True), fallback
        )
        secret, caller = config["SERVICE_SECRET"], config["SERVICE_NAME"] or app.name
        self.sign = lambda: sign_service_token(secret, caller)
        self.options = {
            "timeout": float(config["SERVICE_TIMEOUT"]),
            "connect_timeout": float(config["SERVICE_CONNECT_TIMEOUT"]),
            "attempts": int(config["SERVICE_ATTEMPTS"]),
            "breaker_fail_max": int(config["SERVICE_BREAKER_FAIL_MAX"]),
            "breaker_reset_seconds": float(config["SERVICE_BREAKER_RESET_SECONDS"]),
        }
        self._transports: dict[tuple[str, bool], Transport] = {}
        calls = config["SERVICE_INTERNAL_CALLS"]
        if calls not in INTERNAL_CALLS:
            raise ValueError(f"SERVICE_INTERNAL_CALLS is {calls!r}: one of {', '.join(INTERNAL_CALLS)}")
        # A service or a worker calls for the platform's own work, so every call it makes is internal
        # (orders asking catalog for a product inside a batch); the storefront calls for its shoppers.
        self.every_call_internal = calls == "all"

    def transport(self, service: str, internal: bool = False) -> Transport:
        """The transport of one service's public calls, or (`internal`) of the calls between services."""
        key = (service, internal)
        if key not in self._transports:
            built = Transport(service, self.resolver, self.sign, internal=internal, **self.options)
            self._transports.setdefault(key, built)
        return self._transports[key]


# Which of a process's calls go to the internal pool: every one, or those declared internal=True.
INTERNAL_CALLS = ("all", "marked")

# Every setting the client reads, with its default (README.md's table lists them as YAKKU_<NAME>).
DEFAULTS = {
    "SERVICE_URLS": {},  # service name -> base URL, where the registry has none (default: API_URL)
    "SERVICE_NAME": None,  # who this process says it is in service tokens (default: the app's name)
    "SERVICE_TIMEOUT": 5.0,  # seconds a call waits for its answer
    "SERVICE_CONNECT_TIMEOUT": 2.0,  # seconds to connect: a pool that is gone fails fast
    "SERVICE_ATTEMPTS": 3,  # tries of an idempotent call
    "SERVICE_BREAKER_FAIL_MAX": 5,  # failures in a row that open a service's breaker
    "SERVICE_BREAKER_RESET_SECONDS": 10,  # how long an open breaker refuses before a trial call
    "SERVICE_INTERNAL_CALLS": "all",  # the storefront's default is "marked" (yakku/factory.py)
}


def init_app(app: Flask) -> None:
    """Give the app its service clients, in app.extensions["yakku.client"]."""
    for name, value in DEFAULTS.items():
        app.config.setdefault(name, value)
    app.extensions["yakku.client"] = Clients(app)


def accounts(token: str | None = None) -> AccountsClient:
    return AccountsClient.for_current_app(token)


def catalog(token: str | None = None) -> CatalogClient:
    return CatalogClient.for_current_app(token)


def wishlist(token: str | None = None) -> WishlistClient:
    return WishlistClient.for_current_app(token)


def cart(token: str | None = None) -> CartClient:
    return CartClient.for_current_app(token)


def orders(token: str | None = None) -> OrdersClient:
    return OrdersClient.for_current_app(token)


def payments(token: str | None = None) -> PaymentsClient:
    return PaymentsClient.for_current_app(token)


def sales(token: str | None = None) -> SalesClient:
    return SalesClient.for_current_app(token)


__all__ = [
    "ServiceClient",
    "accounts",
    "cart",
    "catalog",
    "init_app",
    "orders",
    "payments",
    "sales",
    "wishlist",
]
