"""The payments service."""

from apiflask import APIFlask

from api.common import register_security_schemes
from api.payments import audit, providers, views  # noqa: F401  (audit and views register routes on bp)
from api.payments.blueprint import bp

__all__ = ["bp", "init_app"]


# How long a tokenised card may wait to be charged: longer than a sale ticket's window and a drain's
# backlog, short enough that a token found later (in a log, a dump) is worth nothing.
PAYMENT_METHOD_TTL = 15 * 60


def init_app(app: APIFlask) -> None:
    """The payment provider adapter, and the security schemes the payments' OpenAPI document names."""
    ttl = int(app.config.setdefault("PAYMENT_METHOD_TTL", PAYMENT_METHOD_TTL))
    if ttl < 1:
        raise ValueError(f"PAYMENT_METHOD_TTL must be at least 1 second, not {ttl}")
    providers.init_app(app)
    register_security_schemes(app)
