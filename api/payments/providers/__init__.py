"""Payment provider adapters: the interface, the sandbox, and the choice of one per app."""

from flask import Flask, current_app

from api.payments.providers.base import (
    Card,
    ChargeRequest,
    PaymentMethod,
    PaymentProvider,
    ProviderError,
    ProviderResult,
    ProviderStatus,
    ProviderTimeout,
)
from api.payments.providers.sandbox import SandboxProvider

EXTENSION = "yakku.payment_provider"


def init_app(app: Flask) -> None:
    """Build the provider named by PAYMENT_PROVIDER (only "sandbox" ships) for this app."""
    name = app.config.setdefault("PAYMENT_PROVIDER", "sandbox")
    if name != "sandbox":
        raise ValueError(f"unknown payment provider: {name}")
    decline_rate = float(app.config.setdefault("SANDBOX_DECLINE_RATE", 0.0))
    if not 0 <= decline_rate <= 1:
        raise ValueError(f"SANDBOX_DECLINE_RATE must be between 0 and 1, not {decline_rate}")
    app.extensions[EXTENSION] = SandboxProvider(
        app.extensions["yakku.redis"],
        timeout=float(app.config.setdefault("SANDBOX_TIMEOUT", 0.2)),
        decline_rate=decline_rate,
    )


def get_provider() -> PaymentProvider:
    """The current app's payment provider."""
    return current_app.extensions[EXTENSION]


__all__ = [
    "Card",
    "ChargeRequest",
    "PaymentMethod",
    "PaymentProvider",
    "ProviderError",
    "ProviderResult",
    "ProviderStatus",
    "ProviderTimeout",
    "get_provider",
    "init_app",
]
